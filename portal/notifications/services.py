"""Notifications: what people are told, unread first."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Notification, User


def unread_count(user: User) -> int:
    """Index-only count over the partial index ix_notifications_unread_user_id."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user.id, Notification.read.is_(False))
        )
        or 0
    )


def notify(
    user_id: int, kind: str, *, account_id: int | None = None, link: str | None = None, **params
) -> Notification:
    """Add a notification to the caller's transaction."""
    row = Notification(user_id=user_id, kind=kind, account_id=account_id, link=link, params=params)
    db.session.add(row)
    return row
