"""/sessions: the signed-in person's sessions (browser and system, IP, last seen), each with
"Log out", and "Log out everywhere else". With htmx a row is swapped; without JavaScript
each action asks for a confirmation, then redirects back with a message.

Also here: on every request of a signed-in person, "last seen" is recorded — at most once
a minute per session (portal.sessions.services.touch), before the route does any work."""

from __future__ import annotations

from flask import Blueprint, Flask, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required

from portal import web
from portal.extensions import db
from portal.security import signed_in
from portal.sessions import services

bp = Blueprint("sessions", __name__)

PAGE = "sessions/index.html"
TABLE = "sessions/_sessions.html"


def _page(status: int = 200, row_errors=None, **extra):
    return web.render(
        PAGE,
        TABLE,
        status,
        listing=services.list_sessions(web.actor()),
        row_errors=row_errors or {},
        **extra,
    )


def _page_with_errors(errors: dict, *, session_id: int, error_field=None, extra=None):
    return _page(422, row_errors=errors)


SESSION = web.Rows(
    template="sessions/_session_row.html",
    name="s",
    reload=lambda session_id: services.session_row(web.actor(), session_id),
    page=_page_with_errors,
    columns=5,
)


@bp.get("/sessions")
@login_required
def index():
    return _page()


@bp.post("/sessions/<int:session_id>/revoke")
@login_required
def revoke(session_id: int):
    return SESSION.act(
        lambda: services.revoke(web.actor(), session_id, ip=web.client_ip()),
        done=lambda s: gettext("The session on %(device)s was logged out.", device=s.device),
        back=url_for("sessions.index"),
        ids={"session_id": session_id},
        confirm=lambda s: gettext("Log out the session on %(device)s?", device=s.device),
        may=lambda s: s.may_revoke,
        removes=True,
    )


@bp.post("/sessions/revoke-others")
@login_required
def revoke_others():
    if not web.confirmed():
        return web.ask(
            gettext("Log out every other session? Only this browser stays logged in."),
            back=url_for("sessions.index"),
        )
    count = services.revoke_others(web.actor(), ip=web.client_ip())
    db.session.commit()
    if count:
        message = ngettext(
            "%(num)d other session was logged out.",
            "%(num)d other sessions were logged out.",
            count,
        )
    else:
        message = gettext("There was no other session to log out.")
    return web.done(message, url_for("sessions.index"), lambda: _page(message=message))


def init_app(app: Flask) -> None:
    @app.before_request
    def record_last_seen():
        """At most one write a minute per session; committed here, before the route runs,
        so it carries nothing of the route's own work."""
        if request.endpoint in (None, "static") or not signed_in():
            return
        if not current_user.is_authenticated:
            return
        login_session = getattr(current_user, "login_session", None)
        if login_session is not None and services.touch(login_session, ip=web.client_ip()):
            db.session.commit()
