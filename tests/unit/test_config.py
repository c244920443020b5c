"""Settings from the environment."""

import stat

import pytest

from portal import config
from portal.dbserver import to_sqlalchemy_url


def test_production_without_secret_key_refuses_to_start(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("PORTAL_ENV", "production")
    with pytest.raises(config.ConfigError, match="SECRET_KEY"):
        config.secret_key(tmp_path)
    monkeypatch.delenv("PORTAL_ENV")
    monkeypatch.setenv("FLASK_ENV", "production")
    with pytest.raises(config.ConfigError):
        config.secret_key(tmp_path)


def test_development_secret_key_is_generated_once_and_kept_private(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("PORTAL_ENV", raising=False)
    monkeypatch.delenv("FLASK_ENV", raising=False)
    first = config.secret_key(tmp_path)
    assert len(first) >= 40
    assert config.secret_key(tmp_path) == first
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600


def test_secret_key_from_environment_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "from-env")
    assert config.secret_key(tmp_path) == "from-env"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_database_urls_use_psycopg3(url, expected):
    assert to_sqlalchemy_url(url) == expected


def test_overrides_skip_the_embedded_server(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = config.from_environment(
        tmp_path, {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://x@y/z", "SECRET_KEY": "k"}
    )
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://x@y/z"
    assert not (tmp_path / "pgdata").exists()


def test_mail_settings_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MAIL_SERVER", "smtp.example.com")
    monkeypatch.setenv("MAIL_PORT", "587")
    monkeypatch.setenv("MAIL_USE_TLS", "true")
    settings = config.from_environment(
        tmp_path, {"SQLALCHEMY_DATABASE_URI": "x", "SECRET_KEY": "k"}
    )
    assert (settings["MAIL_SERVER"], settings["MAIL_PORT"], settings["MAIL_USE_TLS"]) == (
        "smtp.example.com",
        587,
        True,
    )


# ------------------------------------------------------------------- rate limits ---
def test_production_refuses_in_memory_rate_limits(monkeypatch, tmp_path):
    """memory:// counts per worker process: two gunicorn workers would double every limit."""
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    for value in (None, "memory://", "  "):
        if value is None:
            monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
        else:
            monkeypatch.setenv("RATELIMIT_STORAGE_URI", value)
        with pytest.raises(config.ConfigError, match=r"RATELIMIT_STORAGE_URI.*redis://"):
            config.from_environment(tmp_path, {"SQLALCHEMY_DATABASE_URI": "postgresql://x@y/z"})


def test_production_accepts_redis_and_development_keeps_memory(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0")
    settings = config.from_environment(
        tmp_path, {"SQLALCHEMY_DATABASE_URI": "postgresql://x@y/z", "SECRET_KEY": "k"}
    )
    assert settings["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"
    monkeypatch.delenv("PORTAL_ENV")
    monkeypatch.delenv("FLASK_ENV", raising=False)
    monkeypatch.delenv("RATELIMIT_STORAGE_URI")
    settings = config.from_environment(
        tmp_path, {"SQLALCHEMY_DATABASE_URI": "postgresql://x@y/z", "SECRET_KEY": "k"}
    )
    assert settings["RATELIMIT_STORAGE_URI"] == "memory://"


def test_a_production_start_with_memory_rate_limits_fails_with_the_reason(tmp_path):
    """The real start (what gunicorn imports) stops with the message, not a traceback
    somewhere later."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("RATELIMIT_STORAGE_URI", "FLASK_ENV", "DATABASE_URL")
    }
    env.update(
        PORTAL_ENV="production",
        SECRET_KEY="k" * 40,
        DATABASE_URL="postgresql://nobody@127.0.0.1:1/x",
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", "import wsgi"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "RATELIMIT_STORAGE_URI is memory://" in result.stderr
    assert "redis://" in result.stderr


def test_storage_settings_have_defaults(monkeypatch, tmp_path):
    monkeypatch.delenv("STORAGE_REGIONS", raising=False)
    monkeypatch.delenv("S3_ENDPOINT", raising=False)
    settings = config.from_environment(
        tmp_path, {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://x@y/z", "SECRET_KEY": "k"}
    )
    assert settings["STORAGE_REGIONS"] == [("sa-east-sp1", "São Paulo")]
    assert settings["S3_ENDPOINT"] == "https://s3.{region}.primecloud.com.br"
    assert settings["BUCKETS_PAGE_SIZE"] == 50


def test_storage_settings_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("STORAGE_REGIONS", "sa-east-sp1=São Paulo, sa-east-rj1=Rio de Janeiro,x1")
    monkeypatch.setenv("S3_ENDPOINT", "http://minio.internal:9000/")
    settings = config.from_environment(
        tmp_path, {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://x@y/z", "SECRET_KEY": "k"}
    )
    assert settings["STORAGE_REGIONS"] == [
        ("sa-east-sp1", "São Paulo"),
        ("sa-east-rj1", "Rio de Janeiro"),
        ("x1", "x1"),
    ]
    assert settings["S3_ENDPOINT"] == "http://minio.internal:9000"


@pytest.mark.parametrize(
    "regions", ["SA-EAST=São Paulo", "a" * 33, "sp1,sp1", "sp 1", "=São Paulo"]
)
def test_bad_regions_stop_the_start_with_a_message(regions):
    with pytest.raises(config.ConfigError, match="STORAGE_REGIONS"):
        config.storage_regions(regions)


@pytest.mark.parametrize(
    "endpoint", ["s3.primecloud.com.br", "ftp://s3.example.com", "https://s3.example.com/path"]
)
def test_bad_endpoints_stop_the_start_with_a_message(endpoint):
    with pytest.raises(config.ConfigError, match="S3_ENDPOINT"):
        config.s3_endpoint(endpoint)
