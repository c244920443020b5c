"""Issue 10's rules on access keys, tried with raw SQL: permission and scope values, the
expiry's bounds, a scope row only between a key and a bucket of the same organization,
what a deleted bucket leaves behind (the key stays scoped to buckets, reaching none), and
the notices table (one notice of each kind per key)."""

from __future__ import annotations

import pytest
from psycopg.errors import CheckViolation, ForeignKeyViolation, UniqueViolation

from tests.db.conftest import Rows, refused


@pytest.fixture
def rows(conn):
    return Rows(conn)


def test_permission_and_scope_are_known_values(conn, rows):
    account = rows.account()
    key = rows.key(account)
    for sql in (
        "UPDATE access_keys SET permission = 'admin' WHERE id = %s",
        "UPDATE access_keys SET scope = 'some' WHERE id = %s",
    ):
        error = refused(conn, sql, (key,))
        assert error.diag.constraint_name in (
            "ck_access_keys_permission_known",
            "ck_access_keys_scope_known",
        )
    with conn.transaction(force_rollback=True):
        conn.execute(
            "UPDATE access_keys SET permission = 'read-only', scope = 'buckets' WHERE id = %s",
            (key,),
        )
    permission = conn.execute("SELECT permission, scope FROM access_keys WHERE id = %s", (key,))
    assert permission.fetchone() == ("read-write", "all")


@pytest.mark.parametrize(
    "expiry",
    ["created_at", "created_at - interval '1 day'", "created_at + interval '1002 days'"],
)
def test_an_expiry_is_after_the_creation_and_within_1000_days(conn, rows, expiry):
    key = rows.key(rows.account())
    error = refused(conn, f"UPDATE access_keys SET expires_at = {expiry} WHERE id = %s", (key,))
    assert error.diag.constraint_name == "ck_access_keys_expiry_within_1000_days"


def test_an_expiry_within_the_bounds_is_stored(conn, rows):
    key = rows.key(rows.account())
    with conn.transaction(force_rollback=True):
        conn.execute(
            "UPDATE access_keys SET expires_at = created_at + interval '1000 days' WHERE id = %s",
            (key,),
        )


def test_a_scope_row_joins_a_key_and_a_bucket_of_the_same_organization(conn, rows):
    account, other = rows.account(), rows.account()
    key = rows.key(account)
    mine, theirs = rows.bucket(account), rows.bucket(other)
    insert = (
        "INSERT INTO access_key_buckets (access_key_id, bucket_id, account_id) VALUES (%s, %s, %s)"
    )
    # Another organization's bucket, whatever account_id the row claims.
    refused(conn, insert, (key, theirs, account), error=ForeignKeyViolation)
    refused(conn, insert, (key, theirs, other), error=ForeignKeyViolation)
    refused(conn, insert, (key, 2**62, account), error=ForeignKeyViolation)
    with conn.transaction(force_rollback=True):
        conn.execute(insert, (key, mine, account))
        refused(conn, insert, (key, mine, account), error=UniqueViolation)


def test_a_deleted_bucket_leaves_the_key_scoped_to_no_bucket(conn, rows):
    account = rows.account()
    key = rows.key(account)
    bucket = rows.bucket(account)
    with conn.transaction(force_rollback=True):
        conn.execute("UPDATE access_keys SET scope = 'buckets' WHERE id = %s", (key,))
        conn.execute(
            "INSERT INTO access_key_buckets (access_key_id, bucket_id, account_id) "
            "VALUES (%s, %s, %s)",
            (key, bucket, account),
        )
        conn.execute("DELETE FROM buckets WHERE id = %s", (bucket,))
        left = "SELECT count(*) FROM access_key_buckets WHERE access_key_id = %s"
        assert rows.one(left, (key,)) == 0
        # Still scoped to buckets (reaching none): never "all buckets" by accident.
        state = conn.execute("SELECT scope, status FROM access_keys WHERE id = %s", (key,))
        assert state.fetchone() == ("buckets", "active")


def test_notices_are_one_of_each_kind_per_key(conn, rows):
    key = rows.key(rows.account())
    insert = "INSERT INTO access_key_notices (access_key_id, kind) VALUES (%s, %s)"
    refused(conn, insert, (key, "later"), error=CheckViolation)
    refused(conn, insert, (2**62, "expired"), error=ForeignKeyViolation)
    with conn.transaction(force_rollback=True):
        conn.execute(insert, (key, "expiring"))
        conn.execute(insert, (key, "expired"))
        refused(conn, insert, (key, "expired"), error=UniqueViolation)


def test_a_suspended_organizations_key_can_still_be_switched_off_not_rescoped(conn, rows):
    account = rows.account()
    key = rows.key(account)
    rows.set_account_status(account, "suspended")
    refused(conn, "UPDATE access_keys SET scope = 'buckets' WHERE id = %s", (key,))
    refused(conn, "UPDATE access_keys SET permission = 'read-only' WHERE id = %s", (key,))
    with conn.transaction(force_rollback=True):
        conn.execute("UPDATE access_keys SET status = 'inactive' WHERE id = %s", (key,))
