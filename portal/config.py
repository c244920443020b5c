"""Settings from the environment.

Every setting has a development default except ``SECRET_KEY`` in production, whose absence
stops the start with a clear message. With no ``DATABASE_URL`` the portal starts an embedded
PostgreSQL under ``instance/`` (see :mod:`portal.dbserver`).
"""

from __future__ import annotations

import os
import re
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit


class ConfigError(RuntimeError):
    """The environment does not allow the portal to start."""


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def is_production() -> bool:
    return "production" in {
        os.environ.get("PORTAL_ENV", "").lower(),
        os.environ.get("FLASK_ENV", "").lower(),
    }


def secret_key(instance_path: Path) -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if is_production():
        raise ConfigError(
            "SECRET_KEY is not set. In production the portal needs a long random SECRET_KEY "
            "in the environment (for example: python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))')."
        )
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def check_ratelimit_storage(uri: str, production: bool) -> str:
    """Where rate-limit counters live. ``memory://`` counts per process: with several
    gunicorn workers every limit would be multiplied by their number, so production
    refuses it (use Redis: ``redis://host:6379/0``)."""
    uri = (uri or "").strip() or "memory://"
    if production and uri.startswith("memory://"):
        raise ConfigError(
            "RATELIMIT_STORAGE_URI is memory:// (the default). In production each worker "
            "process would keep its own counters, so every login and sign-up limit would be "
            "multiplied by the number of workers. Point it at a Redis server shared by every "
            "worker, for example RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0."
        )
    return uri


def database_url(instance_path: Path) -> str:
    from portal import dbserver

    url = os.environ.get("DATABASE_URL")
    if url:
        return dbserver.to_sqlalchemy_url(url)
    return dbserver.start(instance_path / "pgdata")


# Storage: where buckets live and the S3 endpoint customers point their tools at.
DEFAULT_REGIONS = "sa-east-sp1=São Paulo"
DEFAULT_S3_ENDPOINT = "https://s3.{region}.primecloud.com.br"
_REGION_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")


def storage_regions(value: str | None = None) -> list[tuple[str, str]]:
    """``STORAGE_REGIONS`` ("code=Name,code=Name", the first one the default) as
    [(code, name)]. A code is what the buckets table stores: lower-case letters, digits
    and hyphens, at most 32 characters."""
    value = DEFAULT_REGIONS if value is None or not value.strip() else value
    regions: list[tuple[str, str]] = []
    for item in value.split(","):
        code, _, label = item.strip().partition("=")
        code = code.strip()
        if not _REGION_CODE.match(code):
            raise ConfigError(
                f"STORAGE_REGIONS: {code!r} is not a region code (lower-case letters, digits "
                "and hyphens, at most 32 characters), in 'code=Name,code=Name'."
            )
        if code in (c for c, _n in regions):
            raise ConfigError(f"STORAGE_REGIONS: the region {code!r} is listed twice.")
        regions.append((code, label.strip() or code))
    return regions


def s3_endpoint(value: str | None = None) -> str:
    """``S3_ENDPOINT``: the S3 API's base URL; ``{region}`` is replaced by the bucket's
    region (one endpoint per region), and a fixed URL serves every region."""
    value = (value or DEFAULT_S3_ENDPOINT).strip().rstrip("/")
    parts = urlsplit(value.replace("{region}", "region"))
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
        raise ConfigError(
            f"S3_ENDPOINT: {value!r} must be an http(s) URL without a path, such as "
            f"{DEFAULT_S3_ENDPOINT}."
        )
    return value


def usage_prices(value: str | None = None):
    """``USAGE_PRICES``: "storage_gb_month=0.12,egress_gb=0.08,…" (portal/usage/pricing.py)."""
    from portal.usage.pricing import PricesError, parse_prices

    try:
        return parse_prices(value)
    except PricesError as exc:
        raise ConfigError(str(exc)) from None


