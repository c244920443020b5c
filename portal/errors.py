"""Domain errors raised by services, and the error pages that render them.

Services raise these; routes (or the handlers registered here) turn them into responses:
NotAllowed → 403, NotFound → 404 (another organization's objects look absent),
Conflict → 409 page or a form error, Invalid → 422 with the message next to the field.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from portal.extensions import db
from portal.htmx import is_partial


class DomainError(Exception):
    status = 400
    title = None  # the error page's heading; None: the status's own (TITLES)

    def __init__(self, message: str = "", field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotAllowed(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class Invalid(DomainError):
    """Bad input for ``field``: shown next to that field, with status 422."""

    status = 422


def constraint_name(exc: IntegrityError) -> str | None:
    """The constraint (or trigger rule) a database refusal names."""
    return getattr(getattr(exc.orig, "diag", None), "constraint_name", None)


def insert_unique(row, refusals: Mapping[str, DomainError]) -> None:
    """Insert ``row`` in a savepoint. If a unique constraint of ``refusals`` refuses it (a
    concurrent request inserted the same value after the service checked), its error is
    raised instead and the caller's transaction stays usable; other errors propagate."""
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError as exc:
        refusal = refusals.get(constraint_name(exc) or "")
        if refusal is None:
            raise
        raise refusal from None


TITLES = {
    400: _l("Bad request"),
    403: _l("You cannot do that"),
    404: _l("Page not found"),
    405: _l("Method not allowed"),
    409: _l("Conflict"),
    413: _l("Too large"),
    422: _l("Please check your input"),
    429: _l("Too many attempts"),
    500: _l("Something went wrong"),
    503: _l("Service unavailable"),
}

MESSAGES = {
    400: _l(
        "The request could not be understood. If you submitted a form, reload the page and try again."
    ),
    403: _l("Your role in this organization does not allow this action."),
    404: _l("There is nothing at this address, or you do not have access to it."),
    405: _l("This address does not accept that kind of request."),
    409: _l("This change conflicts with the current state. Reload the page and try again."),
    413: _l("What you sent is larger than we accept."),
    422: _l("Some of what you entered is not valid."),
    429: _l("Too many attempts in a short time. Wait a few minutes and try again."),
    500: _l("An unexpected error happened on our side. It has been logged; please try again."),
    503: _l("The service is temporarily unavailable. Please try again shortly."),
}


def render_error(status: int, message: str | None = None, title: str | None = None):
    title = title or TITLES.get(status, TITLES[500])
    message = message or MESSAGES.get(status, MESSAGES[500])
    template = "errors/_error.html" if is_partial() else "errors/error.html"
    return render_template(template, status=status, title=title, message=message), status


def register_error_handlers(app: Flask) -> None:
    def http_error(exc: HTTPException):
        message = None
        if exc.code == 400 and getattr(exc, "description", "") and "CSRF" in exc.description:
            from flask_babel import gettext

            message = gettext(
                "Your session expired or the form was sent twice. Reload the page and try again."
            )
        return render_error(exc.code or 500, message)

    def domain_error(exc: DomainError):
        return render_error(exc.status, exc.message or None, exc.title and str(exc.title))

    def server_error(exc: Exception):
        app.logger.exception("unhandled error", exc_info=exc)
        from portal.extensions import db

        db.session.rollback()
        return render_error(500)

    for code in (400, 403, 404, 405, 409, 413, 422, 429):
        app.register_error_handler(code, http_error)
    app.register_error_handler(DomainError, domain_error)
    app.register_error_handler(500, server_error)
