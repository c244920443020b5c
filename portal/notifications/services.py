"""Notifications: what people are told, unread first.

The list is ordered ``read, created_at DESC, id DESC`` — exactly the index
``ix_notifications_user_id_read_created_at_id`` — and paginated by keyset
(``portal.pagination``): the cursor is the last row's ``(read, created_at, id)``. The order
mixes directions, so a later page inside the unread rows is "the rest of the unread rows,
then the first read rows": a UNION ALL of two index range scans of at most ``limit`` rows
each, and no page skips rows whatever its depth (one ``read OR (created_at, id) < cursor``
scan would filter every unread row before the cursor: on 50,000 unread rows, 0.3 ms for the
UNION ALL against 2 ms at depth 25,000 and 6 ms at 50,000).
"""

from __future__ import annotations

from sqlalchemy import Select, func, select, true, update

from portal import clock
from portal.errors import NotFound
from portal.extensions import db
from portal.models import Notification, User
from portal.pagination import Cursor, Key, Keyset, Page
from portal.permissions import check_id

PAGE_SIZE = 20

ORDER = Keyset(
    Key(Notification.read, desc=False), Key(Notification.created_at), Key(Notification.id)
)


def _mine(user_id: int) -> Select:
    return select(Notification).where(Notification.user_id == user_id)


def page_statement(user_id: int, after: Cursor | None, limit: int):
    """The statement that reads a page (the plan tests EXPLAIN it)."""
    return ORDER.statement(_mine(user_id), after, limit)


def list_page(user: User, after: Cursor | None = None, limit: int = PAGE_SIZE) -> Page:
    """One page of ``user``'s notifications, unread first, newest first. One query."""
    return ORDER.page(_mine(user.id), after, limit)


def unread_count_statement(user_id: int) -> Select:
    # "NOT read" is the partial index's own predicate: an index-only count.
    return (
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, ~Notification.read)
    )


def unread_count(user: User) -> int:
    """Index-only count over the partial index ix_notifications_unread_user_id."""
    return db.session.scalar(unread_count_statement(user.id)) or 0


def get_own(user: User, notification_id: int) -> Notification:
    """``user``'s notification; another person's (or a missing one) is NotFound."""
    row = db.session.scalar(
        select(Notification).where(
            Notification.id == check_id(notification_id), Notification.user_id == user.id
        )
    )
    if row is None:
        raise NotFound()
    return row


def mark_read(user: User, notification_id: int) -> Notification:
    """Mark one of ``user``'s notifications read (idempotent)."""
    row = get_own(user, notification_id)
    if not row.read:
        row.read = True
        row.read_at = clock.now()
    return row


def mark_all_read(user: User) -> int:
    """Mark every unread notification of ``user`` read; returns how many changed."""
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, ~Notification.read)
        .values(read=true(), read_at=func.now())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def notify(
    user_id: int, kind: str, *, account_id: int | None = None, link: str | None = None, **params
) -> Notification:
    """Add a notification to the caller's transaction."""
    row = Notification(user_id=user_id, kind=kind, account_id=account_id, link=link, params=params)
    if clock.traveling():
        row.created_at = clock.now()
    db.session.add(row)
    return row
