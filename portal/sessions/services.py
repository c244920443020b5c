"""Server-side sessions: starting one at login, finding it on every request, ending it.

- :func:`start` creates a session for a person who just logged in and returns the random
  id the browser keeps (Flask-Login stores it as the user id in the session cookie and the
  remember-me cookie). Only its SHA-256 is stored.
- :func:`load` is Flask-Login's user loader: one indexed query (the session by its hash,
  joined to its user) finds the person, or None when the session was ended, has expired or
  belongs to an older password (``users.session_version``).
- :func:`touch` records "last seen" at most once a minute per session (:data:`TOUCH_EVERY`),
  so a page costs no write most of the time.
- :func:`end` (log out), :func:`revoke` (one of my other sessions), :func:`revoke_others`
  ("log out everywhere else") and :func:`end_all` (password reset) delete rows: a copied
  cookie then opens nothing.

No request, flash, current_user or commit here: the caller owns the transaction and passes
the IP and user agent."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext
from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.orm.attributes import set_committed_value

from portal import clock, events, permissions
from portal.audit import Action
from portal.errors import Invalid, NotFound
from portal.extensions import db
from portal.models import Account, AccountMember, User, UserSession
from portal.permissions import check_id
from portal.sessions.devices import describe
from portal.text import fit

TOUCH_EVERY = timedelta(minutes=1)
USER_AGENT_MAX = UserSession.user_agent.type.length


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def idle_lifetime() -> timedelta:
    """How long a session without "keep me logged in" lives after its last request."""
    return current_app.config["PERMANENT_SESSION_LIFETIME"]


def remember_lifetime() -> timedelta:
    """How long a "keep me logged in" session lives (the remember-me cookie's lifetime)."""
    return current_app.config["REMEMBER_COOKIE_DURATION"]


# ------------------------------------------------------------------- one request ---
def start(
    user: User,
    *,
    remember: bool = False,
    ip: str | None = None,
    user_agent: str | None = None,
) -> str:
    """A new session for ``user``; returns the random id the browser keeps (also set as
    ``user.session_token``, which Flask-Login reads through ``get_id()``)."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    row = UserSession(
        user_id=user.id,
        token_hash=digest(token),
        session_version=user.session_version,
        remember=remember,
        created_at=now,
        last_seen_at=now,
        expires_at=now + (remember_lifetime() if remember else idle_lifetime()),
        ip=ip,
        user_agent=fit(user_agent, USER_AGENT_MAX) or None,
    )
    db.session.add(row)
    db.session.flush()
    user.session_token = token
    user.login_session = row
    return token


def load(token: str | None, account_id: int | None = None) -> User | None:
    """The person of the session ``token`` names, if it is still alive. One query, on the
    unique index of token_hash. With ``account_id`` (the organization the URL names), the
    same query reads the person's membership of it, which ``permissions.require`` then
    uses instead of a query of its own."""
    if not token or len(token) > 128:
        return None
    stmt = (
        select(User, UserSession)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            UserSession.token_hash == digest(token),
            UserSession.expires_at > clock.now(),
            UserSession.session_version == User.session_version,
        )
    )
    if account_id is not None:
        stmt = (
            stmt.add_columns(Account, AccountMember)
            .outerjoin(
                AccountMember,
                and_(AccountMember.user_id == User.id, AccountMember.account_id == account_id),
            )
            .outerjoin(Account, Account.id == AccountMember.account_id)
        )
    row = db.session.execute(stmt).first()
    if row is None:
        return None
    user, login_session = row[0], row[1]
    user.session_token = token
    user.login_session = login_session
    if account_id is not None:
        permissions.remember_membership(user, account_id, row[2], row[3])
    return user


def touch_due(login_session: UserSession, now: datetime | None = None) -> bool:
    return (now or clock.now()) - login_session.last_seen_at >= TOUCH_EVERY


def touch(login_session: UserSession, *, ip: str | None = None) -> bool:
    """Record that the session was just used (and, without "keep me logged in", push its
    expiry back), at most once per :data:`TOUCH_EVERY`. True when it wrote."""
    now = clock.now()
    if not touch_due(login_session, now):
        return False
    values = {"last_seen_at": now}
    if ip:
        values["ip"] = ip
    if not login_session.remember:
        values["expires_at"] = now + idle_lifetime()
    db.session.execute(
        update(UserSession)
        .where(
            UserSession.id == login_session.id,
            UserSession.last_seen_at <= now - TOUCH_EVERY,  # one writer per minute
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    for key, value in values.items():  # what the row holds now, without a second write
        set_committed_value(login_session, key, value)
    return True


def end(user: User, *, ip: str | None = None) -> None:
    """Log out: this browser's session ends for good (its cookies open nothing anymore)."""
    login_session = getattr(user, "login_session", None)
    if login_session is not None:
        db.session.execute(delete(UserSession).where(UserSession.id == login_session.id))
    events.emit(user, Action.USER_LOGGED_OUT, user, ip=ip)


def end_all(user: User) -> int:
    """Every session of ``user`` ends (a password reset: whoever had the old password is
    out). Returns how many there were."""
    result = db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    return result.rowcount or 0


# ---------------------------------------------------------------------- /sessions ---
@dataclass(frozen=True)
class SessionView:
    """One of the person's sessions, as /sessions shows it."""

    id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    ip: str | None
    user_agent: str | None
    remember: bool
    is_current: bool

    @property
    def dom_id(self) -> str:
        return f"session-{self.id}"

    @property
    def device(self) -> str:
        return describe(self.user_agent)

    @property
    def may_revoke(self) -> bool:
        return not self.is_current


def _view(row: UserSession, current_id: int | None) -> SessionView:
    return SessionView(
        id=row.id,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
        ip=None if row.ip is None else str(row.ip),
        user_agent=row.user_agent,
        remember=row.remember,
        is_current=row.id == current_id,
    )


def _alive(user: User):
    return (
        UserSession.user_id == user.id,
        UserSession.expires_at > clock.now(),
        UserSession.session_version == user.session_version,
    )


def _current_id(user: User) -> int | None:
    login_session = getattr(user, "login_session", None)
    return login_session.id if login_session is not None else None


def list_sessions(user: User) -> list[SessionView]:
    """The person's live sessions, this one first, then most recently seen first. One
    query (ix_user_sessions_user_id_last_seen_at)."""
    current = _current_id(user)
    rows = db.session.scalars(
        select(UserSession)
        .where(*_alive(user))
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    ).all()
    views = [_view(r, current) for r in rows]
    return sorted(views, key=lambda v: not v.is_current)


def session_row(user: User, session_id: int) -> SessionView | None:
    """One of the person's live sessions (None when it is gone or not theirs)."""
    row = db.session.scalar(
        select(UserSession).where(UserSession.id == check_id(session_id), *_alive(user))
    )
    return _view(row, _current_id(user)) if row is not None else None


def revoke(user: User, session_id: int, *, ip: str | None = None) -> SessionView:
    """End another of the person's sessions ("log out" on that row). Another person's
    session, or one already ended, is NotFound; this browser's is Invalid (log out)."""
    row = db.session.scalar(
        select(UserSession)
        .where(UserSession.id == check_id(session_id), *_alive(user))
        .with_for_update()
    )
    if row is None:
        raise NotFound()
    view = _view(row, _current_id(user))
    if view.is_current:
        raise Invalid(gettext("This is the session you are using: to end it, log out."))
    db.session.delete(row)
    events.emit(
        user,
        Action.USER_SESSION_REVOKED,
        user,
        ip=ip,
        details={"device": view.device, "session_ip": view.ip},
    )
    db.session.flush()
    return view


def revoke_others(user: User, *, ip: str | None = None) -> int:
    """ "Log out everywhere else": every session of the person but this one ends. Returns
    how many ended (an audit row says so when there were any)."""
    current = _current_id(user)
    stmt = delete(UserSession).where(UserSession.user_id == user.id)
    if current is not None:
        stmt = stmt.where(UserSession.id != current)
    count = db.session.execute(stmt).rowcount or 0
    if count:
        events.emit(user, Action.USER_OTHER_SESSIONS_REVOKED, user, ip=ip, details={"count": count})
    return count


def count_alive(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(UserSession).where(*_alive(user)))
