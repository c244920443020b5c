"""/login and /logout: sessions, remember-me, identical failures, rate limits, audit rows."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.audit import Action
from portal.models import AuditLog, User, UserSession
from portal.sessions.services import digest
from tests import factories

FAILED = "Email or password is incorrect."
TOO_MANY = "Too many login attempts. Wait a few minutes and try again."


pytestmark = pytest.mark.usefixtures("english")  # messages asserted as their msgids


def post_login(client, csrf_token, email, password=factories.PASSWORD, **extra):
    data = {"email": email, "password": password, "csrf_token": csrf_token(), **extra}
    return client.post("/login", data=data)


def audit_actions(dbs) -> list[str]:
    dbs.expire_all()
    return list(dbs.scalars(select(AuditLog.action).order_by(AuditLog.id)))


def main_content(html: str) -> str:
    """The page's <main>, without the CSRF token (which differs between responses)."""
    main = re.search(r"<main.*?</main>", html, re.S).group(0)
    return re.sub(r'name="csrf_token" type="hidden" value="[^"]*"', "", main)


def test_login_page_has_the_fields(client):
    html = client.get("/login").get_data(as_text=True)
    for name in ("email", "password", "remember", "next", "csrf_token"):
        assert f'name="{name}"' in html


def test_login_success_logs_in_updates_last_login_and_audits(client, csrf_token, dbs):
    user = factories.UserFactory(email="Ana@Example.com")
    response = post_login(client, csrf_token, "  ana@example.COM ")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    with client.session_transaction() as session:
        session_id = session["_user_id"]
    # The cookie holds a server-side session's random id, never the user's id.
    assert str(user.id) not in session_id.split(":")
    assert (
        dbs.scalar(select(UserSession.user_id).where(UserSession.token_hash == digest(session_id)))
        == user.id
    )
    dbs.expire_all()
    assert dbs.get(User, user.id).last_login_at is not None
    row = dbs.scalar(select(AuditLog).where(AuditLog.action == Action.USER_LOGGED_IN))
    assert row.actor_id == user.id and row.account_id is None
    assert client.get_cookie("remember_token") is None


def test_remember_me_sets_the_remember_cookie(client, csrf_token, dbs):
    user = factories.UserFactory()
    response = post_login(client, csrf_token, user.email, remember="y")
    assert response.status_code == 302
    cookie = client.get_cookie("remember_token")
    assert cookie is not None and cookie.http_only
    assert cookie.expires is not None


def test_remember_cookie_logs_back_in_after_the_session_is_gone(app, client, csrf_token, dbs):
    user = factories.UserFactory()
    post_login(client, csrf_token, user.email, remember="y")
    remember = client.get_cookie("remember_token").value
    fresh = app.test_client()
    fresh.set_cookie("remember_token", remember)
    response = fresh.get("/")
    # Signed in again (the person has no organization yet: "/" leads to creating one), as
    # that user, in a new session.
    assert response.status_code == 302 and response.headers["Location"] == "/accounts/new"
    with fresh.session_transaction() as session:
        token = session["_user_id"]
    # The new session is a server-side session of that user (portal.sessions).
    with app.test_request_context():
        from portal.sessions import services as sessions

        assert sessions.load(token).id == user.id
    assert fresh.get("/notifications").status_code == 200


@pytest.mark.parametrize("path", ["/login", "/signup"])
def test_logging_in_starts_a_new_session(client, csrf_token, dbs, path):
    """Nothing planted in the visitor's session survives logging in (session fixation): a
    CSRF token known before login no longer works; the language and a pending invitation
    are kept."""
    user = factories.UserFactory()
    planted = csrf_token()
    with client.session_transaction() as session:
        session.update(locale="en", invitation_token="tok", planted="x")
    data = {"csrf_token": planted, "password": factories.PASSWORD, "email": user.email}
    if path == "/signup":
        data.update(name="Nova", email="nova.sessao@example.com", password="um cavalo correto 42")
    assert client.post(path, data=data).status_code == 302
    with client.session_transaction() as session:
        assert "_user_id" in session and "planted" not in session
        assert session["locale"] == "en" and session["invitation_token"] == "tok"
    assert client.post("/logout", data={"csrf_token": planted}).status_code == 400
    assert client.post("/logout", data={"csrf_token": csrf_token()}).status_code == 302


@pytest.mark.parametrize(
    ("target", "expected"),
    [("/invitations/xyz", "/invitations/xyz"), ("http://evil.example/", "/"), ("", "/")],
)
def test_login_follows_only_a_safe_next(client, csrf_token, dbs, target, expected):
    user = factories.UserFactory()
    response = post_login(client, csrf_token, user.email, next=target)
    assert response.headers["Location"] == expected


def test_login_page_carries_next_and_invitation_email(client):
    with client.session_transaction() as session:
        session["invitation_email"] = "convite@example.com"
    html = client.get("/login?next=/invitations/abc").get_data(as_text=True)
    assert 'name="next" type="hidden" value="/invitations/abc"' in html
    assert 'value="convite@example.com"' in html
    assert "/signup?next=/invitations/abc" in html


