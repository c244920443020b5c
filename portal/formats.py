"""Dates and numbers in the reader's locale and time zone, fast.

Flask-Babel's ``format_datetime`` / ``format_date`` / ``format_decimal`` find the babel
instance, the locale, the time zone and the pattern on every call (~22 µs for a date and
time, ~8 µs for a number), and a list page formats one or more per row. The filters here
give the same text: the request's locale and time zone are read once per request
(:func:`request_formats`, kept in ``g`` for this request only), and the compiled patterns
are per-process constants (one per locale and format, :func:`_date_patterns`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache

from babel import Locale, dates, numbers
from flask import g, has_request_context
from flask_babel import get_babel, get_locale, get_timezone

_NAMED = ("full", "long", "medium", "short")


@lru_cache(maxsize=64)
def _date_patterns(locale: Locale, kind: str, fmt: str):
    """``(glue, date pattern, time pattern)`` for a datetime, ``(None, date pattern, None)``
    for a date: what babel.dates.format_datetime / format_date compute on each call."""
    if kind == "date":
        pattern = dates.get_date_format(fmt, locale) if fmt in _NAMED else fmt
        return None, dates.parse_pattern(pattern), None
    if fmt in _NAMED:
        glue = dates.get_datetime_format(fmt, locale).replace("'", "")
        return (
            glue,
            dates.parse_pattern(dates.get_date_format(fmt, locale)),
            dates.parse_pattern(dates.get_time_format(fmt, locale)),
        )
    return None, dates.parse_pattern(fmt), None


@lru_cache(maxsize=64)
def _number_pattern(locale: Locale, fmt: str | None):
    """The compiled decimal pattern, and the group and minus signs when the pattern is the
    plain grouped integer one (then an ``int`` needs no Decimal arithmetic)."""
    pattern = numbers.parse_pattern(locale.decimal_formats[None] if fmt is None else fmt)
    plain = (
        pattern.grouping == (3, 3)
        and pattern.int_prec[0] <= 1
        and pattern.frac_prec[0] == 0
        and pattern.prefix == ("", "-")
        and pattern.suffix == ("", "")
        and pattern.scale == 0
        and not pattern.exp_prec
    )
    symbols = numbers.get_group_symbol(locale), numbers.get_minus_sign_symbol(locale)
    return pattern, (symbols if plain else None)


class Formats:
    """One request's formatting: its locale, time zone and the date formats Flask-Babel
    would use (``BABEL_DATE_FORMATS`` style overrides included)."""

    __slots__ = ("locale", "tzinfo", "_named")

    def __init__(self, locale: Locale, tzinfo, named: dict) -> None:
        self.locale = locale
        self.tzinfo = tzinfo
        self._named = named

    def _fmt(self, kind: str, fmt: str | None) -> str:
        # Flask-Babel's _get_format: the app's date_formats may map a named format.
        if fmt is None:
            fmt = self._named[kind]
        if fmt in _NAMED:
            mapped = self._named.get(f"{kind}.{fmt}")
            if mapped is not None:
                fmt = mapped
        return fmt

    def to_local(self, value: datetime) -> datetime:
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        tz = self.tzinfo
        value = value.astimezone(tz)
        normalize = getattr(tz, "normalize", None)  # pytz
        return normalize(value) if normalize is not None else value

    def datetime(self, value: datetime, fmt: str | None = "medium") -> str:
        """flask_babel.format_datetime(value, fmt)."""
        fmt = self._fmt("datetime", fmt)
        locale = self.locale
        glue, date_pattern, time_pattern = _date_patterns(locale, "datetime", fmt)
        value = self.to_local(value)
        if glue is None:
            return date_pattern.apply(value, locale)
        return glue.replace(
            "{0}", time_pattern.apply(value.timetz(), locale, reference_date=value.date())
        ).replace("{1}", date_pattern.apply(value.date(), locale))

    def date(self, value: date, fmt: str | None = "medium") -> str:
        """flask_babel.format_date(value, fmt)."""
        if isinstance(value, datetime):
            value = self.to_local(value).date()
        fmt = self._fmt("date", fmt)
        return _date_patterns(self.locale, "date", fmt)[1].apply(value, self.locale)

    def decimal(self, value, fmt: str | None = None) -> str:
        """flask_babel.format_decimal(value, fmt)."""
        pattern, plain = _number_pattern(self.locale, fmt)
        if plain is not None and type(value) is int:
            group, minus = plain
            text = f"{abs(value):,}"
            if group != ",":
                text = text.replace(",", group)
            return minus + text if value < 0 else text
        return pattern.apply(value, self.locale)


def request_formats() -> Formats:
    """The request's :class:`Formats`, made once per request. It is made again whenever
    Flask-Babel's own per-request locale or time zone changes (a ``force_locale`` block, an
    email in the recipient's language; ``flask_babel.refresh()``)."""
    if not has_request_context():
        return _new_formats()
    ns = g._get_current_object()
    ctx = getattr(ns, "_flask_babel", None)
    current = getattr(ns, "_portal_formats", None)
    if (
        current is not None
        and current.locale is getattr(ctx, "babel_locale", None)
        and current.tzinfo is getattr(ctx, "babel_tzinfo", None)
    ):
        return current
    current = ns._portal_formats = _new_formats()
    return current


def _new_formats() -> Formats:
    return Formats(get_locale(), get_timezone(), get_babel().instance.date_formats)
