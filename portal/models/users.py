"""People who can log in, and their password-reset tokens."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
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
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import created_at, db, pk, updated_at


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        # Unique case-insensitively: "Ana@x.com" and "ana@x.com" are one person.
        Index("uq_users_email_lower", func.lower(text("email")), unique=True),
        CheckConstraint("email = btrim(email) AND position('@' in email) > 1", name="email_shape"),
        CheckConstraint("length(name) BETWEEN 1 AND 120", name="name_length"),
        CheckConstraint("locale IS NULL OR locale IN ('pt_BR', 'en')", name="locale_known"),
    )

    id: Mapped[int] = pk()
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    is_platform_admin: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("false"), default=False
    )
    locale: Mapped[str | None] = mapped_column(String(8))
    timezone: Mapped[str] = mapped_column(
        String(64), nullable=False, server_default="America/Sao_Paulo", default="America/Sao_Paulo"
    )
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Bumped on password change and reset: every session started before it stops working.
    session_version: Mapped[int] = mapped_column(
        BigInteger, nullable=False, server_default=text("1"), default=1
    )
    last_account_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("accounts.id", ondelete="SET NULL", use_alter=True)
    )
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    # Not columns: the session this request runs in (portal.sessions.services sets them when
    # it starts or loads one). Flask-Login stores get_id() in the session cookie and the
    # remember-me cookie: the session's random id, never the user's id, so ending the
    # session server-side ends every copy of those cookies.
    session_token = None
    login_session = None

    def get_id(self) -> str:
        if not self.session_token:
            raise RuntimeError("log a person in through portal.sessions.services.start()")
        return self.session_token

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class PasswordReset(db.Model):
    """A single-use password-reset token. Only its SHA-256 is stored."""

    __tablename__ = "password_resets"
    __table_args__ = (
        CheckConstraint("expires_at > created_at", name="expires_after_creation"),
        Index("ix_password_resets_user_id", "user_id"),
    )

    id: Mapped[int] = pk()
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = created_at()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
