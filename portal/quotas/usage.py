"""What an organization uses against each of its quotas — the one source that the
dashboard, the buckets, keys, usage and quotas pages all read, so they never disagree.

- buckets: how many buckets exist;
- storage_gb: the bytes its buckets hold (from the latest usage snapshots), in GB
  (1 GB = 1024³ bytes, as the quota is stated);
- access_keys: active keys that have not expired (inactive, revoked and expired keys do not
  count against the ceiling).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Select, func, or_, select

from portal.extensions import db
from portal.models import AccessKey, Account, Bucket, KeyStatus

GB = 1024**3
NEAR = Decimal("0.8")  # "near the limit" from 80 %


@dataclass(frozen=True)
class Meter:
    """One quota: ``used`` of ``quota`` (storage in GB, the rest in units)."""

    resource: str
    used: Decimal | int
    quota: int

    @property
    def ratio(self) -> Decimal:
        if self.quota <= 0:
            return Decimal(1) if self.used else Decimal(0)
        return Decimal(self.used) / Decimal(self.quota)

    @property
    def percent(self) -> int:
        return int((self.ratio * 100).to_integral_value(ROUND_HALF_UP))

    @property
    def at_limit(self) -> bool:
        return self.used >= self.quota

    @property
    def near_limit(self) -> bool:
        return not self.at_limit and self.ratio >= NEAR

    @property
    def room(self) -> Decimal | int:
        """How much more fits (never negative)."""
        return max(self.quota - self.used, 0)


@dataclass(frozen=True)
class Usage:
    buckets: Meter
    storage_gb: Meter
    access_keys: Meter
    storage_bytes: int

    def __iter__(self):
        return iter((self.buckets, self.storage_gb, self.access_keys))

    def meter(self, resource: str) -> Meter:
        return getattr(self, resource)


def counts_columns(account_id) -> tuple:
    """(buckets, bytes stored, active keys) of the account ``account_id`` — an id, or a
    column such as ``Account.id`` for a list of accounts (the subqueries then correlate to
    each row: one index range of the row's account each, only for the rows of the page)."""
    buckets = (
        select(func.count()).select_from(Bucket).where(Bucket.account_id == account_id)
    ).scalar_subquery()
    stored = (
        select(func.coalesce(func.sum(Bucket.size_bytes), 0)).where(Bucket.account_id == account_id)
    ).scalar_subquery()
    keys = (
        select(func.count())
        .select_from(AccessKey)
        .where(
            AccessKey.account_id == account_id,
            AccessKey.status == KeyStatus.ACTIVE.value,
            or_(AccessKey.expires_at.is_(None), AccessKey.expires_at > func.now()),
        )
    ).scalar_subquery()
    return buckets, stored, keys


COUNT_LABELS = ("used_buckets", "used_bytes", "used_keys")


def labelled_counts(account_id) -> tuple:
    """:func:`counts_columns` labelled ``used_buckets``, ``used_bytes``, ``used_keys`` (to
    add to a list's select; :func:`from_row` reads them back)."""
    return tuple(
        c.label(name) for c, name in zip(counts_columns(account_id), COUNT_LABELS, strict=True)
    )


def counts_statement(account_id: int) -> Select:
    """(buckets, bytes stored, active keys) of one account, in one statement of scalar
    subqueries (each an index range of the account's own rows)."""
    return select(*counts_columns(account_id))


def usage(account: Account) -> Usage:
    """``account``'s usage against its quotas. One query."""
    return from_counts(account, *db.session.execute(counts_statement(account.id)).one())


def from_row(row) -> Usage:
    """The usage of a row that has the account's quotas (``quota_buckets``...) and
    :func:`labelled_counts`' columns."""
    return from_counts(row, *(getattr(row, name) for name in COUNT_LABELS))


def from_counts(account: Account, buckets: int, stored: int, keys: int) -> Usage:
    """The usage from :func:`counts_statement`'s row (a page that reads more in the same
    statement adds its own columns to it). ``account`` is anything with the quota columns
    (an Account, or a row that selected them)."""
    stored = int(stored)
    storage_gb = (Decimal(stored) / GB).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return Usage(
        buckets=Meter("buckets", buckets, account.quota_buckets),
        storage_gb=Meter("storage_gb", storage_gb, account.quota_storage_gb),
        access_keys=Meter("access_keys", keys, account.quota_access_keys),
        storage_bytes=stored,
    )
