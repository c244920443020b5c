"""Every link the portal stores or sends is built here, with ``url_for``'s URL map: paths
for notifications and the audit log's targets, absolute URLs for emails.

Inside a request, Flask's ``url_for`` does it (host and scheme of the request). Outside one
(CLI commands, scheduled jobs), the URL map is bound to ``PORTAL_BASE_URL``."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for


def _adapter():
    base = urlsplit(current_app.config["PORTAL_BASE_URL"])
    return current_app.url_map.bind(
        base.netloc or "localhost",
        script_name=base.path or "/",
        url_scheme=base.scheme or "http",
    )


def path(endpoint: str, **values) -> str:
    """The site-relative path of ``endpoint`` (what a notification stores)."""
    if has_request_context():
        return url_for(endpoint, **values)
    return _adapter().build(endpoint, values)


def external(endpoint: str, **values) -> str:
    """The absolute URL of ``endpoint`` (what an email carries)."""
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    return _adapter().build(endpoint, values, force_external=True)


# ------------------------------------------------------------------------- places ---
# The pages links most often point at, named once.
def dashboard(account_id: int) -> str:
    return path("accounts.dashboard", account_id=account_id)


def members(account_id: int) -> str:
    return path("members.index", account_id=account_id)


def home() -> str:
    return path("main.index")
