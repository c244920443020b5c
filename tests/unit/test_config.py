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
