"""People: creating them, checking passwords, loading them for Flask-Login."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal import clock, events, text
from portal.audit import Action
from portal.errors import Invalid, insert_unique
from portal.events import Target
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


def load_user(session_id: str) -> User | None:
    """Flask-Login's loader: the cookie holds a server-side session's random id, and only a
    live session of the current password opens (portal.sessions.services.load)."""
    from flask import has_request_context, request

    from portal.sessions import services as sessions

    account_id = None
    if has_request_context() and request.view_args:
        value = request.view_args.get("account_id")
        account_id = value if isinstance(value, int) and 0 < value < 2**63 else None
    return sessions.load(session_id, account_id)


def set_locale(user: User, locale: str, *, ip: str | None = None) -> None:
    if user.locale != locale:
        events.emit(
            user,
            Action.USER_LOCALE_CHANGED,
            user,
            ip=ip,
            details={"old": user.locale, "new": locale},
        )
        user.locale = locale


# ----------------------------------------------------------------- creating people ---
NAME_MAX = 120  # users.name
NAME_LENGTH = _l("Enter your name (at most 120 characters).")
EMAIL_INVALID = _l("Enter a valid email address.")
EMAIL_TAKEN = _l("An account with this email already exists. Log in or reset your password.")
PASSWORD_TOO_SHORT = _l("The password must have at least %(min)d characters.")
PASSWORD_IS_EMAIL = _l("The password must not be your email address.")
PASSWORD_TOO_COMMON = _l("This password is too common. Choose one that is harder to guess.")

PASSWORD_MIN_LENGTH = 10
# Passwords at the top of every leaked-password list (those with 10 or more characters, and
# Brazilian favourites): a long password is not a good one if everybody uses it.
COMMON_PASSWORDS = frozenset(
    {
        "1234567890",
        "12345678910",
        "0123456789",
        "0987654321",
        "1234512345",
        "1111111111",
        "0000000000",
        "1q2w3e4r5t",
        "1q2w3e4r5t6y",
        "qwertyuiop",
        "qwerty1234",
        "qwerty12345",
        "asdfghjkl1",
        "abcdefghij",
        "abc1234567",
        "password12",
        "password123",
        "password1234",
        "passw0rd123",
        "iloveyou12",
        "123mudar123",
        "mudar12345",
        "mudar123456",
        "senha12345",
        "senha123456",
        "senhasenha",
        "minhasenha",
        "minhasenha123",
        "brasil1234",
        "brasil12345",
        "flamengo123",
        "corinthians",
        "palmeiras123",
        "primecloud",
        "primecloud123",
        "administrator",
        "admin12345",
        "letmein123",
        "welcome123",
        "changeme123",
    }
)


def password_problem(password: str, email: str | None = None) -> str | None:
    """Why ``password`` is not acceptable (a translated message), or None if it is."""
    password = password or ""
    if len(password) < PASSWORD_MIN_LENGTH:
        return str(PASSWORD_TOO_SHORT % {"min": PASSWORD_MIN_LENGTH})
    folded = password.strip().casefold()
    if email and folded == normalize_email(email).casefold():
        return str(PASSWORD_IS_EMAIL)
    if folded in COMMON_PASSWORDS or len(set(folded)) <= 1:  # 0: only whitespace
        return str(PASSWORD_TOO_COMMON)
    return None


def check_new_password(password: str, email: str | None = None) -> None:
    """Invalid(field="password") unless ``password`` meets the policy."""
    problem = password_problem(password, email)
    if problem:
        raise Invalid(problem, field="password")


def _check_email(email: str) -> str:
    email = normalize_email(email or "")
    local, at, domain = email.rpartition("@")
    if (
        not at
        or not local
        or "." not in domain
        or len(email) > 254
        or any(c.isspace() for c in email)
    ):
        raise Invalid(str(EMAIL_INVALID), field="email")
    return email


def create_user(
    email: str,
    name: str,
    password: str,
    *,
    locale: str | None = None,
    email_verified: bool = False,
    source: str = "cli",
    ip: str | None = None,
) -> User:
    """A new person. The email is unique case-insensitively (checked here, and a concurrent
    sign-up that wins the race becomes the same field error); the password meets the policy.
    Records ``user.signed_up``; the caller commits."""
    email = _check_email(email)
    name = text.name_like(name, "name")
    if not 1 <= len(name) <= NAME_MAX:
        raise Invalid(str(NAME_LENGTH), field="name")
    if find_by_email(email) is not None:
        raise Invalid(str(EMAIL_TAKEN), field="email")
    check_new_password(password, email)
    user = User(
        email=email,
        name=name,
        password_hash=hash_password(password),
        locale=locale,
        email_verified_at=clock.now() if email_verified else None,
    )
    # A concurrent sign-up with the same email between our check and this insert.
    insert_unique(user, {"uq_users_email_lower": Invalid(str(EMAIL_TAKEN), field="email")})
    events.emit(user, Action.USER_SIGNED_UP, user, ip=ip, details={"source": source})
    return user


def promote_admin(user: User, *, actor: User | None = None, ip: str | None = None) -> bool:
    """Make ``user`` a platform admin (``flask create-admin``, the demo seed); False if they
    already were. ``actor`` None: the system did it (a command on the server)."""
    if user.is_platform_admin:
        return False
    user.is_platform_admin = True
    events.emit(actor, Action.USER_PROMOTED_ADMIN, user, ip=ip)
    return True


def authenticate(email: str, password: str) -> User | None:
    """The user whose email and password these are, or None. Takes as long for an unknown
    email as for a wrong password (check_password verifies against a dummy hash)."""
    user = find_by_email(email or "")
    if not check_password(user, password or ""):
        return None
    return user


def record_login(user: User, *, ip: str | None = None) -> None:
    user.last_login_at = clock.now()
    events.emit(user, Action.USER_LOGGED_IN, user, ip=ip)


def record_failed_login(email: str, *, ip: str | None = None) -> None:
    """A platform event (no account); the actor is unknown, whoever typed the email. The
    target is always the address typed (a login names people by their email), whether or
    not it has an account."""
    user = find_by_email(email or "")
    target = Target("user", user.id if user else None, normalize_email(email or "")[:254])
    events.emit(None, Action.USER_LOGIN_FAILED, target, ip=ip)


def set_password(user: User, password: str) -> None:
    """Change ``user``'s password; bumping session_version ends every session started with
    the old one (portal.sessions.services.load compares it), remember-me cookies included."""
    check_new_password(password, user.email)
    user.password_hash = hash_password(password)
    user.session_version = user.session_version + 1


# ---------------------------------------------------------------------- the profile ---
TIMEZONE_UNKNOWN = _l("Choose a time zone from the list.")
LANGUAGE_UNKNOWN = _l("Choose a language from the list.")


def update_profile(
    user: User,
    *,
    name: str,
    locale: str,
    timezone: str,
    languages: list[str] | tuple[str, ...],
    ip: str | None = None,
) -> list[str]:
    """Change the person's name, language and time zone; returns the fields that changed
    (an audit row names them, when any did)."""
    from portal.users.timezones import is_known

    name = text.name_like(name, "name")
    if not 1 <= len(name) <= NAME_MAX:
        raise Invalid(str(NAME_LENGTH), field="name")
    if locale not in languages:
        raise Invalid(str(LANGUAGE_UNKNOWN), field="locale")
    if not is_known(timezone):
        raise Invalid(str(TIMEZONE_UNKNOWN), field="timezone")
    changes = {}
    for field, value in (("name", name), ("locale", locale), ("timezone", timezone)):
        if getattr(user, field) != value:
            changes[field] = value
            setattr(user, field, value)
    if changes:
        events.emit(user, Action.USER_PROFILE_UPDATED, user, ip=ip, details=changes)
    return list(changes)
