"""The signed-in person's notifications: unread first, newest first, keyset pages."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from portal import htmx
from portal.extensions import db
from portal.main.routes import safe_next
from portal.notifications import messages, services

bp = Blueprint("notifications", __name__)

CHANGED = "notifications-changed"  # the event the badge listens for (from body)


def _me():
    return current_user._get_current_object()


def _page_size() -> int:
    return int(current_app.config.get("NOTIFICATIONS_PAGE_SIZE", services.PAGE_SIZE))


def safe_link(link: str | None) -> str | None:
    """Notification links are same-site paths; anything else is not rendered as a link."""
    return safe_next(link, None)


def _context(page, after=None) -> dict:
    return {
        "listing": page,
        "after": after,
        "sentence": messages.render,
        "safe_link": safe_link,
    }


@bp.get("/notifications")
@login_required
def index():
    """The list. With htmx and a cursor ("Load more"), only the next rows and the next
    "Load more" item, appended in place of the old one; without JS, a page of its own."""
    token = request.args.get("after", "").strip()
    after = services.Cursor.decode(token) if token else None
    page = services.list_page(_me(), after, limit=_page_size())
    context = _context(page, after)
    if htmx.is_partial() and after is not None:
        return render_template("notifications/_rows.html", **context)
    return htmx.render("notifications/index.html", "notifications/_list.html", **context)


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def mark_read(notification_id: int):
    row = services.mark_read(_me(), notification_id)
    db.session.commit()
    if htmx.is_partial():
        response = current_app.make_response(
            render_template("notifications/_row.html", row=row, **_context(None))
        )
        response.headers["HX-Trigger"] = CHANGED
        return response
    return redirect(url_for("notifications.index"))


@bp.post("/notifications/read-all")
@login_required
def mark_all_read():
    services.mark_all_read(_me())
    db.session.commit()
    if htmx.is_partial():
        page = services.list_page(_me(), None, limit=_page_size())
        response = current_app.make_response(
            render_template("notifications/_list.html", **_context(page))
        )
        response.headers["HX-Trigger"] = CHANGED
        return response
    flash(gettext("All notifications are marked as read."), "success")
    return redirect(url_for("notifications.index"))


@bp.get("/notifications/badge")
@login_required
def badge():
    """The unread badge alone, polled by htmx from every page."""
    return render_template("notifications/_badge.html")
