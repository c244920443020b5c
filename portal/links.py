"""Every link the portal stores or sends is built here, with ``url_for``'s URL map: paths
for notifications and the audit log's targets, absolute URLs for emails.

Inside a request, Flask's ``url_for`` does it (host and scheme of the request). Outside one
(CLI commands, scheduled jobs), the URL map is bound to ``PORTAL_BASE_URL``."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, has_request_context
from flask import url_for as flask_url_for
from flask.globals import _cv_request


def _adapter():
    base = urlsplit(current_app.config["PORTAL_BASE_URL"])
    return current_app.url_map.bind(
        base.netloc or "localhost",
        script_name=base.path or "/",
        url_scheme=base.scheme or "http",
    )


def url_for(endpoint: str, /, **values) -> str:
    """Flask's ``url_for``, in a third of the time for the common case (templates use this
    one; a list page builds a few URLs per row). Inside a request, for a full endpoint name
    with one URL rule and no ``_external``/``_anchor``/``_method``/``_scheme``, the rule
    builds the path directly: what werkzeug's MapAdapter.build does for such a rule, less
    its search among rules and methods. Anything else — URL default functions registered,
    several rules for the endpoint, a value the rule cannot take — goes to Flask's own, so
    the URL and any BuildError are always Flask's."""
    ctx = _cv_request.get(None)
    if (
        ctx is None
        or ctx.url_adapter is None
        or endpoint[:1] == "."
        or ctx.app.url_default_functions
        or any(key[:1] == "_" for key in values)
    ):
        return flask_url_for(endpoint, **values)
    adapter = ctx.url_adapter
    url_map = adapter.map
    url_map.update()
    rules = getattr(url_map, "_rules_by_endpoint", {}).get(endpoint)
    if not rules or len(rules) != 1 or url_map.host_matching or rules[0].websocket:
        return flask_url_for(endpoint, **values)
    rule = rules[0]
    values = {k: v for k, v in values.items() if v is not None}
    built = rule.build(values, True) if rule.suitable_for(values, None) else None
    if built is None or built[0] != adapter.subdomain:
        return flask_url_for(endpoint, **values)
    return f"{adapter.script_name.rstrip('/')}/{built[1].lstrip('/')}"


def path(endpoint: str, **values) -> str:
    """The site-relative path of ``endpoint`` (what a notification stores)."""
    if has_request_context():
        return url_for(endpoint, **values)
    return _adapter().build(endpoint, values)


def external(endpoint: str, **values) -> str:
    """The absolute URL of ``endpoint`` (what an email carries)."""
    if has_request_context():
        return flask_url_for(endpoint, _external=True, **values)
    return _adapter().build(endpoint, values, force_external=True)


# ------------------------------------------------------------------------- places ---
# The pages links most often point at, named once.
def dashboard(account_id: int) -> str:
    return path("accounts.dashboard", account_id=account_id)


def members(account_id: int) -> str:
    return path("members.index", account_id=account_id)


def home() -> str:
    return path("main.index")
