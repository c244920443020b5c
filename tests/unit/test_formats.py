"""portal.formats: the request's dates and numbers read exactly as Flask-Babel writes them
(both languages, time zones across daylight-saving changes, named and custom formats), and
the per-request memo follows a locale change (force_locale)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import flask_babel
import pytest
from flask_babel import force_locale

from portal import create_app
from portal.formats import request_formats


@pytest.fixture(scope="module")
def bare_app():
    # No database is touched: formatting needs the app's Babel settings only.
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "formats-test",
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none",
        }
    )


INSTANTS = [
    datetime(2026, 1, 1, 0, 0, tzinfo=UTC),
    datetime(2026, 5, 3, 12, 30, 5, tzinfo=UTC),
    datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),
    datetime(2018, 11, 4, 2, 30, tzinfo=UTC),  # São Paulo's last daylight-saving change
    datetime(2026, 3, 8, 7, 30, tzinfo=UTC),  # New York's
    datetime(2026, 3, 8, 7, 30),  # naive: UTC, as Flask-Babel reads it
] + [datetime(2025, 6, 1, 3, tzinfo=UTC) + timedelta(hours=37 * i) for i in range(30)]
NUMBERS = [0, 1, -1, 7, 999, 1000, -1000, 12345, 1234567, -987654321, 10**15]
NUMBERS += [Decimal("0"), Decimal("1.5"), Decimal("-1234.5678"), Decimal("1234567.891"), 2.5]
NUMBER_FORMATS = [None, "#,##0.00", "#,##0.#", "#,##0.00##"]


@pytest.mark.parametrize("language", ["pt-BR", "en"])
@pytest.mark.parametrize("zone", [None, "America/Sao_Paulo", "America/New_York", "UTC"])
def test_the_same_text_as_flask_babel(bare_app, language, zone, monkeypatch):
    if zone is not None:
        monkeypatch.setattr("portal.i18n.select_timezone", lambda: zone)
        monkeypatch.setattr(flask_babel.get_babel(bare_app), "timezone_selector", lambda: zone)
    with bare_app.test_request_context(headers={"Accept-Language": language}):
        f = request_formats()
        if zone is not None:
            assert str(f.tzinfo) == zone
        for instant in INSTANTS:
            for fmt in ("short", "medium", "long", "full", "dd/MM/yyyy HH:mm"):
                assert f.datetime(instant, fmt) == flask_babel.format_datetime(instant, fmt)
            for fmt in ("short", "medium", "long", "LLLL yyyy"):
                assert f.date(instant, fmt) == flask_babel.format_date(instant, fmt)
                day = instant.date()
                assert f.date(day, fmt) == flask_babel.format_date(day, fmt)
        assert f.date(date(2026, 2, 28)) == flask_babel.format_date(date(2026, 2, 28))
        for number in NUMBERS:
            for fmt in NUMBER_FORMATS:
                assert f.decimal(number, fmt) == flask_babel.format_decimal(number, fmt), (
                    number,
                    fmt,
                )


def test_once_per_request_and_again_for_another_locale(bare_app):
    with bare_app.test_request_context(headers={"Accept-Language": "pt-BR"}):
        first = request_formats()
        assert request_formats() is first
        assert first.decimal(1234567) == "1.234.567"
        with force_locale("en"):
            assert request_formats().decimal(1234567) == "1,234,567"
        assert request_formats().decimal(1234567) == "1.234.567"
    with bare_app.test_request_context(headers={"Accept-Language": "en"}):
        assert request_formats() is not first  # never shared between requests
        assert request_formats().decimal(-1234567) == "-1,234,567"


def test_filters_use_it(bare_app):
    with bare_app.test_request_context(headers={"Accept-Language": "pt-BR"}):
        env = bare_app.jinja_env
        instant = datetime(2026, 5, 3, 12, 30, tzinfo=UTC)
        html = env.from_string(
            "{{ t|datetime('short') }}|{{ t|datetime }}|{{ d|day }}|{{ d|month }}|{{ n|number }}"
            "|{{ none|datetime }}|{{ none|number }}|{{ 1536|filesize }}|{{ 10|filesize }}"
            "|{{ format_decimal(x, '#,##0.00') }}"
        ).render(t=instant, d=date(2026, 5, 3), n=1234567, none=None, x=Decimal("2.5"))
        assert html.split("|") == [
            flask_babel.format_datetime(instant, "short"),
            flask_babel.format_datetime(instant, "medium"),
            flask_babel.format_date(date(2026, 5, 3), "medium"),
            flask_babel.format_date(date(2026, 5, 3), "LLLL yyyy"),
            "1.234.567",
            "",
            "",
            "1,5 KB",
            "10 B",
            "2,50",
        ]
