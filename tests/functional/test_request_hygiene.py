"""Request-level guards (portal.security), once for every route: a file part in a form that
takes no file is a 400 before any work; pages for a signed-in person are never cached; the
remember-me cookie is SameSite=Lax."""

from __future__ import annotations

from io import BytesIO

import pytest
from sqlalchemy import func, select

from portal.models import (
    Account,
    AccountMember,
    AuditLog,
    EmailOutbox,
    Invitation,
    PasswordReset,
    User,
)
from tests import factories

TABLES = (User, Account, AccountMember, AuditLog, EmailOutbox, Invitation, PasswordReset)


def snapshot(dbs) -> dict[str, int]:
    dbs.expire_all()
    return {m.__tablename__: dbs.scalar(select(func.count()).select_from(m)) for m in TABLES}


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


# Every text field of every form that exists, with the rest of a valid submission: only the
# file part is wrong, so without the guard each request would do its work (the issue's
# /signup with a file in ``next`` created, audited and logged in the user, then failed).
def _signup(_ctx):
    return "/signup", {
        "name": "Ana Souza",
        "email": "ana.file@example.com",
        "password": "a long enough passphrase",
        "next": "/",
    }


def _login(ctx):
    return "/login", {"email": ctx["user"].email, "password": factories.PASSWORD}


def _forgot(ctx):
    return "/password/forgot", {"email": ctx["user"].email}


def _reset(ctx):
    _row, token = factories.PasswordResetFactory.with_token(user=ctx["user"])
    return f"/password/reset/{token}", {"password": "a brand new passphrase"}


def _new_org(_ctx):
    return "/accounts/new", {"name": "Acme Ltda", "cnpj": factories.make_cnpj(4242)}


def _cnpj_check(_ctx):
    return "/accounts/new/cnpj", {"cnpj": factories.make_cnpj(4343)}


def _invite(ctx):
    return f"/accounts/{ctx['account'].id}/invitations", {
        "email": "invitee.file@example.com",
        "role": "member",
    }


def _suspend(ctx):
    return f"/admin/accounts/{ctx['other'].id}/suspend", {
        "reason": "Unpaid invoices",
        "back": "/admin/accounts",
    }


FORMS = {
    "signup": (_signup, None, ("name", "email", "password", "next")),
    "login": (_login, None, ("email", "password")),
    "forgot": (_forgot, None, ("email",)),
    "reset": (_reset, None, ("password",)),
    "new-organization": (_new_org, "user", ("name", "cnpj")),
    "cnpj-check": (_cnpj_check, "user", ("cnpj",)),
    "invite": (_invite, "user", ("email",)),
    "admin-suspend": (_suspend, "admin", ("reason", "back")),
}
CASES = [(form, field) for form, (_b, _who, fields) in FORMS.items() for field in fields]


def test_the_cases_cover_every_field_the_issue_listed():
    assert len(CASES) >= 14


@pytest.mark.parametrize(("form", "field"), CASES, ids=[f"{f}-{x}" for f, x in CASES])
def test_a_file_in_a_text_field_is_a_400_before_any_work(
    client, login, csrf_token, dbs, form, field
):
    build, who, _fields = FORMS[form]
    user = factories.UserFactory()
    account = factories.AccountFactory(owner=user)
    other = factories.AccountFactory(owner=factories.UserFactory())
    ctx = {"user": user, "account": account, "other": other}
    if who == "user":
        login(user)
    elif who == "admin":
        login(factories.AdminFactory())
    url, data = build(ctx)
    data = {**data, "csrf_token": csrf_token()}
    data[field] = (BytesIO(b"not text"), "evil.txt")
    before = snapshot(dbs)
    response = client.post(url, data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert snapshot(dbs) == before
    with client.session_transaction() as session:
        assert session.get("_user_id") is None or who is not None


def test_signup_with_a_file_in_next_creates_nobody_and_logs_nobody_in(client, csrf_token, dbs):
    before = snapshot(dbs)
    response = client.post(
        "/signup",
        data={
            "name": "Ana Souza",
            "email": "ana.next@example.com",
            "password": "a long enough passphrase",
            "next": (BytesIO(b"/accounts/new"), "next.txt"),
            "csrf_token": csrf_token(),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert snapshot(dbs) == before
    assert dbs.scalar(select(User).where(User.email == "ana.next@example.com")) is None
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_a_multipart_form_without_files_still_works(client, csrf_token, dbs):
    """The guard refuses file parts, not the multipart encoding."""
    response = client.post(
        "/signup",
        data={
            "name": "Ana Souza",
            "email": "ana.multipart@example.com",
            "password": "a long enough passphrase",
            "csrf_token": csrf_token(),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert dbs.scalar(select(User).where(User.email == "ana.multipart@example.com")) is not None


def test_a_route_that_takes_files_says_so(app, client, csrf_token, monkeypatch):
    """``accepts_files`` is how a future upload form opts in; the guard leaves it alone."""
    from flask import request

    from portal.security import accepts_files

    monkeypatch.setitem(
        app.view_functions, "auth.forgot_password", accepts_files(lambda: str(len(request.files)))
    )
    response = client.post(
        "/password/forgot",
        data={"file": (BytesIO(b"x"), "x.txt"), "csrf_token": csrf_token()},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200 and response.get_data(as_text=True) == "1"


# ------------------------------------------------------------------- caching, cookies ---
def test_pages_of_a_signed_in_person_are_never_stored(client, login, dbs):
    user = login(factories.UserFactory())
    account = factories.AccountFactory(owner=user)
    for path in (f"/accounts/{account.id}/", f"/accounts/{account.id}/members", "/notifications"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path


def test_public_pages_and_static_files_may_be_cached(client, login, dbs):
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    login(factories.UserFactory())
    css = client.get("/static/css/app.css")
    assert "no-store" not in css.headers.get("Cache-Control", "")
    css.close()


def test_the_remember_me_cookie_is_same_site_lax(client, csrf_token, dbs):
    user = factories.UserFactory()
    response = client.post(
        "/login",
        data={
            "email": user.email,
            "password": factories.PASSWORD,
            "remember": "y",
            "csrf_token": csrf_token(),
        },
    )
    assert response.status_code == 302
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token=")]
    assert cookies and "SameSite=Lax" in cookies[0]
    assert "HttpOnly" in cookies[0]
