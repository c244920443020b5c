"""Metered usage out: the reads behind the billing page's usage section and its CSV export.

A record counts in the day and the month its ``period_start`` falls in, in UTC (the
metering pipeline's periods are hours or days in UTC; invoices use the same calendar
months). Every read is one statement on ``ix_usage_records_account_id_period_start``
(an index range of one organization's period), whatever the number of records
(tests/db/test_query_plans.py checks the plans). Costs are "at today's prices":
:func:`portal.usage.pricing.rate` on the totals, never a second price rule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, func, literal_column, select

from portal import clock
from portal.extensions import db
from portal.models import Bucket, UsageRecord
from portal.permissions import Permission, require
from portal.usage import pricing

CHART_DAYS = (30, 90)
MONTHS_SHOWN = 12
ZERO = Decimal(0)
GB_DAY = Decimal(24)  # GB-hours in a GB stored for a whole day
SHOWN = Decimal("0.01")


def _at(day: date) -> datetime:
    return datetime.combine(day, time(0), UTC)


def month_start(when: datetime | date) -> date:
    return date(when.year, when.month, 1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def _in_period(start: datetime, end: datetime):
    return and_(UsageRecord.period_start >= start, UsageRecord.period_start < end)


def _utc(column, unit: str):
    return func.date_trunc(unit, func.timezone("UTC", column))


# ------------------------------------------------------------------------ totals ---
def totals(account_id: int, start: datetime, end: datetime) -> dict[str, Decimal]:
    """Each metric's summed quantity for the records whose period starts in
    [``start``, ``end``) (every metric present, zero when nothing was metered)."""
    found = dict(
        db.session.execute(
            select(UsageRecord.metric, func.sum(UsageRecord.quantity))
            .where(UsageRecord.account_id == account_id, _in_period(start, end))
            .group_by(UsageRecord.metric)
        ).all()
    )
    return {metric: Decimal(found.get(metric) or 0) for metric in pricing.METRICS}


@dataclass(frozen=True)
class Figures:
    """Usage in the units people read, and what it costs at today's prices."""

    storage_gb_months: Decimal
    egress_gb: Decimal
    requests_thousands: Decimal
    storage_cost: Decimal
    egress_cost: Decimal
    requests_cost: Decimal
    metered: dict[str, Decimal] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return self.storage_cost + self.egress_cost + self.requests_cost

    @property
    def empty(self) -> bool:
        return not any(self.metered.values())


def figures(metered: dict[str, Decimal]) -> Figures:
    """What :func:`totals` measured, as the page shows it: storage in GB-months (GB-hours
    / 730), egress in GB, requests (PUT + GET) in thousands; each cost from
    :func:`pricing.rate` (egress beyond the free allowance is what is charged)."""
    metered = {m: Decimal(metered.get(m, ZERO)) for m in pricing.METRICS}
    billed = pricing.billed_quantities(metered)
    cost = {c.metric: c.amount for c in pricing.rate(metered)}
    cents = Decimal("0.00")
    return Figures(
        storage_gb_months=billed["storage"],
        egress_gb=metered["egress_gb"],
        requests_thousands=billed["requests_put"] + billed["requests_get"],
        storage_cost=cost.get("storage", cents),
        egress_cost=cost.get("egress", cents),
        requests_cost=cost.get("requests_put", cents) + cost.get("requests_get", cents),
        metered=metered,
    )


@dataclass(frozen=True)
class MonthUsage:
    month: date  # its first day
    figures: Figures


@dataclass(frozen=True)
class Summary:
    this_month: MonthUsage  # so far
    months: list[MonthUsage]  # the 12 months before it, newest first


def summary(account_id: int, now: datetime | None = None) -> Summary:
    """This month so far and the 12 months before it. One statement."""
    now = now or clock.now()
    current = month_start(now)
    first = add_months(current, -MONTHS_SHOWN)
    month = _utc(UsageRecord.period_start, "month").label("month")
    by_month: dict[date, dict[str, Decimal]] = defaultdict(dict)
    for m, metric, quantity in db.session.execute(
        select(month, UsageRecord.metric, func.sum(UsageRecord.quantity))
        .where(
            UsageRecord.account_id == account_id,
            _in_period(_at(first), _at(add_months(current, 1))),
        )
        .group_by(month, UsageRecord.metric)
    ):
        by_month[m.date()][metric] = Decimal(quantity)
    months = [add_months(current, -k) for k in range(0, MONTHS_SHOWN + 1)]
    rows = [MonthUsage(m, figures(by_month.get(m, {}))) for m in months]
    return Summary(this_month=rows[0], months=rows[1:])


# ------------------------------------------------------------------------- daily ---
@dataclass(frozen=True)
class Day:
    day: date
    storage_gb: Decimal  # stored on average that day (GB-hours / 24)
    egress_gb: Decimal


