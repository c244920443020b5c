"""Storage-quota notices: when an organization's stored bytes reach 75 %, 90 % or 100 % of
its storage quota, its owners and admins are told once per threshold per month, with a
link to the quotas page where they ask for more.

"Stored" is what the quota meters read (:mod:`portal.quotas.usage`: the buckets' sizes,
which the usage import's snapshots set). Months are calendar months in UTC. Each notice is
a row of ``usage_threshold_notices`` (unique per account, month and threshold), inserted
with ``ON CONFLICT DO NOTHING ... RETURNING``: only the transaction that inserted it
notifies, so a re-run or two imports at once never tell anyone twice. When storage jumps
past several thresholds at once, every one is recorded and one notice, the highest, goes
out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Date, Integer, Numeric, cast, column, func, literal, select, values
from sqlalchemy.dialects.postgresql import insert

from portal import clock, events, links
from portal.audit import Action
from portal.events import Target
from portal.extensions import db
from portal.models import USAGE_THRESHOLDS, Account, UsageThresholdNotice
from portal.quotas.usage import GB, counts_columns


def check_statement(account_ids: list[int], month):
    """One statement: each account's stored bytes (the quota meters' own expression,
    :func:`portal.quotas.usage.counts_columns`), the thresholds they reach, the notices
    recorded for the first time (``ON CONFLICT DO NOTHING ... RETURNING``), and per
    account the highest new one."""
    stored = counts_columns(Account.id)[1]
    used = (
        select(
            Account.id.label("id"),
            Account.name.label("name"),
            Account.quota_storage_gb.label("quota"),
            stored.label("bytes"),
        )
        .where(Account.id.in_(account_ids))
        .cte("used")
    )
    levels = values(column("threshold", Integer), name="levels").data(
        [(t,) for t in USAGE_THRESHOLDS]
    )
    crossed = select(used.c.id, literal(month, Date).label("month"), levels.c.threshold).where(
        used.c.bytes > 0,
        cast(used.c.bytes, Numeric) * 100 >= cast(levels.c.threshold, Numeric) * used.c.quota * GB,
    )
    notices = UsageThresholdNotice.__table__
    inserted = (
        insert(notices)
        .from_select(["account_id", "month", "threshold"], crossed)
        .on_conflict_do_nothing(index_elements=["account_id", "month", "threshold"])
        .returning(notices.c.account_id, notices.c.threshold)
        .cte("inserted")
    )
    return (
        select(used.c.id, used.c.name, used.c.quota, used.c.bytes, func.max(inserted.c.threshold))
        .join(inserted, inserted.c.account_id == used.c.id)
        .group_by(used.c.id, used.c.name, used.c.quota, used.c.bytes)
        .order_by(used.c.id)
    )


@dataclass(frozen=True)
class Notice:
    account_id: int
    account_name: str
    threshold: int
    used_gb: Decimal
    quota_gb: int


def check(account_ids: Iterable[int]) -> list[Notice]:
    """Record and send the notices due for ``account_ids`` (in the caller's transaction):
    one statement finds the thresholds reached and records the new ones; each organization
    newly past a threshold then gets its audit row and its owners' and admins'
    notifications."""
    ids = sorted(set(account_ids))
    if not ids:
        return []
    today = clock.now()
    month = today.date().replace(day=1)
    notices = []
    for account_id, name, quota, stored, threshold in db.session.execute(
        check_statement(ids, month)
    ):
        used = (Decimal(stored) / GB).quantize(Decimal("0.01"), ROUND_HALF_UP)
        notice = Notice(account_id, name, threshold, used, quota)
        events.emit(
            None,
            Action.USAGE_THRESHOLD_REACHED,
            Target("storage_quota", account_id, name),
            account=account_id,
            notify=events.MANAGERS,
            link=links.path("quotas.index", account_id=account_id),
            details={"threshold": threshold, "used_gb": str(used), "quota_gb": quota},
            params={
                "account_name": name,
                "threshold": threshold,
                "used_gb": str(used),
                "quota_gb": quota,
            },
        )
        notices.append(notice)
    return notices
