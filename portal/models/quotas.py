"""Requests to raise an account's quota, reviewed by platform admins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import created_at, db, pk

QUOTA_RESOURCES = ("buckets", "storage_gb", "access_keys")


class QuotaRequest(db.Model):
    __tablename__ = "quota_requests"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status_known"),
        CheckConstraint(
            "resource IN ('buckets', 'storage_gb', 'access_keys')", name="resource_known"
        ),
        CheckConstraint("requested_value > 0", name="requested_value_positive"),
        CheckConstraint(
            "(status = 'pending') = (reviewed_at IS NULL)", name="reviewed_at_iff_reviewed"
        ),
        # What an approval granted: only on approved requests, never above the ask (0018).
        CheckConstraint(
            "granted_value IS NULL OR (status = 'approved' AND granted_value BETWEEN 1 AND "
            "requested_value)",
            name="granted_value_decided",
        ),
        # At most one pending request per (account, resource).
        Index(
            "uq_quota_requests_pending_account_resource",
            "account_id",
            "resource",
            unique=True,
            postgresql_where=text("status = 'pending'"),
        ),
        # The staff review queue (0018): pending requests oldest first, then the decided
        # ones, most recently decided first; keyset on (created_at, id) / (reviewed_at, id).
        Index(
            "ix_quota_requests_pending_created_at_id",
            "created_at",
            "id",
            postgresql_where=text("status = 'pending'"),
        ),
        Index(
            "ix_quota_requests_decided_reviewed_at_id",
            "reviewed_at",
            "id",
            postgresql_where=text("status <> 'pending'"),
        ),
        # /accounts/<id>/quotas' history, newest first, keyset on (created_at, id) (0018).
        Index("ix_quota_requests_account_id_created_at_id", "account_id", "created_at", "id"),
    )

    id: Mapped[int] = pk()
    # Deleting an account removes its quota requests.
    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    resource: Mapped[str] = mapped_column(String(32), nullable=False)
    current_value: Mapped[int] = mapped_column(BigInteger, nullable=False)
    requested_value: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # What an approval granted (at most what was asked); NULL while pending, when rejected,
    # and on requests approved before 0018 (which granted requested_value: see `granted`).
    granted_value: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text, nullable=False, server_default="", default="")
    status: Mapped[str] = mapped_column(
        String(16), nullable=False, server_default="pending", default="pending"
    )
    requested_by_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    reviewed_by_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    review_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def granted(self) -> int | None:
        """What the approval granted (None unless approved)."""
        if self.status != "approved":
            return None
        return self.granted_value if self.granted_value is not None else self.requested_value
