"""People services: password policy and hashing, creating users, authenticating, resets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from portal.audit import Action
from portal.auth import services as auth
from portal.errors import Invalid
from portal.extensions import db
from portal.models import AuditLog, EmailOutbox, PasswordReset, User
from portal.users import services
from tests import factories


@pytest.fixture
def ctx(app):
    """A request context in English, so messages compare against the msgids."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield app


# ----------------------------------------------------------------- password policy ---
@pytest.mark.parametrize(
    ("password", "email", "fragment"),
    [
        ("", None, "at least 10"),
        ("123456789", None, "at least 10"),
        ("1234567890", None, "too common"),
        ("QWERTYUIOP", None, "too common"),
        ("  senha12345  ", None, "too common"),
        ("zzzzzzzzzzzz", None, "too common"),
        (" " * 12, None, "too common"),
        ("\t \n" * 4, None, "too common"),
        ("Ana.Souza@Example.com", "ana.souza@example.com", "not be your email"),
    ],
)
def test_password_problem_names_the_problem(ctx, password, email, fragment):
    assert fragment in services.password_problem(password, email)


@pytest.mark.parametrize(
    "password", ["correct horse battery staple", "Tr0ub4dor&3x", "0123456789a", "ç" * 9 + "x"]
)
def test_password_problem_accepts_decent_passwords(ctx, password):
    assert services.password_problem(password, "someone@example.com") is None


@settings(max_examples=50, deadline=None)
@given(password=st.text(max_size=9))
def test_every_password_shorter_than_ten_is_refused(_app, password):
    with _app.test_request_context():
        assert services.password_problem(password) is not None


def test_hash_is_argon2_and_verifies(ctx):
    hashed = services.hash_password("uma senha qualquer")
    assert hashed.startswith("$argon2id$")
    user = User(email="a@b.co", name="A", password_hash=hashed)
    assert services.check_password(user, "uma senha qualquer")
    assert not services.check_password(user, "outra senha qualquer")
    assert not services.check_password(None, "uma senha qualquer")


def test_check_password_rehashes_outdated_parameters(ctx):
    from argon2 import PasswordHasher

    old = PasswordHasher(time_cost=1, memory_cost=8192).hash("senha antiga e longa")
    user = User(email="a@b.co", name="A", password_hash=old)
    assert services.check_password(user, "senha antiga e longa")
    assert user.password_hash != old
    assert services.check_password(user, "senha antiga e longa")


# -------------------------------------------------------------------- create_user ---
def test_create_user_writes_user_and_audit_row(ctx, dbs):
    user = services.create_user(
        " Bia@Example.com ", "  Bia   Lima ", "senha muito boa 1", locale="en"
    )
    db.session.commit()
    dbs.expire_all()
    row = dbs.get(User, user.id)
    assert (row.email, row.name, row.locale) == ("Bia@Example.com", "Bia Lima", "en")
    assert row.session_version == 1 and not row.is_platform_admin
    audit = dbs.scalar(select(AuditLog).where(AuditLog.action == Action.USER_SIGNED_UP))
    assert audit.actor_id == user.id and audit.details == {"source": "cli"}


@pytest.mark.parametrize(
    ("email", "name", "password", "field"),
    [
        ("sem-arroba", "Ana", "senha muito boa 1", "email"),
        ("@example.com", "Ana", "senha muito boa 1", "email"),
        ("ana@localhost", "Ana", "senha muito boa 1", "email"),
        ("ana @example.com", "Ana", "senha muito boa 1", "email"),
        ("ana@example.com", "   ", "senha muito boa 1", "name"),
        ("ana@example.com", "x" * 121, "senha muito boa 1", "name"),
        ("ana@example.com", "Ana", "curta", "password"),
    ],
)
def test_create_user_refuses_bad_input(ctx, dbs, email, name, password, field):
    with pytest.raises(Invalid) as exc:
        services.create_user(email, name, password)
    assert exc.value.field == field
    assert dbs.scalar(select(func.count()).select_from(User)) == 0


