"""Account access: signing up, logging in and out, resetting a forgotten password.

No request, flash, current_user or commit here: the caller owns the transaction. Links that
go into emails are built by the caller (``reset_url``), because only it knows the request's
host and scheme."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from portal import clock, events, mail
from portal.audit import Action
from portal.errors import DomainError
from portal.extensions import db
from portal.models import PasswordReset, User
from portal.sessions import services as sessions
from portal.users import services as users

RESET_LIFETIME = timedelta(hours=1)
RESET_SUBJECT = _l("Reset your PrimeCloud password")
LOGIN_FAILED = _l("Email or password is incorrect.")


class ResetLinkInvalid(DomainError):
    """The reset link is unknown, already used or expired (the page says which is not
    revealed: all three read the same)."""

    status = 400


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def signup(
    email: str,
    name: str,
    password: str,
    *,
    locale: str | None = None,
    invitation_email: str | None = None,
    ip: str | None = None,
) -> User:
    """A person signing up. With ``invitation_email`` (the address an invitation link was
    sent to, kept in the session) that address is used whatever was posted, and counts as
    verified: the person followed a link sent to it."""
    if invitation_email:
        email = invitation_email
    return users.create_user(
        email,
        name,
        password,
        locale=locale,
        email_verified=bool(invitation_email),
        source="signup",
        ip=ip,
    )


def login(email: str, password: str, *, ip: str | None = None) -> User | None:
    """The user, logged in (audit row, last_login_at), or None after recording the failure."""
    user = users.authenticate(email, password)
    if user is None:
        users.record_failed_login(email, ip=ip)
        return None
    users.record_login(user, ip=ip)
    return user


def request_password_reset(
    email: str, reset_url: Callable[[str], str], *, ip: str | None = None
) -> PasswordReset | None:
    """For a known email: a single-use token (only its SHA-256 is stored) valid for an hour,
    and an email with ``reset_url(token)`` in the user's language. For an unknown email:
    nothing at all, so the caller answers the same either way."""
    user = users.find_by_email(email or "")
    if user is None:
        return None
    token = secrets.token_urlsafe(32)
    now = clock.now()
    reset = PasswordReset(
        user_id=user.id,
        token_hash=_digest(token),
        created_at=now,
        expires_at=now + RESET_LIFETIME,
    )
    db.session.add(reset)
    db.session.flush()
    mail.queue(
        user.email,
        "password_reset",
        RESET_SUBJECT,
        locale=user.locale,
        name=user.name,
        link=reset_url(token),
        minutes=int(RESET_LIFETIME.total_seconds() // 60),
    )
    events.emit(user, Action.USER_PASSWORD_RESET_REQUESTED, user, ip=ip)
    return reset


def find_reset(token: str, *, lock: bool = False) -> PasswordReset:
    """The usable reset for ``token``, else ResetLinkInvalid (unknown, used or expired)."""
    stmt = select(PasswordReset).where(PasswordReset.token_hash == _digest(token or ""))
    if lock:
        stmt = stmt.with_for_update()
    reset = db.session.scalar(stmt)
    if reset is None or reset.used_at is not None or reset.expires_at <= clock.now():
        raise ResetLinkInvalid()
    return reset


def reset_password(token: str, password: str, *, ip: str | None = None) -> User:
    """Set a new password through a reset link. The token works once; the user's other
    unused tokens stop working; every session (remember-me cookies included) ends;
    the email counts as verified (the link was sent to it)."""
    reset = find_reset(token, lock=True)
    user = db.session.get(User, reset.user_id, with_for_update=True)
    users.set_password(user, password)  # Invalid(field="password") before anything changes
    now = clock.now()
    reset.used_at = now
    db.session.execute(
        update(PasswordReset)
        .where(
            PasswordReset.user_id == user.id,
            PasswordReset.used_at.is_(None),
            PasswordReset.id != reset.id,
        )
        .values(used_at=now)
    )
    if user.email_verified_at is None:
        user.email_verified_at = now
    ended = sessions.end_all(user)
    events.emit(user, Action.USER_PASSWORD_RESET, user, ip=ip, details={"sessions_ended": ended})
    return user
