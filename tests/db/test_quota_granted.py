"""Quota requests' granted value (0018), proved with raw SQL: the approval raises the quota to
what was granted (never lowers it), a granted value exists only on an approved request and
never exceeds the ask, an approval without one grants the ask, a decision is final, and two
approvals of the same request raise the quota once."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from tests.db.conftest import Rows, refused

APPROVE = (
    "UPDATE quota_requests SET status = 'approved', reviewed_at = now(), granted_value = %s "
    "WHERE id = %s"
)


def quota(conn, account_id, resource="buckets"):
    return conn.execute(
        f"SELECT quota_{resource} FROM accounts WHERE id = %s", (account_id,)
    ).fetchone()[0]


def granted(conn, request_id):
    return conn.execute(
        "SELECT granted_value FROM quota_requests WHERE id = %s", (request_id,)
    ).fetchone()[0]


@pytest.mark.parametrize(
    ("resource", "value", "expected"),
    [
        ("buckets", 30, (30, 100, 5)),
        ("storage_gb", 400, (10, 400, 5)),
        ("access_keys", 7, (10, 100, 7)),
    ],
)
def test_approval_raises_the_quota_to_the_granted_value(conn, rows, resource, value, expected):
    account = rows.account()
    request = rows.quota_request(account, resource, value=1000)
    conn.execute(APPROVE, (value, request))
    assert (
        conn.execute(
            "SELECT quota_buckets, quota_storage_gb, quota_access_keys FROM accounts WHERE id = %s",
            (account,),
        ).fetchone()
        == expected
    )


def test_an_approval_without_a_granted_value_grants_the_ask(conn, rows):
    account = rows.account()
    request = rows.quota_request(account, value=50)
    conn.execute(APPROVE, (None, request))
    assert granted(conn, request) == 50 and quota(conn, account) == 50


def test_an_approval_never_lowers_a_quota(conn, rows):
    account = rows.account()
    request = rows.quota_request(account, value=50)
    conn.execute("UPDATE accounts SET quota_buckets = 80 WHERE id = %s", (account,))
    conn.execute(APPROVE, (20, request))
    assert quota(conn, account) == 80


@pytest.mark.parametrize("value", [51, 0, -3])
def test_the_granted_value_is_positive_and_at_most_the_ask(conn, rows, value):
    request = rows.quota_request(rows.account(), value=50)
    refused(conn, APPROVE, (value, request), match="ck_quota_requests_granted_value_decided")


@pytest.mark.parametrize("status", ["pending", "rejected"])
def test_only_an_approved_request_has_a_granted_value(conn, rows, status):
    request = rows.quota_request(rows.account(), value=50)
    if status == "rejected":
        conn.execute(
            "UPDATE quota_requests SET status = 'rejected', reviewed_at = now() WHERE id = %s",
            (request,),
        )
    # Pending: the CHECK refuses it; rejected: the decision is final (checked first).
    refused(
        conn,
        "UPDATE quota_requests SET granted_value = 20 WHERE id = %s",
        (request,),
        match="quota_requests_granted_value_(decided|immutable)",
    )


def test_the_granted_value_is_final(conn, rows):
    account = rows.account()
    request = rows.quota_request(account, value=50)
    conn.execute(APPROVE, (30, request))
    for sql in (
        "UPDATE quota_requests SET granted_value = 40 WHERE id = %s",
        "UPDATE quota_requests SET granted_value = NULL WHERE id = %s",
    ):
        refused(conn, sql, (request,), match="quota_requests_granted_value_immutable")
    refused(
        conn,
        "UPDATE quota_requests SET requested_value = 60 WHERE id = %s",
        (request,),
        match="quota_requests_requested_value_immutable",
    )
    assert quota(conn, account) == 30


def test_two_concurrent_approvals_raise_the_quota_once(connect):
    """Two transactions approve the same request: the second waits for the first's row
    lock, then finds it approved (its UPDATE matches nothing new: no second raise)."""
    setup = connect()
    rows = Rows(setup)
    account = rows.account()
    request = rows.quota_request(account, value=50)
    setup.execute("UPDATE accounts SET quota_buckets = 10 WHERE id = %s", (account,))
    setup.commit()
    first, second = connect(), connect()
    guarded = APPROVE + " AND status = 'pending'"
    first.execute(guarded, (30, request))
    outcome = {}

    def run():
        cur = second.execute(guarded, (40, request))  # blocks until `first` commits
        outcome["rows"] = cur.rowcount
        second.commit()

    thread = threading.Thread(target=run)
    thread.start()
    watcher = connect(autocommit=True)
    pid = second.info.backend_pid
    while (
        thread.is_alive()
        and not watcher.execute(
            "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s", (pid,)
        ).fetchone()[0]
    ):
        time.sleep(0.01)  # until the second transaction waits for the row lock
    first.commit()
    thread.join(timeout=30)
    assert outcome == {"rows": 0}
    assert quota(watcher, account) == 30 and granted(watcher, request) == 30


def test_the_check_names_the_rule(conn, rows):
    request = rows.quota_request(rows.account(), value=50)
    error = refused(conn, APPROVE, (60, request))
    assert isinstance(error, psycopg.errors.CheckViolation)
    assert error.diag.constraint_name == "ck_quota_requests_granted_value_decided"