def test_create_user_refuses_an_email_taken_in_another_case(ctx, dbs):
    factories.UserFactory(email="dup@example.com")
    with pytest.raises(Invalid) as exc:
        services.create_user("DUP@example.COM", "Dup", "senha muito boa 1")
    assert exc.value.field == "email"
    assert "already exists" in exc.value.message


def test_a_lost_race_on_the_email_becomes_the_same_field_error(ctx, dbs, monkeypatch):
    """Another request inserted the email between our check and our insert: the unique
    index refuses it, and the caller's transaction stays usable."""
    factories.UserFactory(email="corrida@example.com")
    monkeypatch.setattr(services, "find_by_email", lambda email: None)
    with pytest.raises(Invalid) as exc:
        services.create_user("Corrida@Example.com", "Corrida", "senha muito boa 1")
    assert exc.value.field == "email"
    assert "already exists" in exc.value.message
    assert db.session.scalar(select(func.count()).select_from(User)) == 1  # still usable


# ------------------------------------------------------------------ authentication ---
def test_authenticate(ctx, dbs):
    user = factories.UserFactory(email="Login@Example.com")
    assert services.authenticate("login@example.com", factories.PASSWORD).id == user.id
    assert services.authenticate("login@example.com", "wrong password!!") is None
    assert services.authenticate("nobody@example.com", factories.PASSWORD) is None
    assert services.authenticate("", "") is None


def test_load_user_finds_a_live_session_and_refuses_the_rest(ctx, dbs):
    from portal.sessions import services as sessions

    user = db.session.get(User, factories.UserFactory().id)
    token = sessions.start(user)
    db.session.commit()
    assert services.load_user(token).id == user.id
    # The user's id (the old cookie format) and garbage open nothing.
    assert services.load_user(f"{user.id}:{user.session_version}") is None
    assert services.load_user("garbage") is None
    assert services.load_user("x" * 10_000) is None


def test_set_password_ends_the_sessions_of_the_old_password(ctx, dbs):
    from portal.sessions import services as sessions

    user = db.session.get(User, factories.UserFactory().id)
    old = sessions.start(user)
    db.session.commit()
    services.set_password(user, "uma nova senha boa")
    db.session.commit()
    assert services.load_user(old) is None
    assert services.check_password(user, "uma nova senha boa")
    new = sessions.start(user)
    db.session.commit()
    assert services.load_user(new).id == user.id


# ------------------------------------------------------------------ password reset ---
def test_request_reset_for_an_unknown_email_writes_nothing(ctx, dbs):
    assert auth.request_password_reset("ghost@example.com", lambda t: f"/r/{t}") is None
    for model in (PasswordReset, EmailOutbox, AuditLog):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0


def test_reset_password_through_the_service(ctx, dbs):
    user = factories.UserFactory()
    links = []
    reset = auth.request_password_reset(user.email.upper(), lambda t: links.append(t) or t)
    assert reset is not None and reset.expires_at - reset.created_at == timedelta(hours=1)
    (token,) = links
    assert auth.find_reset(token).id == reset.id
    auth.reset_password(token, "senha nova e longa")
    db.session.commit()
    with pytest.raises(auth.ResetLinkInvalid):
        auth.find_reset(token)
    dbs.expire_all()
    assert services.check_password(dbs.get(User, user.id), "senha nova e longa")


def test_find_reset_refuses_expired_tokens(ctx, dbs):
    now = datetime.now(UTC)
    _row, token = factories.PasswordResetFactory.with_token(
        created_at=now - timedelta(hours=1, minutes=1), expires_at=now - timedelta(minutes=1)
    )
    with pytest.raises(auth.ResetLinkInvalid):
        auth.find_reset(token)


def test_signup_with_an_invitation_uses_the_invited_email(ctx, dbs):
    user = auth.signup(
        "other@example.com", "Convidado", "senha muito boa 1", invitation_email="inv@example.com"
    )
    assert user.email == "inv@example.com"
    assert user.email_verified_at is not None
