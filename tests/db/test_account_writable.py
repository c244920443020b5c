"""Buckets and keys are created only while the account is active; a suspended account is
read-only (DOMAIN.md, "States"), enforced by the database (revision 0012)."""

import psycopg
import pytest

from tests.db.conftest import refused

BUCKET_INSERT = "INSERT INTO buckets (account_id, name) VALUES (%s, 'fotos-2026')"
KEY_INSERT = (
    "INSERT INTO access_keys (account_id, key_id, name, secret_ciphertext) "
    "VALUES (%s, 'PCABCDEFGHIJKLMNOPQR', 'ci', '\\x00')"
)


@pytest.mark.parametrize("status", ["pending", "approved", "suspended"])
@pytest.mark.parametrize("insert", [BUCKET_INSERT, KEY_INSERT], ids=["bucket", "key"])
def test_only_an_active_account_creates_buckets_and_keys(conn, rows, status, insert):
    account = rows.account(status)
    refused(conn, insert, (account,), match="account_writable")


@pytest.mark.parametrize("insert", [BUCKET_INSERT, KEY_INSERT], ids=["bucket", "key"])
def test_an_active_account_creates_them(conn, rows, insert):
    account = rows.account("active")
    assert conn.execute(insert, (account,)).rowcount == 1
    table = "buckets" if "buckets" in insert else "access_keys"
    assert rows.one(f"SELECT count(*) FROM {table} WHERE account_id = %s", (account,)) == 1


def test_a_suspended_accounts_buckets_are_read_only(conn, rows):
    account = rows.account("active")
    bucket = rows.bucket(account)
    rows.set_account_status(account, "suspended")
    refused(
        conn,
        "UPDATE buckets SET versioning = 'enabled' WHERE id = %s",
        (bucket,),
        match="buckets_account_writable",
    )
    refused(
        conn,
        "UPDATE buckets SET lifecycle_rules = '[]' || lifecycle_rules || "
        '\'[{"id": "x"}]\' WHERE id = %s',
        (bucket,),
        match="read-only",
    )
    # Reactivated, it is writable again.
    rows.set_account_status(account, "active")
    conn.execute("UPDATE buckets SET versioning = 'enabled' WHERE id = %s", (bucket,))


def test_a_suspended_accounts_keys_can_only_be_switched_off(conn, rows):
    account = rows.account("active")
    key = rows.key(account)
    other = rows.key(account)
    rows.set_account_status(account, "suspended")
    refused(conn, "UPDATE access_keys SET secret_ciphertext = '\\x01' WHERE id = %s", (key,))
    refused(conn, "UPDATE access_keys SET name = 'renamed' WHERE id = %s", (key,))
    conn.execute("UPDATE access_keys SET status = 'inactive' WHERE id = %s", (key,))
    refused(conn, "UPDATE access_keys SET status = 'active' WHERE id = %s", (key,))
    conn.execute(
        "UPDATE access_keys SET status = 'revoked', revoked_at = now() WHERE id = %s", (other,)
    )


def test_deleting_an_account_still_cascades_to_its_buckets_and_keys(conn, rows):
    account = rows.account("active")
    rows.bucket(account)
    rows.key(account)
    rows.set_account_status(account, "suspended")
    conn.execute("DELETE FROM accounts WHERE id = %s", (account,))
    assert (
        conn.execute("SELECT count(*) FROM buckets WHERE account_id = %s", (account,)).fetchone()[0]
        == 0
    )


def test_the_refusal_names_its_rule(conn, rows):
    error = refused(conn, BUCKET_INSERT, (rows.account("pending"),))
    assert isinstance(error, psycopg.errors.CheckViolation)
    assert error.diag.constraint_name == "buckets_account_writable"
