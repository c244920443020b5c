"""Jinja filters and the context every page gets (navigation, language, unread badge)."""

from __future__ import annotations

from decimal import Decimal

from flask import Flask, g, request
from flask_babel import (
    format_currency,
    get_locale,
    get_timezone,
)
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from jinja2 import Template, pass_eval_context
from markupsafe import Markup, escape
from sqlalchemy import select

from portal import links, permissions
from portal.extensions import db
from portal.formats import request_formats
from portal.i18n import LANGUAGE_NAMES
from portal.models import Account, AccountMember


class PortalTemplate(Template):
    """Jinja's Template, with a cheaper ``{% from "…" import … %}``.

    On every import Jinja checks whether the importing render has globals the imported
    template lacks (``ctx.globals_keys - self.globals.keys()``, a Python-level lookup of
    each of the ~30 globals in a ChainMap: ~17 µs), and a list row that imports a macro
    pays it on every row. Here the imported template's global names are kept as a set
    (refreshed whenever the render names one it lacks), and the check is one C-level subset
    test; when the render brings a new global, Jinja's own path answers as before."""

    def _get_default_module(self, ctx=None):
        if ctx is not None:
            known = self.__dict__.get("_portal_global_keys")
            if known is None or not ctx.globals_keys <= known:
                known = self._portal_global_keys = set(self.globals)
            if ctx.globals_keys <= known:
                ctx = None  # nothing new: Jinja's cached module, as its own check finds
        return super()._get_default_module(ctx)


def format_cnpj(value: str | None) -> str:
    """12ABC34501DE35 → 12.ABC.345/01DE-35 (the printed form of a CNPJ)."""
    if not value or len(value) != 14:
        return value or ""
    return f"{value[:2]}.{value[2:5]}.{value[5:8]}/{value[8:12]}-{value[12:]}"


def timezone_name() -> str:
    """The IANA name of the reader's time zone ("America/Sao_Paulo"), which pages name
    wherever they say "times are in your time zone"."""
    tz = get_timezone()
    return getattr(tz, "key", None) or getattr(tz, "zone", None) or str(tz)


SIZE_UNITS = ("B", "KB", "MB", "GB", "TB", "PB")


@pass_eval_context
def money(eval_ctx, value) -> str:
    """An amount in BRL in the reader's locale ("R$ 1.234,56"); in HTML, in a
    ``<span class="money">`` that never breaks inside itself (a text email gets the text)."""
    if value is None:
        return ""
    text = format_currency(value, "BRL")
    return Markup('<span class="money">%s</span>') % text if eval_ctx.autoescape else text


def format_size(value: int | None) -> str:
    """Bytes in human units, in the reader's locale: 1536 → "1,5 KB" (pt-BR). Units of
    1024, as the storage quota is stated (1 GB = 1024³ bytes)."""
    if value is None:
        return ""
    size = Decimal(int(value))
    unit = 0
    while size >= 1024 and unit < len(SIZE_UNITS) - 1:
        size /= 1024
        unit += 1
    formats = request_formats()
    if unit == 0:
        return f"{formats.decimal(int(value))} B"
    return f"{formats.decimal(size, '#,##0.#')} {SIZE_UNITS[unit]}"


def nav_accounts() -> list:
    """The signed-in person's organizations for the switcher, cached per request. The same
    statement reads the unread notifications count for the badge (an uncorrelated scalar
    subquery: one index-only count), so the layout costs one query, not two."""
    if not current_user.is_authenticated:
        return []
    if "nav_accounts" not in g:
        from portal.notifications.services import unread_count_statement

        unread = unread_count_statement(current_user.id).scalar_subquery().label("unread")
        rows = db.session.execute(
            select(Account.id, Account.name, Account.status, AccountMember.role, unread)
            .join(AccountMember, AccountMember.account_id == Account.id)
            .where(AccountMember.user_id == current_user.id)
            .order_by(Account.name, Account.id)
        ).all()
        g.nav_accounts = rows
        if rows:
            g.unread_notifications = rows[0].unread
    return g.nav_accounts


