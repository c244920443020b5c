"""Security headers on every response: a Content-Security-Policy without 'unsafe-inline'
(htmx is configured through a <meta> tag, never inline script or style)."""

from __future__ import annotations

from flask import Flask, abort, request

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
        return response