def test_failure_is_identical_for_wrong_password_and_unknown_email(client, csrf_token, dbs):
    user = factories.UserFactory(email="known@example.com")
    wrong = post_login(client, csrf_token, user.email, password="not the password at all")
    unknown = post_login(client, csrf_token, "unknown@example.com", password="whatever12345")
    assert wrong.status_code == unknown.status_code == 422
    wrong_html, unknown_html = wrong.get_data(as_text=True), unknown.get_data(as_text=True)
    assert FAILED in wrong_html and FAILED in unknown_html
    assert main_content(wrong_html).replace("known@", "X@") == main_content(unknown_html).replace(
        "unknown@", "X@"
    )
    with client.session_transaction() as session:
        assert "_user_id" not in session
    dbs.expire_all()
    rows = dbs.scalars(select(AuditLog).where(AuditLog.action == Action.USER_LOGIN_FAILED)).all()
    assert len(rows) == 2
    assert all(r.account_id is None and r.actor_id is None for r in rows)
    assert {r.target_label for r in rows} == {"known@example.com", "unknown@example.com"}


def test_unknown_email_still_verifies_a_hash(client, csrf_token, dbs, monkeypatch):
    """The unknown-email path runs argon2 as the wrong-password path does (same cost)."""
    from portal.users import services

    calls = []
    real = services.hasher

    class Spy:
        def verify(self, hash_, password):
            calls.append(hash_)
            return real.verify(hash_, password)

        def __getattr__(self, name):
            return getattr(real, name)

    monkeypatch.setattr(services, "hasher", Spy())
    post_login(client, csrf_token, "nobody@example.com", password="whatever12345")
    assert calls == [services._DUMMY_HASH]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": ""}, "email", "Enter your email address."),
        ({"email": "nope"}, "email", "Enter a valid email address."),
        ({"password": ""}, "password", "Enter your password."),
    ],
)
def test_login_bad_input_is_422_next_to_the_field(client, csrf_token, dbs, data, field, message):
    form = {"email": "a@example.com", "password": "x" * 12, **data}
    response = post_login(client, csrf_token, form["email"], form["password"])
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(rf'id="{field}-error">\s*{re.escape(message)}', html)
    assert audit_actions(dbs) == []


def test_login_without_csrf_token_is_refused(client, dbs):
    user = factories.UserFactory()
    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    assert response.status_code == 400
    assert audit_actions(dbs) == []
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_rate_limit_per_email(app, client, csrf_token, dbs, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_EMAIL", "3 per 5 minutes")
    user = factories.UserFactory(email="target@example.com")
    for _ in range(3):
        assert (
            post_login(client, csrf_token, user.email, password="guess-guess-1").status_code == 422
        )
    # Over the limit: even the right password (in another letter case) is turned away.
    response = post_login(client, csrf_token, "TARGET@example.com")
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert TOO_MANY in html
    assert 'name="password"' in html  # the login page, not an error page
    with client.session_transaction() as session:
        assert "_user_id" not in session
    # Another email from the same address is still allowed.
    other = factories.UserFactory()
    assert post_login(client, csrf_token, other.email).status_code == 302


def test_rate_limit_per_ip(app, client, csrf_token, dbs, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_IP", "4 per 5 minutes")
    for n in range(4):
        response = post_login(client, csrf_token, f"spray{n}@example.com", password="x" * 12)
        assert response.status_code == 422
    response = post_login(client, csrf_token, "spray9@example.com", password="x" * 12)
    assert response.status_code == 429
    assert TOO_MANY in response.get_data(as_text=True)
    # Another client address is not affected.
    other = factories.UserFactory()
    data = {"email": other.email, "password": factories.PASSWORD, "csrf_token": csrf_token()}
    response = client.post("/login", data=data, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert response.status_code == 302


def test_successful_logins_do_not_use_up_the_limit(app, client, csrf_token, dbs, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_EMAIL", "2 per 5 minutes")
    user = factories.UserFactory()
    for _ in range(4):
        assert post_login(client, csrf_token, user.email).status_code == 302


def test_get_requests_are_not_rate_limited(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_IP", "1 per 5 minutes")
    assert all(client.get("/login").status_code == 200 for _ in range(5))


# ---------------------------------------------------------------------------- logout ---
def test_logout_logs_out_audits_and_flashes(client, csrf_token, login, dbs):
    user = login(factories.UserFactory())
    response = client.post("/logout", data={"csrf_token": csrf_token()})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    with client.session_transaction() as session:
        assert "_user_id" not in session
    row = dbs.scalar(select(AuditLog).where(AuditLog.action == Action.USER_LOGGED_OUT))
    assert row.actor_id == user.id
    html = client.get("/login").get_data(as_text=True)
    assert "You have been logged out." in html


@pytest.mark.parametrize(
    ("target", "expected"),
    [("/invitations/abc", "/invitations/abc"), ("https://evil.example/", "/login"), ("", "/login")],
)
def test_logout_follows_a_safe_next(client, csrf_token, login, dbs, target, expected):
    login(factories.UserFactory())
    response = client.post("/logout", data={"csrf_token": csrf_token(), "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_logout_needs_post(client, login, dbs):
    login(factories.UserFactory())
    assert client.get("/logout").status_code == 405
    with client.session_transaction() as session:
        assert "_user_id" in session


def test_logout_without_csrf_token_is_refused(client, login, dbs):
    login(factories.UserFactory())
    assert client.post("/logout").status_code == 400
    with client.session_transaction() as session:
        assert "_user_id" in session
    assert audit_actions(dbs) == []


def test_login_page_when_logged_in_goes_to_next(client, login, dbs):
    login(factories.UserFactory())
    response = client.get("/login?next=/notifications")
    assert response.status_code == 302
    assert response.headers["Location"] == "/notifications"
