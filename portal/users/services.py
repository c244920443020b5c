"""People: creating them, checking passwords, loading them for Flask-Login."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select

from portal import audit
from portal.audit import Action
from portal.extensions import db
from portal.models import User

hasher = PasswordHasher()
# A hash to verify against when the email is unknown, so a failed login takes as long
# whether or not the account exists.
_DUMMY_HASH = hasher.hash("not a real password, only for constant-time failures")


def hash_password(password: str) -> str:
    return hasher.hash(password)


def check_password(user: User | None, password: str) -> bool:
    """True if ``password`` is ``user``'s. Rehashes transparently when parameters change."""
    try:
        hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    if user is None:
        return False
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return True


def normalize_email(email: str) -> str:
    return email.strip()


def find_by_email(email: str) -> User | None:
    return db.session.scalar(
        select(User).where(func.lower(User.email) == normalize_email(email).lower())
    )


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: "<id>:<session_version>"; a stale version logs the session out."""
    try:
        raw_id, raw_version = user_id.split(":", 1)
        uid, version = int(raw_id), int(raw_version)
    except ValueError:
        return None
    user = db.session.get(User, uid)
    if user is None or user.session_version != version:
        return None
    return user


def set_locale(user: User, locale: str) -> None:
    if user.locale != locale:
        audit.record(user, Action.USER_LOCALE_CHANGED, old=user.locale, new=locale)
        user.locale = locale
