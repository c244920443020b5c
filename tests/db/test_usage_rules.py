"""Usage import's rules in the database (revision 0020): storage-quota notices once per
(account, month, threshold), also when two transactions race; a suspended organization's
bucket measurements follow the snapshots while everything else stays read-only; usage
records unique by event id."""

from __future__ import annotations

import threading

import psycopg
import pytest

from tests.db.conftest import refused, unique

NOTICE = "INSERT INTO usage_threshold_notices (account_id, month, threshold) VALUES (%s, %s, %s)"


def test_a_notice_is_recorded_once_per_account_month_and_threshold(conn, rows):
    account = rows.account("active")
    conn.execute(NOTICE, (account, "2026-11-01", 75))
    conn.execute(NOTICE, (account, "2026-11-01", 90))
    conn.execute(NOTICE, (account, "2026-12-01", 75))
    refused(
        conn,
        NOTICE,
        (account, "2026-11-01", 75),
        error=psycopg.errors.UniqueViolation,
        match="uq_usage_threshold_notices_account_id_month_threshold",
    )


@pytest.mark.parametrize(
    ("month", "threshold", "rule"),
    [
        ("2026-11-02", 75, "month_first_day"),
        ("2026-11-01", 80, "threshold_known"),
        ("2026-11-01", 0, "threshold_known"),
    ],
)
def test_a_notice_is_for_a_month_and_a_known_threshold(conn, rows, month, threshold, rule):
    account = rows.account("active")
    refused(conn, NOTICE, (account, month, threshold), match=rule)


def test_two_racing_notices_insert_one(connect, rows, conn):
    """The import's INSERT ... ON CONFLICT DO NOTHING RETURNING, from two connections at
    once: one returns the row (and notifies), the other nothing."""
    owner = rows.user(unique("race") + "@example.com")
    account = rows.account("active", owner=owner)
    conn.commit()
    first, second = connect(), connect()
    statement = NOTICE + " ON CONFLICT DO NOTHING RETURNING id"
    got = first.execute(statement, (account, "2026-11-01", 100)).fetchall()
    results = {}

    def other():
        results["second"] = second.execute(statement, (account, "2026-11-01", 100)).fetchall()
        second.commit()

    thread = threading.Thread(target=other)
    thread.start()
    first.commit()  # the second waits for this, then sees the conflict
    thread.join(timeout=30)
    assert len(got) == 1 and results["second"] == []


def test_a_suspended_organizations_sizes_follow_the_snapshots(conn, rows):
    account = rows.account("active")
    bucket = rows.bucket(account)
    rows.set_account_status(account, "suspended")
    conn.execute(
        "UPDATE buckets SET object_count = 3, size_bytes = 4096, usage_measured_at = now() "
        "WHERE id = %s",
        (bucket,),
    )
    assert rows.one("SELECT size_bytes FROM buckets WHERE id = %s", (bucket,)) == 4096
    refused(
        conn,
        "UPDATE buckets SET size_bytes = 1, versioning = 'enabled' WHERE id = %s",
        (bucket,),
        match="buckets_account_writable",
    )


def test_a_suspended_organization_still_creates_no_bucket(conn, rows):
    account = rows.account("active")
    rows.set_account_status(account, "suspended")
    refused(
        conn,
        "INSERT INTO buckets (account_id, name) VALUES (%s, 'novo-bucket')",
        (account,),
        match="buckets_account_writable",
    )


def test_usage_records_are_unique_by_event_id(conn, rows):
    account = rows.account("active")
    insert = (
        "INSERT INTO usage_records (account_id, metric, quantity, period_start, period_end, "
        "source_event_id) VALUES (%s, 'egress_gb', 1, now(), now() + interval '1 hour', %s)"
    )
    conn.execute(insert, (account, "evt-db-1"))
    refused(conn, insert, (account, "evt-db-1"), error=psycopg.errors.UniqueViolation)
