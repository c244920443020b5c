"""Where a bucket is reached: its region's S3 endpoint, path-style and virtual-hosted URLs,
and the aws cli line — all from configuration (``STORAGE_REGIONS``, ``S3_ENDPOINT``)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app


def regions() -> list[tuple[str, str]]:
    """The configured regions as (code, name); the first one is the default."""
    return list(current_app.config["STORAGE_REGIONS"])


def region_codes() -> list[str]:
    return [code for code, _name in regions()]


def region_name(code: str) -> str:
    """A region's name for people; an unknown code (a region no longer offered) as is."""
    return dict(regions()).get(code, code)


@dataclass(frozen=True)
class Endpoint:
    """How to reach bucket ``bucket`` in ``region``."""

    bucket: str
    region: str
    url: str  # the S3 API endpoint of the region

    @property
    def path_style(self) -> str:
        return f"{self.url}/{self.bucket}"

    @property
    def virtual_hosted(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{self.bucket}.{parts.netloc}"

    @property
    def dotted(self) -> bool:
        """A name with dots breaks the TLS certificate of virtual-hosted URLs (the
        wildcard covers one DNS label): such buckets use path-style URLs over HTTPS."""
        return "." in self.bucket and self.url.startswith("https://")

    @property
    def cli(self) -> str:
        return f"aws s3 ls s3://{self.bucket} --endpoint-url {self.url} --region {self.region}"

    def put_lifecycle_cli(self, filename: str) -> str:
        return (
            f"aws s3api put-bucket-lifecycle-configuration --bucket {self.bucket} "
            f"--lifecycle-configuration file://{filename} --endpoint-url {self.url}"
        )


def endpoint(bucket: str, region: str) -> Endpoint:
    template = current_app.config["S3_ENDPOINT"]
    return Endpoint(bucket, region, template.replace("{region}", region))
