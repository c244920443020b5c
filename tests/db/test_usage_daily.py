"""usage_daily and usage_daily_totals (revision 0023): the records' sums per (account, UTC
day, metric, bucket) and per (account, UTC day, metric), as
the importer keeps them — exactly the GROUP BY of usage_records after any imports,
unchanged by importing the same file again, a deleted bucket's usage kept in the totals —
and its rules in the database (known metric, no negative quantity, one row per key)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import psycopg
import pytest
from sqlalchemy import text

from tests import factories
from tests.db.conftest import refused

# The records' daily sums that usage_daily does not hold, and the other way round.
DIFFERENCE = """
SELECT count(*) FROM (
    ((SELECT account_id, (period_start AT TIME ZONE 'UTC')::date, metric,
             coalesce(bucket_id, 0), sum(quantity)
        FROM usage_records GROUP BY 1, 2, 3, 4)
     EXCEPT ALL
     (SELECT account_id, day, metric, bucket_key, quantity FROM usage_daily))
    UNION ALL
    ((SELECT account_id, day, metric, bucket_key, quantity FROM usage_daily)
     EXCEPT ALL
     (SELECT account_id, (period_start AT TIME ZONE 'UTC')::date, metric,
             coalesce(bucket_id, 0), sum(quantity)
        FROM usage_records GROUP BY 1, 2, 3, 4))
) AS d
"""
TOTALS_DIFFERENCE = """
SELECT count(*) FROM (
    ((SELECT account_id, (period_start AT TIME ZONE 'UTC')::date, metric, sum(quantity)
        FROM usage_records GROUP BY 1, 2, 3)
     EXCEPT ALL
     (SELECT account_id, day, metric, quantity FROM usage_daily_totals))
    UNION ALL
    ((SELECT account_id, day, metric, quantity FROM usage_daily_totals)
     EXCEPT ALL
     (SELECT account_id, (period_start AT TIME ZONE 'UTC')::date, metric, sum(quantity)
        FROM usage_records GROUP BY 1, 2, 3))
) AS d
"""
TOTALS = "SELECT account_id, day, metric, quantity FROM usage_daily_totals ORDER BY 1, 2, 3"
DAILY = "SELECT account_id, day, metric, bucket_key, quantity FROM usage_daily ORDER BY 1, 2, 3, 4"


def _event(n: int, org, **extra) -> dict:
    line = {
        "event_id": f"evt-daily-{n}",
        "organization": org,
        "metric": "egress_gb",
        "quantity": "1.5",
        # 22:00 in São Paulo on Oct 31 is Nov 1 in UTC: the day is the UTC one
        "period_start": "2026-10-31T22:00:00-03:00",
        "period_end": "2026-10-31T23:00:00-03:00",
    }
    line.update(extra)
    return line


def _file(path, lines) -> str:
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return str(path)


@pytest.fixture
def two_files(dbs, tmp_path):
    acme = factories.AccountFactory(name="Acme Ltda")
    other = factories.AccountFactory(name="Outra Ltda")
    factories.BucketFactory(account=acme, name="fotos")
    factories.BucketFactory(account=acme, name="backup")
    dbs.flush()
    first = [
        _event(1, acme.id, bucket="fotos"),
        _event(2, acme.id, bucket="fotos", quantity="2.25"),
        _event(3, acme.id, bucket="backup", metric="storage_gb_hours", quantity="24"),
        _event(4, acme.id, metric="requests_get", quantity=1000),
        _event(5, acme.id, period_start="2026-11-01T00:00:00Z", period_end="2026-11-01T01:00Z"),
        _event(6, other.id, period_start="2026-11-02T23:59:59Z", period_end="2026-11-03T00:00Z"),
        _event(7, other.id, bucket="unknown-bucket"),  # refused: adds nothing
    ]
    second = [
        _event(2, acme.id, bucket="fotos", quantity="2.25"),  # a duplicate: adds nothing
        _event(8, acme.id, bucket="fotos", quantity="0.000001"),
        _event(9, other.id, metric="requests_put", quantity=7),
    ]
    return acme, other, _file(tmp_path / "a.jsonl", first), _file(tmp_path / "b.jsonl", second)


def _import(runner, path):
    result = runner.invoke(args=["usage", "import", path])
    assert result.exit_code in (0, 1), result.output  # 1: some lines refused
    return result


def test_usage_daily_is_the_records_daily_sums_and_a_second_import_changes_nothing(
    runner, dbs, two_files
):
    acme, other, first, second = two_files
    _import(runner, first)
    dbs.expire_all()
    assert dbs.execute(text(DIFFERENCE)).scalar_one() == 0
    assert dbs.execute(text(TOTALS_DIFFERENCE)).scalar_one() == 0
    rows = dbs.execute(text(DAILY)).all()
    totals = dbs.execute(text(TOTALS)).all()
    acme_egress = {
        (str(r.day), r.bucket_key > 0): r.quantity
        for r in rows
        if r.account_id == acme.id and r.metric == "egress_gb"
    }
    assert acme_egress == {
        ("2026-11-01", True): Decimal("3.75"),
        ("2026-11-01", False): Decimal("1.5"),
    }
    assert {(r.account_id, str(r.day)) for r in rows if r.account_id == other.id} == {
        (other.id, "2026-11-02")
    }

    _import(runner, first)  # the same file again: every event a duplicate
    dbs.expire_all()
    assert dbs.execute(text(DAILY)).all() == rows
    assert dbs.execute(text(TOTALS)).all() == totals

    _import(runner, second)
    dbs.expire_all()
    assert dbs.execute(text(DIFFERENCE)).scalar_one() == 0
    assert dbs.execute(text(TOTALS_DIFFERENCE)).scalar_one() == 0
    assert len(dbs.execute(text(DAILY)).all()) == len(rows) + 1  # evt-9: a new metric


def test_a_deleted_buckets_usage_stays_in_the_totals(runner, dbs, two_files, app):
    from portal.usage import services

    acme, _other, first, _second = two_files
    _import(runner, first)
    dbs.execute(
        text("DELETE FROM buckets WHERE account_id = :a AND name = 'fotos'"), {"a": acme.id}
    )
    dbs.commit()
    with app.app_context():
        per_bucket = services.per_bucket(acme.id, date(2026, 11, 1))
        totals = services.totals(acme.id, date(2026, 11, 1), date(2026, 12, 1))
    # the records' bucket_id became NULL; the daily rows keep the old id (not a bucket any
    # more): both shown as usage not tied to a bucket
    names = {b.name: b.figures.metered for b in per_bucket}
    assert set(names) == {"backup", None}
    assert names[None]["egress_gb"] == Decimal("5.25") and names[None]["requests_get"] == Decimal(
        1000
    )
    assert totals["egress_gb"] == Decimal("5.25")


INSERT = (
    "INSERT INTO usage_daily (account_id, day, metric, bucket_key, quantity) "
    "VALUES (%s, '2026-11-01', %s, %s, %s)"
)


@pytest.mark.parametrize(
    ("metric", "bucket_key", "quantity", "rule"),
    [
        ("cpu_hours", 0, 1, "metric_known"),
        ("egress_gb", 0, -1, "quantity_not_negative"),
        ("egress_gb", -1, 1, "bucket_key_not_negative"),
    ],
)
def test_a_daily_row_is_a_known_metric_and_not_negative(
    conn, rows, metric, bucket_key, quantity, rule
):
    account = rows.account("active")
    refused(conn, INSERT, (account, metric, bucket_key, quantity), match=rule)


def test_one_daily_row_per_account_day_metric_and_bucket(conn, rows):
    account = rows.account("active")
    conn.execute(INSERT, (account, "egress_gb", 0, 1))
    conn.execute(INSERT, (account, "egress_gb", 5, 1))
    refused(
        conn,
        INSERT,
        (account, "egress_gb", 0, 2),
        error=psycopg.errors.UniqueViolation,
        match="pk_usage_daily",
    )


def test_a_daily_total_is_a_known_metric_and_one_row_per_account_day_and_metric(conn, rows):
    account = rows.account("active")
    insert = (
        "INSERT INTO usage_daily_totals (account_id, day, metric, quantity) "
        "VALUES (%s, '2026-11-01', %s, %s)"
    )
    conn.execute(insert, (account, "egress_gb", 1))
    refused(conn, insert, (account, "cpu_hours", 1), match="metric_known")
    refused(conn, insert, (account, "egress_gb", -1), match="quantity_not_negative")
    refused(
        conn,
        insert,
        (account, "egress_gb", 2),
        error=psycopg.errors.UniqueViolation,
        match="pk_usage_daily_totals",
    )