def daily(account_id: int, days: int, now: datetime | None = None) -> list[Day]:
    """The last ``days`` whole days up to today (today included, so far), oldest first;
    days without records are zeros. One statement."""
    now = now or clock.now()
    today = now.astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    day = _utc(UsageRecord.period_start, "day").label("day")
    found: dict[date, dict[str, Decimal]] = defaultdict(dict)
    for d, metric, quantity in db.session.execute(
        select(day, UsageRecord.metric, func.sum(UsageRecord.quantity))
        .where(
            UsageRecord.account_id == account_id,
            _in_period(_at(first), _at(today + timedelta(days=1))),
            UsageRecord.metric.in_(("storage_gb_hours", "egress_gb")),
        )
        .group_by(day, UsageRecord.metric)
    ):
        found[d.date()][metric] = Decimal(quantity)
    series = []
    for k in range(days):
        d = first + timedelta(days=k)
        metered = found.get(d, {})
        series.append(
            Day(
                d,
                (metered.get("storage_gb_hours", ZERO) / GB_DAY).quantize(SHOWN, ROUND_HALF_UP),
                metered.get("egress_gb", ZERO).quantize(SHOWN, ROUND_HALF_UP),
            )
        )
    return series


# -------------------------------------------------------------------- per bucket ---
@dataclass(frozen=True)
class BucketUsage:
    bucket_id: int | None
    name: str | None  # None: usage not tied to a bucket, or of a deleted bucket
    figures: Figures


def per_bucket(account_id: int, month: date) -> list[BucketUsage]:
    """The month's usage of each bucket (by name; usage without a bucket last), each with
    its cost at today's prices. One statement."""
    start, end = _at(month), _at(add_months(month, 1))
    found: dict[tuple, dict[str, Decimal]] = defaultdict(dict)
    for bucket_id, name, metric, quantity in db.session.execute(
        select(
            UsageRecord.bucket_id, Bucket.name, UsageRecord.metric, func.sum(UsageRecord.quantity)
        )
        .outerjoin(Bucket, Bucket.id == UsageRecord.bucket_id)
        .where(UsageRecord.account_id == account_id, _in_period(start, end))
        .group_by(UsageRecord.bucket_id, Bucket.name, UsageRecord.metric)
    ):
        found[(bucket_id, name)][metric] = Decimal(quantity)
    rows = [BucketUsage(b, n, figures(m)) for (b, n), m in found.items()]
    rows.sort(key=lambda r: (r.name is None, r.name or ""))
    return rows


# ----------------------------------------------------------------------- export ---
CSV_HEADER = (
    "event_id",
    "bucket",
    "metric",
    "quantity",
    "period_start",
    "period_end",
    "recorded_at",
)


def parse_month(value: str | None, now: datetime | None = None) -> date | None:
    """``YYYY-MM`` → its first day (``None``/empty: this month); ``None`` for anything else
    or a month in the future."""
    now = now or clock.now()
    if not value:
        return month_start(now)
    if len(value) != 7 or value[4] != "-" or not (value[:4] + value[5:]).isdigit():
        return None
    year, month = int(value[:4]), int(value[5:])
    if not (1 <= month <= 12 and year >= 2000) or date(year, month, 1) > month_start(now):
        return None
    return date(year, month, 1)


def export_rows(actor, account_id: int, month: date) -> Iterator[tuple]:
    """The month's usage records, one CSV row each (``CSV_HEADER``), oldest period first,
    streamed from the database in chunks (never the whole month in memory). Checks access
    first (billing permission: 403 for other roles, 404 for other organizations)."""
    require(actor, account_id, Permission.BILLING)
    start, end = _at(month), _at(add_months(month, 1))
    stmt = (
        select(
            UsageRecord.source_event_id,
            func.coalesce(Bucket.name, literal_column("''")),
            UsageRecord.metric,
            UsageRecord.quantity,
            UsageRecord.period_start,
            UsageRecord.period_end,
            UsageRecord.recorded_at,
        )
        .outerjoin(Bucket, Bucket.id == UsageRecord.bucket_id)
        .where(UsageRecord.account_id == account_id, _in_period(start, end))
        .order_by(UsageRecord.period_start)
    )

    def rows():
        for event_id, bucket, metric, quantity, p_start, p_end, recorded in db.session.execute(
            stmt, execution_options={"yield_per": 2000}
        ):
            yield (
                event_id,
                bucket,
                metric,
                format(quantity.normalize(), "f") if quantity else "0",
                p_start.astimezone(UTC).isoformat(),
                p_end.astimezone(UTC).isoformat(),
                recorded.astimezone(UTC).isoformat(),
            )

    return rows()