def unread_notifications() -> int:
    """The badge's count: read with the switcher's organizations when the layout drew them
    (:func:`nav_accounts`), else one index-only count."""
    from portal.notifications.services import unread_count

    if not current_user.is_authenticated:
        return 0
    if "unread_notifications" not in g:
        g.unread_notifications = unread_count(current_user._get_current_object())
    return g.unread_notifications


def format_datetime_filter(value, fmt="medium") -> str:
    return request_formats().datetime(value, fmt) if value else ""


def format_day_filter(value, fmt="medium") -> str:
    return request_formats().date(value, fmt) if value else ""


def format_number_filter(value) -> str:
    return request_formats().decimal(value) if value is not None else ""


def format_decimal_global(value, format=None) -> str:  # noqa: A002 - Flask-Babel's name
    return request_formats().decimal(value, format)


def form_action(
    url,
    label,
    target,
    confirm=None,
    kind="secondary",
    named=None,
    form_class=None,
    caller=None,
) -> Markup:
    """``action`` of templates/_macros/actions.html (a row action's form), in Python: the
    same HTML the macro wrote, escaped as autoescaping does, in a quarter of a macro call's
    time (a list page has one to four per row). Fields come from a ``{% call %}`` block's
    ``caller``."""
    form_class_attr = f' class="{escape(form_class)}"' if form_class else ""
    confirm_attr = f' hx-confirm="{escape(confirm)}"' if confirm else ""
    kind_attr = f' class="{escape(kind)}"' if kind else ""
    named_span = f'<span class="visually-hidden"> {escape(named)}</span>' if named else ""
    fields = caller() if caller is not None else ""
    url = escape(url)
    return Markup(  # noqa: S704 - every value escaped above; caller() is rendered markup
        f'<form method="post"{form_class_attr} action="{url}" hx-post="{url}"\n'
        f'        hx-target="{escape(target)}" hx-swap="outerHTML"{confirm_attr}>\n'
        f'    <input type="hidden" name="csrf_token" value="{escape(csrf_token())}">\n'
        f"    {fields}\n"
        f'    <button type="submit"{kind_attr}>{escape(label)}{named_span}</button>\n'
        f"  </form>"
    )


def csrf_token() -> str:
    """The form token, made once per request: Flask-WTF's ``generate_csrf`` re-reads its
    settings and the session on every call, and a list page has a form in every row."""
    token = g.get("_portal_csrf_token")
    if token is None:
        token = g._portal_csrf_token = generate_csrf()
    return token


def init_app(app: Flask) -> None:
    app.jinja_env.template_class = PortalTemplate
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["form_action"] = form_action  # _macros/actions.html's action
    app.jinja_env.globals["url_for"] = links.url_for  # Flask's, faster (portal.links)
    # Dates and numbers through the request's Formats (portal.formats): the same text as
    # Flask-Babel's format_* functions, without their per-call lookups.
    app.jinja_env.filters["datetime"] = format_datetime_filter
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["cnpj"] = format_cnpj
    app.jinja_env.filters["filesize"] = format_size
    app.jinja_env.filters["number"] = format_number_filter
    # Calendar days (due dates) and months (invoice periods), in the reader's language.
    app.jinja_env.filters["day"] = format_day_filter
    app.jinja_env.filters["month"] = lambda v: request_formats().date(v, "LLLL yyyy") if v else ""
    app.jinja_env.globals["nav_accounts"] = nav_accounts
    app.jinja_env.globals["unread_notifications"] = unread_notifications
    app.jinja_env.globals["can"] = permissions.can
    # Globals (not context processors) so that imported macros see them too.
    app.jinja_env.globals["format_decimal"] = format_decimal_global

    @app.context_processor
    def layout_context():
        locale = str(get_locale() or app.config["BABEL_DEFAULT_LOCALE"])
        return {
            "current_locale": locale,
            "html_lang": locale.replace("_", "-"),
            "languages": LANGUAGE_NAMES,
            "current_path": request.full_path.rstrip("?") if request else "/",
            "current_timezone": timezone_name(),
        }
