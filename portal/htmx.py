"""htmx helpers: a partial only for a real htmx request, and ``Vary: HX-Request``."""

from __future__ import annotations

from flask import Flask, render_template, request


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def is_partial() -> bool:
    """True for an htmx request that swaps a piece of the page: not a boosted navigation
    and not a history restore, which both need the whole page."""
    if not is_htmx():
        return False
    if request.headers.get("HX-Boosted") == "true":
        return False
    return request.headers.get("HX-History-Restore-Request") != "true"


def render(template: str, partial: str, status: int = 200, **context):
    """Render ``partial`` for an htmx swap, else the full page ``template`` (which
    includes it)."""
    return render_template(partial if is_partial() else template, **context), status


def init_app(app: Flask) -> None:
    @app.after_request
    def vary_on_hx_request(response):
        response.vary.add("HX-Request")
        return response
