"""/signup: creating an account, the password policy, unique emails, invitations."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.audit import Action
from portal.models import AuditLog, User, UserSession
from portal.sessions.services import digest
from tests import factories

GOOD_PASSWORD = "um cavalo correto 42"


pytestmark = pytest.mark.usefixtures("english")  # messages asserted as their msgids


def counts(dbs) -> tuple[int, int]:
    dbs.expire_all()
    return (
        dbs.scalar(select(func.count()).select_from(User)),
        dbs.scalar(select(func.count()).select_from(AuditLog)),
    )


def field_error(html: str, field: str) -> str:
    """The error text rendered next to ``field`` (empty when there is none)."""
    match = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', html, re.S)
    return match.group(1).strip() if match else ""


def post_signup(client, csrf_token, **data):
    form = {"name": "Ana Souza", "email": "ana@example.com", "password": GOOD_PASSWORD}
    form.update(data)
    form["csrf_token"] = csrf_token()
    return client.post("/signup", data=form)


def test_signup_page_has_the_contract_fields(client):
    response = client.get("/signup")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for name in ("name", "email", "password", "csrf_token"):
        assert f'name="{name}"' in html


def test_signup_creates_user_logs_in_and_audits(client, csrf_token, dbs):
    response = post_signup(client, csrf_token, email="  Nova.Pessoa@Example.com ")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    user = dbs.scalar(select(User).where(User.email == "Nova.Pessoa@Example.com"))
    assert user is not None and user.name == "Ana Souza"
    assert user.password_hash.startswith("$argon2")
    assert GOOD_PASSWORD not in user.password_hash
    assert not user.is_platform_admin
    assert user.email_verified_at is None
    audit = dbs.scalar(select(AuditLog).where(AuditLog.action == Action.USER_SIGNED_UP))
    assert audit.actor_id == user.id and audit.account_id is None
    with client.session_transaction() as session:
        session_id = session["_user_id"]
    # The cookie holds a server-side session's random id, never the user's id.
    assert str(user.id) not in session_id.split(":")
    assert (
        dbs.scalar(select(UserSession.user_id).where(UserSession.token_hash == digest(session_id)))
        == user.id
    )


def test_signup_records_the_language_in_use(client, csrf_token, dbs):
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token()})
    post_signup(client, csrf_token, email="lang@example.com")
    assert dbs.scalar(select(User.locale).where(User.email == "lang@example.com")) == "en"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/invitations/abc", "/invitations/abc"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
    ],
)
def test_signup_follows_only_a_safe_next(client, csrf_token, target, expected):
    response = post_signup(client, csrf_token, next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_signup_page_carries_next_into_the_form(client):
    html = client.get("/signup?next=/invitations/tok").get_data(as_text=True)
    assert 'name="next" type="hidden" value="/invitations/tok"' in html


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": ""}, "email", "Enter your email address."),
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"email": "ana@"}, "email", "Enter a valid email address."),
        ({"name": ""}, "name", "Enter your name."),
        ({"name": "x" * 121}, "name", "Enter your name (at most 120 characters)."),
        ({"password": ""}, "password", "Choose a password."),
        ({"password": "curta123"}, "password", "at least 10 characters"),
        ({"password": "1234567890"}, "password", "too common"),
        ({"password": "Senha12345"}, "password", "too common"),
        ({"password": "aaaaaaaaaaaaaa"}, "password", "too common"),
        (
            {"email": "longo.email@example.com", "password": "Longo.Email@example.com"},
            "password",
            "must not be your email",
        ),
    ],
)
def test_signup_bad_input_is_422_next_to_the_field(client, csrf_token, dbs, data, field, message):
    factories.UserFactory()  # something already in the tables
    before = counts(dbs)
    response = post_signup(client, csrf_token, **data)
    assert response.status_code == 422
    assert message in field_error(response.get_data(as_text=True), field)
    assert counts(dbs) == before


def test_duplicate_email_in_another_case_is_refused(client, csrf_token, dbs):
    factories.UserFactory(email="maria@example.com")
    before = counts(dbs)
    response = post_signup(client, csrf_token, email="MARIA@Example.COM")
    assert response.status_code == 422
    assert "already exists" in field_error(response.get_data(as_text=True), "email")
    assert counts(dbs) == before
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_signup_without_csrf_token_is_refused(client, dbs):
    before = counts(dbs)
    response = client.post(
        "/signup", data={"name": "Ana", "email": "csrf@example.com", "password": GOOD_PASSWORD}
    )
    assert response.status_code == 400
    assert counts(dbs) == before


def test_signup_with_invitation_uses_the_invited_email(client, csrf_token, dbs):
    with client.session_transaction() as session:
        session["invitation_email"] = "convidada@example.com"
    html = client.get("/signup").get_data(as_text=True)
    assert re.search(r'<input[^>]*name="email"[^>]*readonly[^>]*>', html)
    assert 'value="convidada@example.com"' in html

    response = post_signup(client, csrf_token, email="outra@example.com", next="/invitations/tok")
    assert response.status_code == 302
    assert response.headers["Location"] == "/invitations/tok"
    dbs.expire_all()
    user = dbs.scalar(select(User).where(func.lower(User.email) == "convidada@example.com"))
    assert user is not None and user.email_verified_at is not None
    assert dbs.scalar(select(User).where(User.email == "outra@example.com")) is None


def test_signup_when_logged_in_goes_home(client, login, dbs):
    login(factories.UserFactory())
    response = client.get("/signup")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_failed_signups_are_rate_limited_per_ip(app, client, csrf_token, dbs, monkeypatch):
    """Sign-up says when an address is taken; failed attempts are limited, so it cannot be
    used to test addresses in bulk. Successful sign-ups do not count."""
    monkeypatch.setitem(app.config, "SIGNUP_LIMIT_PER_IP", "2 per 15 minutes")
    factories.UserFactory(email="existe@example.com")
    assert post_signup(client, csrf_token, email="primeira@example.com").status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token()})
    for _ in range(2):
        assert post_signup(client, csrf_token, email="existe@example.com").status_code == 422
    before = counts(dbs)
    response = post_signup(client, csrf_token, email="terceira@example.com")
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert "Too many requests. Wait a few minutes and try again." in html
    assert 'name="password"' in html  # the sign-up page, not an error page
    assert counts(dbs) == before
    other = {"REMOTE_ADDR": "10.9.8.7"}
    data = {"name": "Ana", "email": "outra.rede@example.com", "password": GOOD_PASSWORD}
    response = client.post("/signup", data={**data, "csrf_token": csrf_token()}, environ_base=other)
    assert response.status_code == 302
