"""Access keys (issue 10): credentials for S3 tools, shown once, rotated, scoped."""
