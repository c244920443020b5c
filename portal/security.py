"""Request hygiene and security headers, once for every route.

- a NUL character in any query or form value is a 400 (PostgreSQL text cannot hold it);
- a file part in a form that takes no file is a 400, before any work (a route that takes
  files says so with :func:`accepts_files`);
- every response carries a Content-Security-Policy without 'unsafe-inline' (htmx is
  configured through a <meta> tag, never inline script or style) and the usual headers;
- a page for a signed-in person is never stored by the browser or a proxy
  (``Cache-Control: no-store``): it holds customer data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, abort, current_app, request, session

F = TypeVar("F", bound=Callable)
FILES = ("static", "main.favicon")  # the same for everybody: cacheable

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "object-src 'none'",
    ]
)


def has_nul(multidict) -> bool:
    """True if any value, including every value of a repeated key, holds a NUL."""
    return any("\x00" in value for _key, values in multidict.lists() for value in values)


def accepts_files(view: F) -> F:
    """Mark a view whose form takes file uploads; every other view refuses file parts."""
    view.accepts_files = True  # type: ignore[attr-defined]
    return view


def takes_files() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "accepts_files", False))


def signed_in() -> bool:
    """A person is signed in on this request (without loading them: the session says so,
    and a page loaded through a remember-me cookie has put the id in it by now)."""
    return "_user_id" in session


def init_app(app: Flask) -> None:
    @app.before_request
    def refuse_nul_characters():
        """PostgreSQL text cannot hold U+0000 (psycopg refuses it): a NUL in any query or
        form value is refused here, once for every route, as a bad request — no person
        types one, and it must not reach a query as a 500."""
        if has_nul(request.args) or (
            request.method in ("POST", "PUT", "PATCH") and has_nul(request.form)
        ):
            abort(400)

    @app.before_request
    def refuse_unexpected_files():
        """A multipart file part sent to a form that takes no file would reach a text
        field as a file object (a 500 half-way through the work): refuse the request
        before any of it is done."""
        if request.method in ("POST", "PUT", "PATCH") and request.files and not takes_files():
            abort(400)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
        )
        if app.config.get("PORTAL_ENV") == "production":
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        if request.endpoint not in FILES and signed_in():
            # Customer data: neither the browser's back/forward cache on a shared computer
            # nor a proxy may keep it.
            response.headers["Cache-Control"] = "no-store"
        return response
