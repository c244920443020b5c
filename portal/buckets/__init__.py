"""Buckets: the list, one bucket (versioning, lifecycle rules, deletion)."""