def from_environment(instance_path: Path, overrides: dict | None = None) -> dict:
    """Settings for the app; ``overrides`` win, and the secret key and database are only
    looked up (or started) when the overrides do not provide them."""
    overrides = overrides or {}
    production = is_production()
    settings = {
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "PORTAL_ENV": "production" if production else "development",
        # Compiled templates are cached per process; in production they are never
        # re-checked against their files (None: Flask follows debug mode).
        "TEMPLATES_AUTO_RELOAD": False if production else None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DURATION": timedelta(days=30),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        # Behind a load balancer that sets X-Forwarded-For / -Proto / -Host.
        "TRUST_PROXY_HEADERS": _bool("TRUST_PROXY_HEADERS"),
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "PREFERRED_URL_SCHEME": os.environ.get(
            "PREFERRED_URL_SCHEME", "https" if production else "http"
        ),
        # Links in emails sent outside a request (CLI, retries) use this base.
        "PORTAL_BASE_URL": os.environ.get(
            "PORTAL_BASE_URL", f"http://127.0.0.1:{os.environ.get('PORT', '5000')}"
        ),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS"),
        "MAIL_USE_SSL": _bool("MAIL_USE_SSL"),
        "MAIL_TIMEOUT": float(os.environ.get("MAIL_TIMEOUT", "10")),
        "MAIL_DEFAULT_SENDER": os.environ.get(
            "MAIL_DEFAULT_SENDER", "PrimeCloud <no-reply@primecloud.com.br>"
        ),
        # Deliver queued emails right after the commit that queued them.
        "MAIL_DELIVER_AFTER_COMMIT": _bool("MAIL_DELIVER_AFTER_COMMIT", True),
        "BABEL_DEFAULT_LOCALE": "pt_BR",
        "BABEL_DEFAULT_TIMEZONE": "America/Sao_Paulo",
        "LANGUAGES": ["pt_BR", "en"],
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
        "LOGIN_LIMIT_PER_IP": os.environ.get("LOGIN_LIMIT_PER_IP", "20 per 5 minutes"),
        "LOGIN_LIMIT_PER_EMAIL": os.environ.get("LOGIN_LIMIT_PER_EMAIL", "5 per 5 minutes"),
        "STORAGE_REGIONS": storage_regions(os.environ.get("STORAGE_REGIONS")),
        "S3_ENDPOINT": s3_endpoint(os.environ.get("S3_ENDPOINT")),
        "BUCKETS_PAGE_SIZE": int(os.environ.get("BUCKETS_PAGE_SIZE", "50")),
        # Metered usage prices (portal/usage/pricing.py says why they are configuration).
        "USAGE_PRICES": usage_prices(os.environ.get("USAGE_PRICES")),
        # Invoices: the issuer printed on them, the PIX key they are paid to, days to pay.
        "ISSUER_NAME": os.environ.get("ISSUER_NAME", "PrimeCloud Serviços de Nuvem Ltda"),
        "ISSUER_CNPJ": os.environ.get("ISSUER_CNPJ", "40718592000104"),
        "ISSUER_ADDRESS": os.environ.get(
            "ISSUER_ADDRESS", "Av. Paulista, 1000, Bela Vista, São Paulo - SP, 01310-100"
        ),
        "ISSUER_CITY": os.environ.get("ISSUER_CITY", "SAO PAULO"),
        "PIX_KEY": os.environ.get("PIX_KEY", "financeiro@primecloud.com.br"),
        # The receiver's name in PIX codes (at most 25 characters, as the bank shows it).
        "PIX_MERCHANT_NAME": os.environ.get("PIX_MERCHANT_NAME", "PrimeCloud"),
        "INVOICE_DUE_DAYS": int(os.environ.get("INVOICE_DUE_DAYS", "10")),
    }
    settings.update(overrides)
    settings["RATELIMIT_STORAGE_URI"] = check_ratelimit_storage(
        settings["RATELIMIT_STORAGE_URI"], settings["PORTAL_ENV"] == "production"
    )
    if not settings.get("SECRET_KEY"):
        settings["SECRET_KEY"] = secret_key(instance_path)
    if not settings.get("SQLALCHEMY_DATABASE_URI"):
        settings["SQLALCHEMY_DATABASE_URI"] = database_url(instance_path)
    return settings
