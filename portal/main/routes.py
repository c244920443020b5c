"""Pages that belong to no domain: the home redirect, the language switch, /healthz."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, jsonify, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import text

from portal.extensions import db

bp = Blueprint("main", __name__)


def safe_next(target: str | None, default: str | None) -> str | None:
    """``target`` if it is a same-site path, else ``default``: what a form may redirect to
    after it (no open redirects) and what a notification may link to."""
    if not target:
        return default
    # Spaces, control characters and backslashes: browsers drop tabs and newlines inside
    # URLs and read "\" as "/" ("/\t/evil" becomes "//evil"), and a CR or LF cannot go
    # into a Location header at all.
    if any(ord(c) <= 0x20 or c in "\x7f\\" for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any database failure means "not healthy"
        current_app.logger.warning("healthz: database unreachable: %s", exc)
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok"), 200


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask every site for /favicon.ico (pages also link it from static/)."""
    return current_app.send_static_file("favicon.ico")


@bp.post("/language")
def set_language():
    from portal.users import services as user_services

    locale = request.form.get("locale", "")
    if locale in current_app.config["LANGUAGES"]:
        session["locale"] = locale
        if current_user.is_authenticated:
            user_services.set_locale(
                current_user._get_current_object(), locale, ip=request.remote_addr
            )
            db.session.commit()
    return redirect(safe_next(request.form.get("next"), url_for("main.index")))


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    from portal.accounts import services as account_services

    target = account_services.home_account_id(current_user._get_current_object())
    if target is None:
        return redirect(url_for("accounts.new"))
    return redirect(url_for("accounts.dashboard", account_id=target))
