"""Emails waiting to be delivered. A row is written in the same transaction as the change
that causes the email, and delivered after commit; SMTP failures leave it queued."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import created_at, db, pk


class EmailOutbox(db.Model):
    __tablename__ = "email_outbox"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'sent', 'failed')", name="status_known"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint("(status = 'sent') = (sent_at IS NOT NULL)", name="sent_at_iff_sent"),
        # The delivery loop asks for due, queued rows, oldest first; sent rows are the bulk
        # of the table and never looked at again, so they stay out of the index.
        Index(
            "ix_email_outbox_due",
            "next_attempt_at",
            postgresql_where=text("status = 'queued'"),
        ),
        # The admin home counts failed emails (0011).
        Index("ix_email_outbox_failed", "id", postgresql_where=text("status = 'failed'")),
    )

    id: Mapped[int] = pk()
    to_address: Mapped[str] = mapped_column(String(254), nullable=False)
    subject: Mapped[str] = mapped_column(String(255), nullable=False)
    body_text: Mapped[str] = mapped_column(Text, nullable=False)
    body_html: Mapped[str] = mapped_column(Text, nullable=False)
    template: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(
        String(16), nullable=False, server_default="queued", default="queued"
    )
    attempts: Mapped[int] = mapped_column(
        Integer, nullable=False, server_default=text("0"), default=0
    )
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=text("now()")
    )
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
