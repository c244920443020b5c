"""Organizations, their members and pending invitations."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import created_at, db, pk, updated_at


class AccountStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    ACTIVE = "active"
    SUSPENDED = "suspended"


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    BILLING = "billing"
    VIEWER = "viewer"


ROLES = tuple(r.value for r in Role)
_ROLE_CHECK = "role IN ('owner', 'admin', 'member', 'billing', 'viewer')"

# Quotas a new account starts with; raised by approved quota requests.
DEFAULT_QUOTAS = {"buckets": 10, "storage_gb": 100, "access_keys": 5}


class Account(db.Model):
    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'approved', 'active', 'suspended')", name="status_known"
        ),
        CheckConstraint("length(btrim(name)) BETWEEN 2 AND 120", name="name_length"),
        CheckConstraint("quota_buckets >= 0", name="quota_buckets_not_negative"),
        CheckConstraint("quota_storage_gb >= 0", name="quota_storage_gb_not_negative"),
        CheckConstraint("quota_access_keys >= 0", name="quota_access_keys_not_negative"),
        CheckConstraint(
            "(status = 'suspended') = (suspended_at IS NOT NULL)", name="suspended_at_iff_suspended"
        ),
        # /admin/accounts pages newest first, all or by status (0014).
        Index("ix_accounts_created_at_id", text("created_at DESC"), text("id DESC")),
        Index(
            "ix_accounts_status_created_at_id", "status", text("created_at DESC"), text("id DESC")
        ),
        # Migration 0003: normalized shape and valid check digits (cnpj_is_valid() is a SQL
        # function created by that migration; status moves are checked by triggers, 0004).
        CheckConstraint(
            "cnpj ~ '^[0-9A-Z]{12}[0-9]{2}$' AND cnpj_is_valid(cnpj)", name="cnpj_valid"
        ),
    )

    id: Mapped[int] = pk()
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    # 14 characters, no punctuation, upper case; validity is checked by the database.
    cnpj: Mapped[str] = mapped_column(String(14), nullable=False, unique=True)
    status: Mapped[str] = mapped_column(
        String(16), nullable=False, server_default="pending", default="pending"
    )
    quota_buckets: Mapped[int] = mapped_column(
        Integer, nullable=False, server_default=text("10"), default=DEFAULT_QUOTAS["buckets"]
    )
    quota_storage_gb: Mapped[int] = mapped_column(
        BigInteger, nullable=False, server_default=text("100"), default=DEFAULT_QUOTAS["storage_gb"]
    )
    quota_access_keys: Mapped[int] = mapped_column(
        Integer, nullable=False, server_default=text("5"), default=DEFAULT_QUOTAS["access_keys"]
    )
    created_by_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    activated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    suspended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    suspension_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    def quota(self, resource: str) -> int:
        return getattr(self, f"quota_{resource}")

    def __repr__(self) -> str:
        return f"<Account {self.id} {self.cnpj} {self.status}>"


class AccountMember(db.Model):
    __tablename__ = "account_members"
    __table_args__ = (
        UniqueConstraint("account_id", "user_id"),
        CheckConstraint(_ROLE_CHECK, name="role_known"),
        # "Which organizations am I in?" on every page.
        Index("ix_account_members_user_id", "user_id"),
        # The members page: keyset pages by joining date (0022).
        Index("ix_account_members_account_id_created_at_id", "account_id", "created_at", "id"),
    )

    id: Mapped[int] = pk()
    # Deleting an account removes its memberships (they mean nothing without it).
    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    # Deleting a user removes their memberships; the last-owner rule still applies.
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    invited_by_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    account: Mapped[Account] = relationship(lazy="raise")
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="raise")  # noqa: F821


class Invitation(db.Model):
    __tablename__ = "invitations"
    __table_args__ = (
        CheckConstraint(_ROLE_CHECK, name="role_known"),
        CheckConstraint("email = lower(btrim(email))", name="email_normalized"),
        CheckConstraint("expires_at > created_at", name="expires_after_creation"),
        CheckConstraint(
            "accepted_at IS NULL OR revoked_at IS NULL", name="not_both_accepted_and_revoked"
        ),
        # At most one pending invitation per (account, email).
        Index(
            "uq_invitations_pending_account_email",
            "account_id",
            "email",
            unique=True,
            postgresql_where=text("accepted_at IS NULL AND revoked_at IS NULL"),
        ),
        # The invitations page and the 50-a-day limit read an account's recent rows.
        Index("ix_invitations_account_id_created_at", "account_id", "created_at"),
    )

    id: Mapped[int] = pk()
    # Deleting an account removes its invitations.
    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    # SHA-256 of the token, hex: the token itself is only in the email.
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = created_at()
    expires_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=text("now() + interval '7 days'")
    )
    sent_count: Mapped[int] = mapped_column(
        Integer, nullable=False, server_default=text("1"), default=1
    )
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accepted_by_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )

    account: Mapped[Account] = relationship(lazy="raise")

    @property
    def state(self) -> str:
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= datetime.now(UTC):
            return "expired"
        return "pending"
