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

from sqlalchemy import text

from portal import clock, events, links
from portal.audit import Action
from portal.events import Target
from portal.extensions import db
from portal.quotas.usage import GB

CHECK = text(
    """
WITH used AS (
    SELECT a.id, a.name, a.quota_storage_gb,
           (SELECT coalesce(sum(b.size_bytes), 0) FROM buckets b WHERE b.account_id = a.id)
               AS bytes
      FROM accounts a
     WHERE a.id = ANY(:ids)
),
crossed AS (
    SELECT u.id, t.threshold
      FROM used u
     CROSS JOIN (VALUES (75), (90), (100)) AS t(threshold)
     WHERE u.bytes > 0
       AND u.bytes::numeric * 100 >= t.threshold::numeric * u.quota_storage_gb * :gb
),
ins AS (
    INSERT INTO usage_threshold_notices (account_id, month, threshold)
    SELECT id, :month, threshold FROM crossed
        ON CONFLICT (account_id, month, threshold) DO NOTHING
    RETURNING account_id, threshold
)
SELECT u.id, u.name, u.quota_storage_gb, u.bytes, max(ins.threshold) AS threshold
  FROM ins JOIN used u ON u.id = ins.account_id
 GROUP BY u.id, u.name, u.quota_storage_gb, u.bytes
 ORDER BY u.id
"""
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
        CHECK, {"ids": ids, "month": month, "gb": GB}
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
