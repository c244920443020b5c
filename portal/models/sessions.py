"""Server-side sessions: one row per signed-in browser, so a session can be ended for good.

The browser holds a random session id (in Flask's signed session cookie and, with "keep me
logged in", in the remember-me cookie); the table holds only its SHA-256. Logging out,
"log out" on /sessions and a password reset delete rows: a copied cookie then opens
nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import INET
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import created_at, db, pk


class UserSession(db.Model):
    __tablename__ = "user_sessions"
    __table_args__ = (
        CheckConstraint("expires_at > created_at", name="expires_after_creation"),
        CheckConstraint("length(token_hash) = 64", name="token_hash_sha256"),
        # /sessions lists a person's sessions, most recently seen first; deleting a user
        # finds their sessions through it too.
        Index("ix_user_sessions_user_id_last_seen_at", "user_id", text("last_seen_at DESC")),
    )

    id: Mapped[int] = pk()
    # A person's sessions go with them (nothing else refers to a session).
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    # SHA-256 (hex) of the random id the browser holds; unique: every request finds its
    # session by this index.
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    # users.session_version when the session started: a password reset bumps it.
    session_version: Mapped[int] = mapped_column(BigInteger, nullable=False)
    remember: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("false"), default=False
    )
    created_at: Mapped[datetime] = created_at()
    last_seen_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ip: Mapped[str | None] = mapped_column(INET)
    user_agent: Mapped[str | None] = mapped_column(String(512))
