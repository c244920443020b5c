"""Metered usage out: the reads behind the billing page's usage section and its CSV export.

A record counts in the day and the month its ``period_start`` falls in, in UTC (the
metering pipeline's periods are hours or days in UTC; invoices use the same calendar
months). The sums are read from ``usage_daily_totals`` (the records summed per UTC day and
metric, kept by the importer in the statement that inserts them) and, for the per-bucket
breakdown, ``usage_daily`` (the same per bucket): every read is one statement on a range of
a primary key (one organization's days), at most 31 rows per metric (and bucket) in a
month, whatever the number of records
(tests/db/test_query_plans.py checks the plans). Only the CSV export, which lists the
events themselves, reads ``usage_records``. Costs are "at today's prices":
:func:`portal.usage.pricing.rate` on the totals, never a second price rule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import (
    BigInteger,
    DateTime,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    select,
    union_all,
)

from portal import clock
from portal.extensions import db
from portal.models import Bucket, UsageDaily, UsageDailyTotal, UsageRecord
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


def utc_day(when: datetime | date) -> date:
    """The UTC day that starts at ``when`` (a date, or a datetime at a UTC midnight): the
    daily sums cannot answer for part of a day."""
    if not isinstance(when, datetime):
        return when
    utc = when.astimezone(UTC)
    if utc.time() != time(0):
        raise ValueError(f"{when.isoformat()} is not a UTC midnight")
    return utc.date()


def in_days(first: date, end: date, model=UsageDailyTotal):
    """``usage_daily_totals`` (or ``model``'s) rows of the days in [``first``, ``end``)."""
    return and_(model.day >= first, model.day < end)


def _month_of_day():
    # On a timestamp (without time zone): date_trunc on a date would go through
    # timestamptz and the session's time zone.
    return func.date_trunc("month", cast(UsageDailyTotal.day, DateTime))


# The usage records matching ``{where}`` added to their days' rows of ``usage_daily`` and
# ``usage_daily_totals`` (two statements, run in order): what the importer's batch statement
# does for the rows it inserts, for the writers that insert records by other means (the
# scale dataset, the tests' UsageRecordFactory). Run once per record: they add, they do not
# recompute.
DAILY_FROM_RECORDS = (
    """
INSERT INTO usage_daily AS d (account_id, day, metric, bucket_key, quantity)
SELECT account_id, (period_start AT TIME ZONE 'UTC')::date, metric, coalesce(bucket_id, 0),
       sum(quantity)
  FROM usage_records
 {where}
 GROUP BY 1, 2, 3, 4
 ORDER BY 1, 2, 3, 4
    ON CONFLICT (account_id, day, metric, bucket_key)
    DO UPDATE SET quantity = d.quantity + EXCLUDED.quantity
""",
    """
INSERT INTO usage_daily_totals AS t (account_id, day, metric, quantity)
SELECT account_id, (period_start AT TIME ZONE 'UTC')::date, metric, sum(quantity)
  FROM usage_records
 {where}
 GROUP BY 1, 2, 3
 ORDER BY 1, 2, 3
    ON CONFLICT (account_id, day, metric)
    DO UPDATE SET quantity = t.quantity + EXCLUDED.quantity
""",
)


# ------------------------------------------------------------------------ totals ---
def totals_statement(account_id: int, start: datetime | date, end: datetime | date):
    return (
        select(UsageDailyTotal.metric, func.sum(UsageDailyTotal.quantity))
        .where(UsageDailyTotal.account_id == account_id, in_days(utc_day(start), utc_day(end)))
        .group_by(UsageDailyTotal.metric)
    )


def totals(account_id: int, start: datetime | date, end: datetime | date) -> dict[str, Decimal]:
    """Each metric's summed quantity for the records whose period starts in
    [``start``, ``end``) (UTC midnights; every metric present, zero when nothing was
    metered)."""
    found = dict(db.session.execute(totals_statement(account_id, start, end)).all())
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


def _months_stmt(account_id: int, current: date):
    first = add_months(current, -MONTHS_SHOWN)
    month = _month_of_day()
    return (
        select(
            literal("month").label("kind"),
            month.label("at"),
            cast(null(), BigInteger).label("bucket_id"),
            cast(null(), String).label("name"),
            UsageDailyTotal.metric,
            func.sum(UsageDailyTotal.quantity).label("quantity"),
        )
        .where(UsageDailyTotal.account_id == account_id, in_days(first, add_months(current, 1)))
        .group_by(month, UsageDailyTotal.metric)
    )


def _summary(current: date, rows) -> Summary:
    by_month: dict[date, dict[str, Decimal]] = defaultdict(dict)
    for row in rows:
        by_month[row.at.date()][row.metric] = Decimal(row.quantity)
    months = [add_months(current, -k) for k in range(0, MONTHS_SHOWN + 1)]
    shown = [MonthUsage(m, figures(by_month.get(m, {}))) for m in months]
    return Summary(this_month=shown[0], months=shown[1:])


def summary(account_id: int, now: datetime | None = None) -> Summary:
    """This month so far and the 12 months before it. One statement."""
    current = month_start(now or clock.now())
    return _summary(current, db.session.execute(_months_stmt(account_id, current)))


# ------------------------------------------------------------------------- daily ---
@dataclass(frozen=True)
class Day:
    day: date
    storage_gb: Decimal  # stored on average that day (GB-hours / 24)
    egress_gb: Decimal


def _days_stmt(account_id: int, first: date, today: date):
    day = cast(UsageDailyTotal.day, DateTime)
    return (
        select(
            literal("day").label("kind"),
            day.label("at"),
            cast(null(), BigInteger).label("bucket_id"),
            cast(null(), String).label("name"),
            UsageDailyTotal.metric,
            func.sum(UsageDailyTotal.quantity).label("quantity"),
        )
        .where(
            UsageDailyTotal.account_id == account_id,
            in_days(first, today + timedelta(days=1)),
            UsageDailyTotal.metric.in_(("storage_gb_hours", "egress_gb")),
        )
        .group_by(UsageDailyTotal.day, UsageDailyTotal.metric)
    )


def _window(days: int, now: datetime | None) -> tuple[date, date]:
    today = (now or clock.now()).astimezone(UTC).date()
    return today - timedelta(days=days - 1), today


def _daily(first: date, days: int, rows) -> list[Day]:
    found: dict[date, dict[str, Decimal]] = defaultdict(dict)
    for row in rows:
        found[row.at.date()][row.metric] = Decimal(row.quantity)
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


def daily(account_id: int, days: int, now: datetime | None = None) -> list[Day]:
    """The last ``days`` whole days up to today (today included, so far), oldest first;
    days without records are zeros. One statement."""
    first, today = _window(days, now)
    return _daily(first, days, db.session.execute(_days_stmt(account_id, first, today)))


# -------------------------------------------------------------------- per bucket ---
@dataclass(frozen=True)
class BucketUsage:
    bucket_id: int | None
    name: str | None  # None: usage not tied to a bucket, or of a deleted bucket
    figures: Figures


# The breakdown shows the buckets that stored the most this month (then those that moved
# the most): an organization may have ten thousand; the month's CSV has every one.
BUCKETS_SHOWN = 20


def _top_buckets(account_id: int, month: date):
    """The bucket keys of the month's ``BUCKETS_SHOWN + 1`` largest users (one more tells
    that there are more)."""
    in_month = in_days(month, add_months(month, 1), UsageDaily)
    storage = func.sum(
        case((UsageDaily.metric == "storage_gb_hours", UsageDaily.quantity), else_=0)
    )
    return (
        select(UsageDaily.bucket_key)
        .where(UsageDaily.account_id == account_id, in_month)
        .group_by(UsageDaily.bucket_key)
        .order_by(storage.desc(), func.sum(UsageDaily.quantity).desc(), UsageDaily.bucket_key)
        .limit(BUCKETS_SHOWN + 1)
    )


def _buckets_stmt(account_id: int, month: date):
    # bucket_key 0 (no bucket) and the id of a deleted bucket both find no bucket: their
    # usage is shown together, without a name (as usage_records' bucket_id NULL).
    return (
        select(
            literal("bucket").label("kind"),
            cast(null(), DateTime).label("at"),
            Bucket.id.label("bucket_id"),
            Bucket.name.label("name"),
            UsageDaily.metric,
            func.sum(UsageDaily.quantity).label("quantity"),
        )
        .outerjoin(Bucket, Bucket.id == UsageDaily.bucket_key)
        .where(
            UsageDaily.account_id == account_id,
            in_days(month, add_months(month, 1), UsageDaily),
            UsageDaily.bucket_key.in_(_top_buckets(account_id, month)),
        )
        .group_by(Bucket.id, Bucket.name, UsageDaily.metric)
    )


def _per_bucket(rows) -> list[BucketUsage]:
    found: dict[tuple, dict[str, Decimal]] = defaultdict(dict)
    for row in rows:
        found[(row.bucket_id, row.name)][row.metric] = Decimal(row.quantity)
    shown = [BucketUsage(b, n, figures(m)) for (b, n), m in found.items()]
    shown.sort(key=lambda r: (r.name is None, r.name or ""))
    return shown


def _largest_first(usage: BucketUsage):
    """The order :func:`_top_buckets` picks in: storage, then what else was used."""
    f = usage.figures
    return (-f.storage_gb_months, -f.egress_gb, -f.requests_thousands, usage.name or "")


def per_bucket(account_id: int, month: date) -> list[BucketUsage]:
    """The month's usage of the buckets that used the most (at most ``BUCKETS_SHOWN + 1``:
    one more tells that there are more), by name, usage without a bucket last; each with
    its cost at today's prices. One statement."""
    return _per_bucket(db.session.execute(_buckets_stmt(account_id, month)))


# -------------------------------------------------------------------- overview ---
@dataclass(frozen=True)
class Overview:
    summary: Summary
    days: list[Day]
    buckets: list[BucketUsage]  # this month's largest users (BUCKETS_SHOWN at most)
    more_buckets: bool = False  # others used something too (the CSV has them)


def overview_statement(account_id: int, days: int, now: datetime):
    current = month_start(now)
    first, today = _window(days, now)
    return union_all(
        _months_stmt(account_id, current),
        _days_stmt(account_id, first, today),
        _buckets_stmt(account_id, current),
    )


def overview(account_id: int, days: int, now: datetime | None = None) -> Overview:
    """What the billing page's usage section shows — :func:`summary`, :func:`daily` and
    :func:`per_bucket` of this month — in one statement (their three aggregates,
    UNION ALL: three ranges of the same index)."""
    now = now or clock.now()
    current = month_start(now)
    first, _today = _window(days, now)
    rows = defaultdict(list)
    for row in db.session.execute(overview_statement(account_id, days, now)):
        rows[row.kind].append(row)
    buckets = _per_bucket(rows["bucket"])
    more = len(buckets) > BUCKETS_SHOWN  # the statement's one more: leave the smallest out
    if more:
        kept = {id(b) for b in sorted(buckets, key=_largest_first)[:BUCKETS_SHOWN]}
        buckets = [b for b in buckets if id(b) in kept]
    return Overview(
        summary=_summary(current, rows["month"]),
        days=_daily(first, days, rows["day"]),
        buckets=buckets,
        more_buckets=more,
    )


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
    digits = value[:4] + value[5:]
    if len(value) != 7 or value[4] != "-" or not (digits.isascii() and digits.isdigit()):
        return None
    year, month = int(value[:4]), int(value[5:])
    if not (1 <= month <= 12 and year >= 2000) or date(year, month, 1) > month_start(now):
        return None
    return date(year, month, 1)


def export_statement(account_id: int, month: date):
    start, end = _at(month), _at(add_months(month, 1))
    return (
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


def export_rows(actor, account_id: int, month: date) -> Iterator[tuple]:
    """The month's usage records, one CSV row each (``CSV_HEADER``), oldest period first,
    streamed from the database in chunks (never the whole month in memory). Checks access
    first (billing permission: 403 for other roles, 404 for other organizations)."""
    require(actor, account_id, Permission.BILLING)
    stmt = export_statement(account_id, month)

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
