"""The append-only activity record.

audit_logs rows are never updated or deleted (a trigger refuses both). Their foreign keys
are ON DELETE RESTRICT: an account or user that appears in the audit trail is never
hard-deleted; accounts are suspended and people are anonymised instead.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import INET, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import created_at, db, pk


class AuditLog(db.Model):
    __tablename__ = "audit_logs"
    __table_args__ = (
        # DOMAIN.md's (account_id, created_at), with id as a tie-breaker so keyset
        # pagination "newest first" is an index scan with a row comparison.
        Index(
            "ix_audit_logs_account_id_created_at_id",
            "account_id",
            text("created_at DESC"),
            text("id DESC"),
        ),
        # /admin/audit reads every account's rows newest first.
        Index("ix_audit_logs_created_at_id", text("created_at DESC"), text("id DESC")),
        # The audit page's filters (0011): by action, by person, within an account or
        # across all of them (/admin/audit); each keeps the keyset order (created_at, id).
        Index(
            "ix_audit_logs_account_id_action_created_at_id",
            "account_id",
            "action",
            text("created_at DESC"),
            text("id DESC"),
        ),
        Index(
            "ix_audit_logs_action_created_at_id", "action", text("created_at DESC"), text("id DESC")
        ),
        Index(
            "ix_audit_logs_account_id_actor_id_created_at_id",
            "account_id",
            "actor_id",
            text("created_at DESC"),
            text("id DESC"),
        ),
        # Also serves the ON DELETE RESTRICT check when a user is deleted.
        Index(
            "ix_audit_logs_actor_id_created_at_id",
            "actor_id",
            text("created_at DESC"),
            text("id DESC"),
        ),
    )

    id: Mapped[int] = pk()
    # NULL for platform events (sign-ups, logins, admin actions without an account).
    account_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("accounts.id", ondelete="RESTRICT")
    )
    # NULL when the system acted (CLI, scheduled jobs).
    actor_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="RESTRICT")
    )
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    # A snapshot of the target's name, kept when the target is gone.
    target_label: Mapped[str | None] = mapped_column(String(255))
    ip: Mapped[str | None] = mapped_column(INET)
    details: Mapped[dict] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb"), default=dict
    )
    created_at: Mapped[datetime] = created_at()
