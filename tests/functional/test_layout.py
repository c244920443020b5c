"""The layout every page shares: pinned htmx, security headers, error pages, language."""

import hashlib
import re
from pathlib import Path

import pytest
from flask import abort

from tests.conftest import make_test_app

ROOT = Path(__file__).resolve().parents[2]
HTMX = ROOT / "static" / "vendor" / "htmx-2.0.11.min.js"
# SHA-256 of dist/htmx.min.js in the npm package htmx.org@2.0.11.
HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"


def test_htmx_is_the_pinned_file_with_its_license():
    assert hashlib.sha256(HTMX.read_bytes()).hexdigest() == HTMX_SHA256
    assert "BSD" in (ROOT / "static" / "vendor" / "htmx-LICENSE.txt").read_text()


def test_templates_have_no_inline_script_style_or_eval():
    """The CSP forbids inline script and style; htmx runs with allowEval off."""
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        if "email" in path.parts:
            continue  # emails are not served under the CSP
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text):
            offenders.append(f"{path}: inline <script>")
        if re.search(r"<style\b|\sstyle=", text):
            offenders.append(f"{path}: inline style")
        if re.search(r"\shx-on[:-]|\sonclick=|\sonsubmit=|\sonchange=|js:", text):
            offenders.append(f"{path}: inline handler")
    assert offenders == []


def test_pages_carry_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "HX-Request" in response.headers["Vary"]


def test_layout_loads_pinned_htmx_configured_for_422(client):
    html = client.get("/login").get_data(as_text=True)
    assert "/static/vendor/htmx-2.0.11.min.js" in html
    assert '"code": "422", "swap": true' in html
    assert 'hx-headers=\'{"X-CSRFToken": "' in html


@pytest.fixture(scope="module")
def error_app(databases, smtp_server):
    """An app with routes that fail on purpose (routes must exist before any request)."""
    controller, _ = smtp_server
    app = make_test_app(databases.server_url, controller.port, PROPAGATE_EXCEPTIONS=False)

    @app.get("/_test/abort/<int:code>")
    def abort_with(code):
        abort(code)

    @app.get("/_test/crash")
    def crash():
        raise RuntimeError("boom")

    @app.post("/_test/upload")
    def upload():
        return "ok"

    return app


@pytest.mark.parametrize(
    ("path", "status", "title"),
    [
        ("/_test/abort/400", 400, "Bad request"),
        ("/_test/abort/403", 403, "You cannot do that"),
        ("/_test/abort/404", 404, "Page not found"),
        ("/no/such/page", 404, "Page not found"),
        ("/_test/abort/422", 422, "Please check your input"),
        ("/_test/abort/429", 429, "Too many attempts"),
        ("/_test/crash", 500, "Something went wrong"),
    ],
)
def test_error_pages_fit_the_layout(error_app, path, status, title):
    client = error_app.test_client()
    headers = {"Accept-Language": "en"}
    page = client.get(path, headers=headers)
    assert page.status_code == status
    body = page.get_data(as_text=True)
    assert "<html" in body and title in body and 'class="site-header"' in body
    partial = client.get(path, headers={**headers, "HX-Request": "true"})
    assert partial.status_code == status
    fragment = partial.get_data(as_text=True)
    assert "<html" not in fragment and title in fragment and 'id="error"' in fragment


def test_error_page_413_for_a_too_large_body(error_app):
    client = error_app.test_client()
    response = client.post(
        "/_test/upload", data={"f": "x" * (2 * 1024 * 1024)}, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 413
    assert "Too large" in response.get_data(as_text=True)


def test_error_page_in_portuguese_by_default(error_app):
    response = error_app.test_client().get("/no/such/page")
    assert response.status_code == 404
    assert "Página não encontrada" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("accept", "lang"),
    [
        ("pt-BR,pt;q=0.9", "pt-BR"),
        ("en-US,en;q=0.8", "en"),
        ("pt-PT", "pt-BR"),
        ("de", "pt-BR"),
        (None, "pt-BR"),
    ],
)
def test_locale_from_accept_language(client, accept, lang):
    headers = {"Accept-Language": accept} if accept else {}
    html = client.get("/login", headers=headers).get_data(as_text=True)
    assert f'<html lang="{lang}">' in html


def test_language_switch_is_remembered(client, csrf_token):
    response = client.post(
        "/language", data={"locale": "en", "next": "/login", "csrf_token": csrf_token()}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    html = client.get("/login", headers={"Accept-Language": "pt-BR"}).get_data(as_text=True)
    assert '<html lang="en">' in html


def test_language_switch_stored_on_the_user(client, login, dbs, csrf_token):
    from tests import factories

    user = login(factories.UserFactory(locale="en"))
    client.post("/language", data={"locale": "pt_BR", "next": "/", "csrf_token": csrf_token()})
    dbs.expire_all()
    assert dbs.get(type(user), user.id).locale == "pt_BR"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "javascript:x",
        "/\t/evil.example",
        "/\\evil.example",
        "/a\r\nX-Evil: 1",
    ],
)
def test_language_switch_never_redirects_off_site(client, csrf_token, target):
    response = client.post(
        "/language", data={"locale": "en", "next": target, "csrf_token": csrf_token()}
    )
    assert response.status_code == 302
    assert (
        "evil" not in response.headers["Location"]
        and "javascript" not in response.headers["Location"]
    )


def test_language_switch_needs_csrf(client):
    assert client.post("/language", data={"locale": "en"}).status_code == 400


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("post", "/signup", {"name": "a\x00b", "email": "nul@example.com", "password": "x" * 12}),
        ("post", "/login", {"email": "nul@example.com", "password": "a\x00b"}),
        ("get", "/notifications?after=%00", None),
        ("get", "/login?next=/a%00b", None),
    ],
)
def test_nul_characters_are_a_bad_request_not_a_500(client, csrf_token, dbs, method, path, data):
    from sqlalchemy import func, select

    from portal.models import User

    if data is not None:
        data = {**data, "csrf_token": csrf_token()}
    response = getattr(client, method)(path, data=data)
    assert response.status_code == 400
    assert dbs.scalar(select(func.count()).where(User.email == "nul@example.com")) == 0


def test_a_repeated_key_with_a_nul_in_a_later_value_is_refused(client):
    assert client.get("/login?next=/a&next=%00").status_code == 400


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", f"/accounts/{2**63}/"),
        ("get", f"/accounts/{10**30}/members"),
        ("post", f"/notifications/{2**64}/read"),
    ],
)
def test_ids_beyond_bigint_match_no_route(client, login, dbs, csrf_token, method, path):
    from tests import factories

    login(factories.UserFactory())
    data = {"csrf_token": csrf_token()} if method == "post" else None
    assert getattr(client, method)(path, data=data).status_code == 404
