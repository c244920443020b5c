"""Messages to a user, shown unread first."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import created_at, db, pk


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        # DOMAIN.md's starting index, extended so the list "unread first, newest first"
        # is read in index order (no sort) and keyset pagination seeks into it.
        Index(
            "ix_notifications_user_id_read_created_at_id",
            "user_id",
            "read",
            text("created_at DESC"),
            text("id DESC"),
        ),
        # The unread badge on every page: a small partial index, index-only count.
        Index(
            "ix_notifications_unread_user_id",
            "user_id",
            postgresql_where=text("NOT read"),
        ),
        # ON DELETE CASCADE from accounts finds an account's notifications by index (0010).
        Index(
            "ix_notifications_account_id",
            "account_id",
            postgresql_where=text("account_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = pk()
    # Deleting a user removes their notifications.
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    # The organization it is about, if any; its notifications go with it.
    account_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("accounts.id", ondelete="CASCADE")
    )
    # What happened (e.g. "member.role_changed"); rendered in the reader's language from
    # kind + params at display time, so the text follows the reader's locale.
    kind: Mapped[str] = mapped_column(String(64), nullable=False)
    params: Mapped[dict] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb"), default=dict
    )
    link: Mapped[str | None] = mapped_column(String(512))
    read: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("false"), default=False
    )
    created_at: Mapped[datetime] = created_at()
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
