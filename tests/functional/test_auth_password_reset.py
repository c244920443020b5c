"""/password/forgot and /password/reset/<token>: single-use tokens, expiry, sessions."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.audit import Action
from portal.models import AuditLog, EmailOutbox, PasswordReset, User
from portal.users.services import check_password
from tests import factories

NEW_PASSWORD = "nova senha bem comprida"
SENT = "If an account exists for that address"
INVALID = "This password reset link is invalid or has expired."


pytestmark = pytest.mark.usefixtures("english")  # messages asserted as their msgids


def table_counts(dbs) -> dict[str, int]:
    dbs.expire_all()
    return {
        model.__tablename__: dbs.scalar(select(func.count()).select_from(model))
        for model in (User, PasswordReset, EmailOutbox, AuditLog)
    }


def forgot(client, csrf_token, email):
    return client.post("/password/forgot", data={"email": email, "csrf_token": csrf_token()})


def reset(client, csrf_token, token, password=NEW_PASSWORD):
    return client.post(
        f"/password/reset/{token}", data={"password": password, "csrf_token": csrf_token()}
    )


# ---------------------------------------------------------------------------- forgot ---
def test_forgot_page_renders(client):
    response = client.get("/password/forgot")
    assert response.status_code == 200
    assert 'name="email"' in response.get_data(as_text=True)


def test_forgot_for_a_known_email_stores_only_a_hash_and_queues_the_email(
    client, csrf_token, dbs, mailbox
):
    user = factories.UserFactory(email="Esqueci@Example.com", locale="en")
    response = forgot(client, csrf_token, "esqueci@example.com")
    assert response.status_code == 302
    assert response.headers["Location"] == "/password/forgot"
    assert SENT in client.get("/password/forgot").get_data(as_text=True)

    row = dbs.scalar(select(PasswordReset).where(PasswordReset.user_id == user.id))
    assert re.fullmatch(r"[0-9a-f]{64}", row.token_hash)
    assert timedelta(minutes=59) < row.expires_at - row.created_at <= timedelta(hours=1)
    email = dbs.scalar(select(EmailOutbox).where(EmailOutbox.template == "password_reset"))
    assert email.to_address == "Esqueci@Example.com"
    link = re.search(r"http://localhost/password/reset/(\S+)", email.body_text)
    assert link, email.body_text
    token = link.group(1)
    assert hashlib.sha256(token.encode()).hexdigest() == row.token_hash
    assert token not in row.token_hash
    actions = dbs.scalars(select(AuditLog.action)).all()
    assert actions == [Action.USER_PASSWORD_RESET_REQUESTED]


def test_forgot_answers_the_same_for_an_unknown_email_and_sends_nothing(
    app, csrf_token, dbs, mailbox
):
    factories.UserFactory(email="existe@example.com")
    answers = []
    for email in ("existe@example.com", "nao-existe@example.com"):
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        with client.session_transaction() as session:
            session["csrf_token"] = "fixed"
        token = _token_for(app, "fixed")
        before = table_counts(dbs)
        response = client.post("/password/forgot", data={"email": email, "csrf_token": token})
        page = client.get(response.headers["Location"])
        answers.append((response.status_code, response.headers["Location"], _main(page)))
        after = table_counts(dbs)
        if email.startswith("nao"):
            assert after == before
    assert answers[0] == answers[1]
    mailbox.wait_for(1)
    assert [m["To"] for m in mailbox] == ["existe@example.com"]


def _token_for(app, raw):
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)


def _main(response) -> str:
    html = response.get_data(as_text=True)
    return re.sub(r'value="[^"]*"', "", re.search(r"<main.*?</main>", html, re.S).group(0))


@pytest.mark.parametrize("email", ["", "not-an-email"])
def test_forgot_bad_email_is_422(client, csrf_token, dbs, email):
    before = table_counts(dbs)
    response = forgot(client, csrf_token, email)
    assert response.status_code == 422
    assert 'id="email-error"' in response.get_data(as_text=True)
    assert table_counts(dbs) == before


def test_forgot_without_csrf_token_is_refused(client, dbs):
    factories.UserFactory(email="csrf@example.com")
    before = table_counts(dbs)
    response = client.post("/password/forgot", data={"email": "csrf@example.com"})
    assert response.status_code == 400
    assert table_counts(dbs) == before


def test_forgot_is_rate_limited_per_ip(app, client, csrf_token, dbs, monkeypatch):
    monkeypatch.setitem(app.config, "PASSWORD_FORGOT_LIMIT_PER_IP", "2 per 15 minutes")
    for n in range(2):
        assert forgot(client, csrf_token, f"x{n}@example.com").status_code == 302
    response = forgot(client, csrf_token, "x9@example.com")
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert "Too many requests. Wait a few minutes and try again." in html
    assert 'name="email"' in html


def test_forgot_is_rate_limited_per_email(app, client, csrf_token, dbs, mailbox, monkeypatch):
    monkeypatch.setitem(app.config, "PASSWORD_FORGOT_LIMIT_PER_EMAIL", "2 per hour")
    factories.UserFactory(email="caixa@example.com")
    for email in ("caixa@example.com", "CAIXA@example.com"):
        assert forgot(client, csrf_token, email).status_code == 302
    response = forgot(client, csrf_token, "caixa@example.com")
    assert response.status_code == 429
    assert "Too many requests" in response.get_data(as_text=True)
    dbs.expire_all()
    assert dbs.scalar(select(func.count()).select_from(PasswordReset)) == 2
    assert forgot(client, csrf_token, "outra@example.com").status_code == 302


# ----------------------------------------------------------------------------- reset ---
def test_reset_form_renders_for_a_valid_token(client, dbs):
    _row, token = factories.PasswordResetFactory.with_token()
    response = client.get(f"/password/reset/{token}")
    assert response.status_code == 200
    assert 'name="password"' in response.get_data(as_text=True)


def test_reset_sets_the_password_and_uses_up_every_token(client, csrf_token, dbs):
    user = factories.UserFactory()
    row, token = factories.PasswordResetFactory.with_token(user=user)
    other, _other_token = factories.PasswordResetFactory.with_token(user=user)
    stranger, _ = factories.PasswordResetFactory.with_token()
    version = user.session_version

    response = reset(client, csrf_token, token)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert "Your password has been changed" in client.get("/login").get_data(as_text=True)

    dbs.expire_all()
    user = dbs.get(User, user.id)
    assert check_password(user, NEW_PASSWORD)
    assert not check_password(user, factories.PASSWORD)
    assert user.session_version == version + 1
    assert user.email_verified_at is not None
    assert dbs.get(PasswordReset, row.id).used_at is not None
    assert dbs.get(PasswordReset, other.id).used_at is not None
    assert dbs.get(PasswordReset, stranger.id).used_at is None
    audit = dbs.scalar(select(AuditLog).where(AuditLog.action == Action.USER_PASSWORD_RESET))
    assert audit.actor_id == user.id and audit.account_id is None


def test_a_used_token_shows_the_invalid_page(client, csrf_token, dbs):
    _row, token = factories.PasswordResetFactory.with_token()
    assert reset(client, csrf_token, token).status_code == 302
    for response in (client.get(f"/password/reset/{token}"), reset(client, csrf_token, token)):
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert INVALID in html
        assert 'href="/password/forgot"' in html


def test_the_other_tokens_stop_working_after_a_reset(client, csrf_token, dbs):
    user = factories.UserFactory()
    _a, first = factories.PasswordResetFactory.with_token(user=user)
    _b, second = factories.PasswordResetFactory.with_token(user=user)
    assert reset(client, csrf_token, first).status_code == 302
    assert reset(client, csrf_token, second, "outra senha bem longa").status_code == 400
    dbs.expire_all()
    assert check_password(dbs.get(User, user.id), NEW_PASSWORD)


def test_an_expired_token_shows_the_invalid_page(client, csrf_token, dbs):
    row, token = factories.PasswordResetFactory.with_token()
    now = datetime.now(UTC)
    row.created_at = now - timedelta(hours=2)
    row.expires_at = now - timedelta(seconds=1)
    dbs.commit()
    before = table_counts(dbs)
    for response in (client.get(f"/password/reset/{token}"), reset(client, csrf_token, token)):
        assert response.status_code == 400
        assert INVALID in response.get_data(as_text=True)
    assert table_counts(dbs) == before
    dbs.expire_all()
    assert check_password(dbs.get(User, row.user_id), factories.PASSWORD)


@pytest.mark.parametrize("token", ["nope", "x" * 43, "%00"])
def test_an_unknown_token_shows_the_invalid_page(client, csrf_token, token):
    assert client.get(f"/password/reset/{token}").status_code == 400
    assert reset(client, csrf_token, token).status_code == 400


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("", "Choose a new password."),
        ("curtinha", "at least 10 characters"),
        ("qwertyuiop", "too common"),
    ],
)
def test_reset_bad_password_is_422_and_keeps_the_token(client, csrf_token, dbs, password, message):
    row, token = factories.PasswordResetFactory.with_token()
    before = table_counts(dbs)
    response = reset(client, csrf_token, token, password)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'id="password-error">[^<]*' + re.escape(message), html)
    assert table_counts(dbs) == before
    dbs.expire_all()
    assert dbs.get(PasswordReset, row.id).used_at is None


def test_reset_password_equal_to_email_is_refused(client, csrf_token, dbs):
    user = factories.UserFactory(email="mesmo.endereco@example.com")
    _row, token = factories.PasswordResetFactory.with_token(user=user)
    response = reset(client, csrf_token, token, "mesmo.endereco@example.com")
    assert response.status_code == 422
    assert "must not be your email" in response.get_data(as_text=True)


def test_reset_without_csrf_token_is_refused(client, dbs):
    row, token = factories.PasswordResetFactory.with_token()
    response = client.post(f"/password/reset/{token}", data={"password": NEW_PASSWORD})
    assert response.status_code == 400
    dbs.expire_all()
    assert dbs.get(PasswordReset, row.id).used_at is None


def test_reset_logs_out_existing_sessions(app, client, csrf_token, login, dbs):
    user = factories.UserFactory()
    login(user)
    assert client.get("/").headers["Location"] != "/login"  # logged in

    _row, token = factories.PasswordResetFactory.with_token(user=user)
    other = app.test_client()
    with other.session_transaction() as session:
        session["csrf_token"] = "other"
    response = other.post(
        f"/password/reset/{token}",
        data={"password": NEW_PASSWORD, "csrf_token": _token_for(app, "other")},
    )
    assert response.status_code == 302

    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"


def test_reset_invalidates_remember_cookies(app, client, csrf_token, dbs):
    user = factories.UserFactory()
    client.post(
        "/login",
        data={
            "email": user.email,
            "password": factories.PASSWORD,
            "remember": "y",
            "csrf_token": csrf_token(),
        },
    )
    remember = client.get_cookie("remember_token").value
    _row, token = factories.PasswordResetFactory.with_token(user=user)
    assert reset(client, csrf_token, token).status_code == 302

    stolen = app.test_client()
    stolen.set_cookie("remember_token", remember)
    assert stolen.get("/").headers["Location"] == "/login"


# ------------------------------------------------------------------ timing (item 4) ---
def _measure(app, client, csrf_token, email, count_queries):
    """What one "forgot password" request does while the person waits: its SQL statements
    and template renders up to the response (the response is not closed yet, so the work
    deferred to after it has not run), then the response is closed."""
    from flask import template_rendered

    renders: list[str] = []

    def record(sender, template, context, **extra):
        renders.append(template.name)

    template_rendered.connect(record, app)
    try:
        with count_queries() as statements:
            response = client.post(
                "/password/forgot",
                data={"email": email, "csrf_token": csrf_token()},
                buffered=False,
            )
            seen = (
                len(statements),
                tuple(renders),
                response.status_code,
                response.headers.get("Location"),
            )
    finally:
        template_rendered.disconnect(record, app)
    response.close()  # now the deferred work runs (as after a real server has sent it)
    return seen


def test_a_known_and_an_unknown_address_cost_the_same_while_the_person_waits(
    app, client, csrf_token, dbs, count_queries, monkeypatch
):
    """30 interleaved requests, known and unknown addresses alternating: every one issues
    the same statements (none) and renders the same templates (none) before its response;
    the known address's token, email and audit row are written after the response."""
    monkeypatch.setitem(app.config, "PASSWORD_FORGOT_LIMIT_PER_IP", "1000 per minute")
    monkeypatch.setitem(app.config, "PASSWORD_FORGOT_LIMIT_PER_EMAIL", "1000 per minute")
    known = factories.UserFactory(email="known.timing@example.com")
    seen = {"known": [], "unknown": []}
    for n in range(30):
        kind = "known" if n % 2 == 0 else "unknown"
        email = known.email if kind == "known" else f"unknown{n}@example.com"
        seen[kind].append(_measure(app, client, csrf_token, email, count_queries))
    assert len(seen["known"]) == len(seen["unknown"]) == 15
    assert set(seen["known"]) == set(seen["unknown"]) == {(0, (), 302, "/password/forgot")}
    dbs.expire_all()
    assert (
        dbs.scalar(
            select(func.count()).select_from(PasswordReset).where(PasswordReset.user_id == known.id)
        )
        == 15
    )
    assert (
        dbs.scalar(
            select(func.count())
            .select_from(EmailOutbox)
            .where(EmailOutbox.to_address == known.email)
        )
        == 15
    )


def test_a_failure_after_the_response_is_logged_and_leaves_nothing(
    app, client, csrf_token, dbs, caplog, monkeypatch
):
    from portal.auth import services as auth_services

    factories.UserFactory(email="boom@example.com")
    before = table_counts(dbs)

    def boom(*args, **kwargs):
        raise RuntimeError("the mail template is broken")

    monkeypatch.setattr(auth_services, "request_password_reset", boom)
    response = forgot(client, csrf_token, "boom@example.com")
    assert response.status_code == 302
    assert table_counts(dbs) == before
    assert any(
        r.name == "portal.web" and "after the response" in r.getMessage() for r in caplog.records
    )
