"""Raw-SQL attempts to get around the rules by a side door (a moved row, an upsert, MERGE,
TRUNCATE, a tampered counter): each is refused, and the ordinary path still works."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.errors import CheckViolation, UniqueViolation

from tests.db.conftest import Rows, refused


# ------------------------------------------------------- buckets and keys stay put ---
@pytest.mark.parametrize("target", ["active", "approved", "pending", "suspended"])
@pytest.mark.parametrize("table", ["buckets", "access_keys"])
def test_a_bucket_or_key_never_moves_to_another_account(conn, rows, table, target):
    make = rows.bucket if table == "buckets" else rows.key
    row = make(rows.account("active"))
    error = refused(
        conn,
        f"UPDATE {table} SET account_id = %s WHERE id = %s",
        (rows.account(target), row),
        match=f"^{table}_account_id_immutable",
    )
    assert error.diag.constraint_name == f"{table}_account_id_immutable"


def test_a_suspended_accounts_bucket_cannot_be_moved_out(conn, rows):
    account = rows.account("active")
    bucket = rows.bucket(account)
    rows.set_account_status(account, "suspended")
    refused(
        conn,
        "UPDATE buckets SET account_id = %s WHERE id = %s",
        (rows.account("active"), bucket),
        match="^buckets_account_id_immutable",
    )


# ------------------------------------------------------------------- invoice numbers ---
def _counter(rows) -> int:
    return rows.one("SELECT last_number FROM invoice_number_counters WHERE id = 1")


@pytest.mark.parametrize(
    "conflict",
    [
        "ON CONFLICT DO NOTHING",
        "ON CONFLICT (account_id, period_start) WHERE status <> 'void' "
        "DO UPDATE SET total = excluded.total",
    ],
    ids=["do-nothing", "do-update"],
)
def test_an_upsert_of_an_invoice_never_consumes_a_number(conn, rows, conflict):
    account = rows.account()
    _, number = rows.invoice(account, month=3)
    error = refused(
        conn,
        "INSERT INTO invoices (account_id, period_start, period_end) "
        f"VALUES (%s, '2026-03-01', '2026-04-01') {conflict}",
        (account,),
        error=UniqueViolation,
    )
    assert error.diag.constraint_name == "uq_invoices_account_period"
    assert _counter(rows) == number
    assert rows.invoice(account, month=4)[1] == number + 1  # no gap


def test_a_voided_periods_invoice_can_be_issued_again(conn, rows):
    account = rows.account()
    first, number = rows.invoice(account, month=5)
    conn.execute(
        "UPDATE invoices SET status = 'void', void_reason = 'Emitida por engano', voided_at = now() WHERE id = %s",
        (first,),
    )
    assert rows.invoice(account, month=5)[1] == number + 1


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE invoice_number_counters SET last_number = last_number + 100",
        "UPDATE invoice_number_counters SET last_number = last_number - 1",
        "UPDATE invoice_number_counters SET last_number = 0",
    ],
    ids=["skip-ahead", "rewind", "reset"],
)
def test_the_invoice_counter_only_moves_by_one(conn, rows, sql):
    rows.invoice(rows.account())
    before = _counter(rows)
    refused(conn, sql, match="^invoice_number_counters_sequential")
    assert _counter(rows) == before


@pytest.mark.parametrize(
    "empty", ["DELETE FROM invoice_number_counters", "TRUNCATE invoice_number_counters"]
)
def test_a_reinserted_counter_continues_after_the_highest_number(conn, rows, empty):
    rows.invoice(rows.account())
    highest = rows.one("SELECT max(number) FROM invoices")
    conn.execute(empty)
    for wrong in (0, highest - 1, highest + 5):
        refused(
            conn,
            "INSERT INTO invoice_number_counters (id, last_number) VALUES (1, %s)",
            (wrong,),
            match="^invoice_number_counters_sequential",
        )
    conn.execute("INSERT INTO invoice_number_counters (id, last_number) VALUES (1, %s)", (highest,))
    assert rows.invoice(rows.account())[1] == highest + 1


@pytest.mark.parametrize(
    "sql",
    ["TRUNCATE invoices, invoice_lines", "TRUNCATE invoices CASCADE", "TRUNCATE accounts CASCADE"],
)
def test_invoices_cannot_be_truncated(connect, sql):
    c = connect()
    invoice, _ = Rows(c).invoice(Rows(c).account())
    c.commit()  # TRUNCATE refuses to run while deferred owner checks are pending
    # TRUNCATE accounts CASCADE may meet access_keys' own refusal (0013) first.
    refused(c, sql, match="^(invoices_no_delete|access_keys_never_deleted)")
    assert Rows(c).one("SELECT count(*) FROM invoices WHERE id = %s", (invoice,)) == 1


# ------------------------------------------------------------------------- owners ---
def test_truncating_the_memberships_is_refused(conn, rows):
    account = rows.account()
    error = refused(conn, "TRUNCATE account_members", match="^account_members_owner_required")
    assert error.diag.constraint_name == "account_members_owner_required"
    assert (
        rows.one(
            "SELECT count(*) FROM account_members WHERE account_id = %s AND role = 'owner'",
            (account,),
        )
        == 1
    )


def test_an_upsert_cannot_demote_the_last_owner(connect):
    c = connect()
    owner = Rows(c).user()
    account = Rows(c).account(owner=owner)
    c.commit()
    c.execute(
        "INSERT INTO account_members (account_id, user_id, role) VALUES (%s, %s, 'owner') "
        "ON CONFLICT (account_id, user_id) DO UPDATE SET role = 'viewer'",
        (account, owner),
    )
    with pytest.raises(CheckViolation, match="account_members_owner_required"):
        c.commit()


def test_merge_cannot_remove_the_last_owner(connect):
    c = connect()
    account = Rows(c).account()
    c.commit()
    c.execute(
        "MERGE INTO account_members m USING (SELECT %s::bigint AS account_id) s "
        "ON m.account_id = s.account_id WHEN MATCHED THEN DELETE",
        (account,),
    )
    with pytest.raises(CheckViolation, match="account_members_owner_required"):
        c.commit()


# ------------------------------------------------------------------ state machines ---
@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO accounts (id, name, cnpj) SELECT id, name, cnpj FROM accounts WHERE id = %s "
        "ON CONFLICT (id) DO UPDATE SET status = 'pending'",
        "MERGE INTO accounts a USING (SELECT %s::bigint AS id) s ON a.id = s.id "
        "WHEN MATCHED THEN UPDATE SET status = 'pending'",
        "UPDATE accounts SET status = 'Active' WHERE id = %s",
    ],
    ids=["upsert", "merge", "other-case"],
)
def test_account_status_has_no_side_door(conn, rows, sql):
    account = rows.account("active")
    refused(conn, sql, (account,), match="^accounts_status_transition")
    assert rows.one("SELECT status FROM accounts WHERE id = %s", (account,)) == "active"


# -------------------------------------------------------------------- invitations ---
@pytest.mark.parametrize("settle", ["accepted_at = now()", "revoked_at = now()"])
@pytest.mark.parametrize(
    "change",
    ["token_hash = repeat('f', 64)", "expires_at = now() + interval '1 year'"],
    ids=["new-token", "later-expiry"],
)
def test_a_settled_invitation_keeps_its_token_and_expiry(conn, rows, settle, change):
    invitation = rows.invitation(rows.account())
    conn.execute(f"UPDATE invitations SET {settle} WHERE id = %s", (invitation,))
    error = refused(
        conn,
        f"UPDATE invitations SET {change} WHERE id = %s",
        (invitation,),
        match="^invitations_settled",
    )
    assert error.diag.constraint_name == "invitations_settled"


def test_a_pending_invitation_can_be_resent(conn, rows):
    invitation = rows.invitation(rows.account(), expires="-1 day")
    conn.execute(
        "UPDATE invitations SET token_hash = repeat('e', 64), expires_at = now() + interval '7 days', "
        "sent_count = sent_count + 1 WHERE id = %s",
        (invitation,),
    )
    conn.execute("UPDATE invitations SET accepted_at = now() WHERE id = %s", (invitation,))
    resent = conn.execute(
        "SELECT token_hash, sent_count, accepted_at IS NOT NULL FROM invitations WHERE id = %s",
        (invitation,),
    ).fetchone()
    assert resent == ("e" * 64, 2, True)


# ----------------------------------------------------------------- quota requests ---
@pytest.mark.parametrize(
    ("column", "value"),
    [("account_id", None), ("resource", "storage_gb")],
    ids=["account", "resource"],
)
def test_a_quota_request_never_changes_its_account_or_resource(conn, rows, column, value):
    request = rows.quota_request(rows.account(), "buckets", 500)
    value = value or rows.account()
    refused(
        conn,
        f"UPDATE quota_requests SET {column} = %s WHERE id = %s",
        (value, request),
        match=f"^quota_requests_{column}_immutable",
    )


@pytest.mark.parametrize("decision", ["approved", "rejected"])
def test_a_decided_quota_request_keeps_its_value(conn, rows, decision):
    request = rows.quota_request(rows.account(), "buckets", 50)
    conn.execute("UPDATE quota_requests SET requested_value = 40 WHERE id = %s", (request,))
    conn.execute(
        "UPDATE quota_requests SET status = %s, reviewed_at = now() WHERE id = %s",
        (decision, request),
    )
    refused(
        conn,
        "UPDATE quota_requests SET requested_value = 9999 WHERE id = %s",
        (request,),
        match="^quota_requests_requested_value_immutable",
    )
    # Nor is a decision ever taken back (a rejected request flipped to approved would
    # raise the quota long after review).
    other = "rejected" if decision == "approved" else "approved"
    refused(
        conn,
        "UPDATE quota_requests SET status = %s WHERE id = %s",
        (other, request),
        match="^quota_requests_status_transition",
    )
    assert rows.one("SELECT requested_value FROM quota_requests WHERE id = %s", (request,)) == 40


# ------------------------------------------------------------------------ audit logs ---
@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO audit_logs (id, action) SELECT id, 'x' FROM audit_logs WHERE id = %s "
        "ON CONFLICT (id) DO UPDATE SET action = 'account.created'",
        "MERGE INTO audit_logs l USING (SELECT %s::bigint AS id) s ON l.id = s.id "
        "WHEN MATCHED THEN DELETE",
        "UPDATE audit_logs SET action = action WHERE id = %s",
        "UPDATE audit_logs SET action = 'x' WHERE id = %s AND false",
    ],
    ids=["upsert", "merge-delete", "no-op-update", "zero-rows"],
)
def test_audit_logs_have_no_side_door(conn, rows, sql):
    row = rows.one(
        "INSERT INTO audit_logs (account_id, action) VALUES (%s, 'account.updated') RETURNING id",
        (rows.account(),),
    )
    refused(conn, sql, (row,), match="^audit_logs_append_only")
    assert rows.one("SELECT action FROM audit_logs WHERE id = %s", (row,)) == "account.updated"


# ---------------------------------------------------------------------------- cnpj ---
@pytest.mark.parametrize(
    "value",
    ["１6727230000197", " 6727230000197", "1672723000019 ", "6727230000197\n", "Á1B2C3D4E5F600"],
    ids=["fullwidth-digit", "leading-space", "trailing-space", "newline", "accented-letter"],
)
def test_cnpj_function_refuses_lookalikes(conn, value):
    assert conn.execute("SELECT cnpj_is_valid(%s)", (value,)).fetchone()[0] is False
    with (
        pytest.raises((CheckViolation, psycopg.errors.StringDataRightTruncation)),
        conn.transaction(),
    ):
        conn.execute("INSERT INTO accounts (name, cnpj) VALUES ('Empresa Ltda', %s)", (value,))


def test_a_revoked_key_cannot_come_back_through_delete_and_insert(conn, rows):
    account = rows.account("active")
    key = rows.key(account)
    conn.execute(
        "UPDATE access_keys SET status = 'revoked', revoked_at = now() WHERE id = %s", (key,)
    )
    refused(conn, "DELETE FROM access_keys WHERE id = %s", (key,), match="never_deleted")
    refused(conn, "TRUNCATE access_keys CASCADE", match="never_deleted")
    status = conn.execute("SELECT status FROM access_keys WHERE id = %s", (key,)).fetchone()[0]
    assert status == "revoked"


def test_deleting_the_account_still_removes_its_keys(conn, rows):
    account = rows.account("active")
    rows.key(account)
    conn.execute("DELETE FROM accounts WHERE id = %s", (account,))
    count = conn.execute(
        "SELECT count(*) FROM access_keys WHERE account_id = %s", (account,)
    ).fetchone()[0]
    assert count == 0
