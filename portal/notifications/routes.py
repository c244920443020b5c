"""The signed-in person's notifications: unread first, newest first, keyset pages."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import gettext
from flask_login import login_required
from wtforms import HiddenField

from portal import web
from portal.extensions import db
from portal.main.routes import safe_next
from portal.notifications import messages, services
from portal.pagination import ListForm

bp = Blueprint("notifications", __name__)

CHANGED = "notifications-changed"  # the event the badge listens for (from body)


class NotificationsForm(ListForm):
    """No filters; the cursor is called ``after`` (the next rows come after it)."""

    keyset = services.ORDER
    before = HiddenField(name="after")


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


def _changed(body: str):
    """A swapped piece, and the event that makes the badge refresh itself."""
    response = current_app.make_response(body)
    response.headers["HX-Trigger"] = CHANGED
    return response


@bp.get("/notifications")
@login_required
def index():
    """The list. With htmx and a cursor ("Load more"), only the next rows and the next
    "Load more" item, appended in place of the old one; without JS, a page of its own."""
    form = NotificationsForm(formdata=request.args)
    after = form.cursor()  # a malformed one is Invalid: 422
    page = services.list_page(
        web.actor(), after, limit=web.page_size("NOTIFICATIONS_PAGE_SIZE", services.PAGE_SIZE)
    )
    context = _context(page, after)
    if web.is_partial() and after is not None:
        return render_template("notifications/_rows.html", **context)
    return web.render("notifications/index.html", "notifications/_list.html", **context)


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def mark_read(notification_id: int):
    row = services.mark_read(web.actor(), notification_id)
    db.session.commit()
    return web.done(
        None,
        url_for("notifications.index"),
        lambda: _changed(render_template("notifications/_row.html", row=row, **_context(None))),
    )


@bp.post("/notifications/read-all")
@login_required
def mark_all_read():
    services.mark_all_read(web.actor())
    db.session.commit()

    def swapped():
        page = services.list_page(
            web.actor(), None, limit=web.page_size("NOTIFICATIONS_PAGE_SIZE", services.PAGE_SIZE)
        )
        return _changed(render_template("notifications/_list.html", **_context(page)))

    return web.done(
        gettext("All notifications are marked as read."), url_for("notifications.index"), swapped
    )


@bp.get("/notifications/badge")
@login_required
def badge():
    """The unread badge alone, polled by htmx from every page."""
    return render_template("notifications/_badge.html")
