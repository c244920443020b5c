"""portal.links: every stored or emailed link through the URL map, inside a request (its
host) or outside one (PORTAL_BASE_URL)."""

from __future__ import annotations

import pytest

from portal import links


# -------------------------------------------------------------------------- links ---
def test_inside_a_request_links_follow_its_host(app):
    with app.test_request_context("/", base_url="https://portal.example.com.br"):
        assert links.path("accounts.dashboard", account_id=5) == "/accounts/5/"
        assert links.external("invitations.landing", token="abc") == (
            "https://portal.example.com.br/invitations/abc"
        )
        assert links.dashboard(5) == "/accounts/5/"
        assert links.members(5) == "/accounts/5/members"
        assert links.home() == "/"


@pytest.mark.parametrize(
    ("base", "path", "external"),
    [
        ("http://localhost", "/accounts/5/members", "http://localhost/accounts/5/members"),
        (
            "https://nuvem.example.com.br/portal",
            "/portal/accounts/5/members",
            "https://nuvem.example.com.br/portal/accounts/5/members",
        ),
    ],
    ids=["root", "under-a-path"],
)
def test_outside_a_request_links_use_the_base_url(app, monkeypatch, base, path, external):
    monkeypatch.setitem(app.config, "PORTAL_BASE_URL", base)
    with app.app_context():
        assert links.path("members.index", account_id=5) == path
        assert links.external("members.index", account_id=5) == external


def test_a_link_to_a_page_that_does_not_exist_fails_loudly(app):
    from werkzeug.routing import BuildError

    with app.app_context(), pytest.raises(BuildError):
        links.path("no.such.page")
