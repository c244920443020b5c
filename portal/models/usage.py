"""Usage notices: which storage-quota thresholds an organization was told about, per month."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import created_at, db, pk

USAGE_THRESHOLDS = (75, 90, 100)


class UsageThresholdNotice(db.Model):
    """Owners and admins were told that storage reached ``threshold`` % of the quota in
    ``month``: one row per (account, month, threshold), so each notice goes out once, also
    when two imports check at the same moment (migration 0020)."""

    __tablename__ = "usage_threshold_notices"
    __table_args__ = (
        UniqueConstraint("account_id", "month", "threshold"),
        CheckConstraint("threshold IN (75, 90, 100)", name="threshold_known"),
        CheckConstraint("extract(day FROM month) = 1", name="month_first_day"),
    )

    id: Mapped[int] = pk()
    # Deleting an account removes its notices (nothing else refers to them).
    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    month: Mapped[date] = mapped_column(Date, nullable=False)
    threshold: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = created_at()
