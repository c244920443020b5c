"""DOMAIN.md's integrity rules, each tried with raw SQL: the violation is refused, the
allowed change goes through."""

from __future__ import annotations

import json

import psycopg
import pytest
from psycopg.errors import CheckViolation, ForeignKeyViolation, RestrictViolation, UniqueViolation

from tests.db.conftest import Rows, new_cnpj, refused, unique


# ------------------------------------------------------------------------------ cnpj ---
def _alphanumeric_cnpj() -> str:
    from stdnum.br import cnpj as stdnum_cnpj

    base = "A1B2C3D4E5F6"
    return base + stdnum_cnpj.calc_check_digits(base)


@pytest.mark.parametrize(
    "cnpj",
    ["16727230000197", "12ABC34501DE35", _alphanumeric_cnpj()],
    ids=["numeric", "alphanumeric", "alphanumeric-computed"],
)
def test_valid_cnpj_is_stored(conn, cnpj):
    with conn.transaction(force_rollback=True):
        conn.execute("INSERT INTO accounts (name, cnpj) VALUES ('Empresa Ltda', %s)", (cnpj,))
        stored = conn.execute("SELECT count(*) FROM accounts WHERE cnpj = %s", (cnpj,)).fetchone()
        assert stored == (1,)


@pytest.mark.parametrize(
    "cnpj",
    [
        "16727230000198",  # wrong second check digit
        "16727230000187",  # wrong first check digit
        "00000000000000",  # all zeros: right digits, no company
        "16.727.230/0001-97",  # punctuation: store the normalized form
        "12abc34501de35",  # lower case
        "12ABC34501DEA5",  # letters in the check digits
        "1672723000019",  # 13 characters
    ],
)
def test_invalid_cnpj_is_refused(conn, cnpj):
    refused(
        conn,
        "INSERT INTO accounts (name, cnpj) VALUES ('Empresa Ltda', %s)",
        (cnpj,),
        error=(CheckViolation, psycopg.errors.StringDataRightTruncation),
    )


def test_invalid_cnpj_names_the_constraint(conn):
    error = refused(
        conn, "INSERT INTO accounts (name, cnpj) VALUES ('Empresa Ltda', '16727230000198')"
    )
    assert error.diag.constraint_name == "ck_accounts_cnpj_valid"


def test_cnpj_is_unique(conn, rows):
    cnpj = new_cnpj()
    conn.execute("INSERT INTO accounts (name, cnpj) VALUES ('Primeira Ltda', %s)", (cnpj,))
    refused(
        conn,
        "INSERT INTO accounts (name, cnpj) VALUES ('Segunda Ltda', %s)",
        (cnpj,),
        error=UniqueViolation,
    )


# ------------------------------------------------------------------------------ users ---
def test_user_email_is_unique_case_insensitively(conn, rows):
    email = f"{unique('ana')}@example.com.br"
    rows.user(email)
    refused(
        conn,
        "INSERT INTO users (email, name, password_hash) VALUES (%s, 'Ana', 'x')",
        (email.upper(),),
        error=UniqueViolation,
    )


# ----------------------------------------------------------------------------- owners ---
def _commit_fails(connection, match="account_members_owner_required"):
    with pytest.raises(CheckViolation, match=match):
        connection.commit()


def test_an_account_without_an_owner_cannot_be_committed(connect):
    c = connect()
    c.execute("INSERT INTO accounts (name, cnpj) VALUES ('Sem Dono Ltda', %s)", (new_cnpj(),))
    _commit_fails(c)


def test_demoting_the_last_owner_fails_at_commit(connect):
    c = connect()
    account = Rows(c).account()
    c.commit()
    c.execute(
        "UPDATE account_members SET role = 'admin' WHERE account_id = %s", (account,)
    )  # accepted now: the check is deferred to COMMIT
    _commit_fails(c)


def test_removing_the_last_owner_fails_at_commit(connect):
    c = connect()
    account = Rows(c).account()
    c.commit()
    c.execute("DELETE FROM account_members WHERE account_id = %s", (account,))
    _commit_fails(c)


def test_deleting_the_user_who_is_the_last_owner_fails(connect):
    c = connect()
    owner = Rows(c).user()
    Rows(c).account(owner=owner)
    c.commit()
    c.execute("DELETE FROM users WHERE id = %s", (owner,))
    _commit_fails(c)


def test_moving_the_last_owner_to_another_account_fails(connect):
    c = connect()
    rows = Rows(c)
    first, second = rows.account(), rows.account()
    c.commit()
    c.execute(
        "UPDATE account_members SET account_id = %s WHERE account_id = %s AND role = 'owner'",
        (second, first),
    )
    _commit_fails(c)


def test_ownership_can_be_handed_over_within_a_transaction(connect):
    c = connect()
    rows = Rows(c)
    old_owner, new_owner = rows.user(), rows.user()
    account = rows.account(owner=old_owner)
    rows.member(account, new_owner, "admin")
    c.commit()
    # Demote first, promote second: only the state at COMMIT matters.
    c.execute(
        "UPDATE account_members SET role = 'admin' WHERE account_id = %s AND user_id = %s",
        (account, old_owner),
    )
    c.execute(
        "UPDATE account_members SET role = 'owner' WHERE account_id = %s AND user_id = %s",
        (account, new_owner),
    )
    c.commit()
    owners = c.execute(
        "SELECT user_id FROM account_members WHERE account_id = %s AND role = 'owner'",
        (account,),
    ).fetchall()
    assert owners == [(new_owner,)]


def test_one_of_two_owners_may_leave(connect):
    c = connect()
    rows = Rows(c)
    account = rows.account()
    second = rows.user()
    rows.member(account, second, "owner")
    c.commit()
    c.execute(
        "DELETE FROM account_members WHERE account_id = %s AND user_id = %s", (account, second)
    )
    c.commit()
    left = c.execute(
        "SELECT role, count(*) FROM account_members WHERE account_id = %s GROUP BY role",
        (account,),
    ).fetchall()
    assert left == [("owner", 1)]


def test_deleting_an_account_with_its_members_commits(connect):
    c = connect()
    account = Rows(c).account("pending")
    c.commit()
    c.execute("DELETE FROM accounts WHERE id = %s", (account,))
    c.commit()
    assert c.execute(
        "SELECT count(*) FROM account_members WHERE account_id = %s", (account,)
    ).fetchone() == (0,)


# ------------------------------------------------------------------------- audit logs ---
def _audit_row(rows: Rows, account: int) -> int:
    return rows.one(
        "INSERT INTO audit_logs (account_id, action, details) VALUES (%s, 'account.updated', "
        '\'{"field": "name"}\') RETURNING id',
        (account,),
    )


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_logs SET action = 'account.created' WHERE id = %s",
        "DELETE FROM audit_logs WHERE id = %s",
    ],
    ids=["update", "delete"],
)
def test_audit_logs_are_append_only(conn, rows, sql):
    row = _audit_row(rows, rows.account())
    error = refused(conn, sql, (row,), match="^audit_logs_append_only")
    assert error.diag.constraint_name == "audit_logs_append_only"
    assert rows.one("SELECT count(*) FROM audit_logs WHERE id = %s", (row,)) == 1


def test_audit_logs_can_be_truncated_for_maintenance(conn, rows):
    _audit_row(rows, rows.account())
    with conn.transaction(force_rollback=True):
        conn.execute("TRUNCATE audit_logs")
        assert rows.one("SELECT count(*) FROM audit_logs") == 0


# ---------------------------------------------------------------------------- buckets ---
@pytest.mark.parametrize(
    "name",
    ["abc", "my-bucket", "logs.2026.backup", "a" * 63, "1bucket9", "192.168.5.4x", "10.0.0"],
)
def test_s3_bucket_names_are_accepted(conn, rows, name):
    bucket = rows.bucket(rows.account(), name)
    assert rows.one("SELECT name FROM buckets WHERE id = %s", (bucket,)) == name


@pytest.mark.parametrize(
    ("name", "constraint"),
    [
        ("ab", "ck_buckets_name_s3"),
        ("a" * 64, None),  # longer than the column
        ("My-Bucket", "ck_buckets_name_s3"),
        ("-bucket", "ck_buckets_name_s3"),
        ("bucket-", "ck_buckets_name_s3"),
        ("bucket_name", "ck_buckets_name_s3"),
        ("192.168.5.4", "ck_buckets_name_not_ip_address"),
        ("10.0.0.1", "ck_buckets_name_not_ip_address"),
        ("my..bucket", "ck_buckets_name_no_consecutive_dots"),
    ],
)
def test_bad_bucket_names_are_refused(conn, rows, name, constraint):
    account = rows.account()
    error = refused(
        conn,
        "INSERT INTO buckets (account_id, name) VALUES (%s, %s)",
        (account, name),
        error=(CheckViolation, psycopg.errors.StringDataRightTruncation),
    )
    if constraint:
        assert error.diag.constraint_name == constraint


def test_bucket_names_are_unique_within_an_account(conn, rows):
    first, second = rows.account(), rows.account()
    rows.bucket(first, "shared-name")
    rows.bucket(second, "shared-name")
    refused(
        conn,
        "INSERT INTO buckets (account_id, name) VALUES (%s, 'shared-name')",
        (first,),
        error=UniqueViolation,
    )


@pytest.mark.parametrize(
    ("rules", "constraint"),
    [
        ({"id": "x"}, "ck_buckets_lifecycle_rules_array"),
        ("rules", "ck_buckets_lifecycle_rules_array"),
        ([{"id": str(i)} for i in range(1001)], "ck_buckets_lifecycle_rules_at_most_1000"),
    ],
    ids=["object", "string", "1001-rules"],
)
def test_lifecycle_rules_must_be_an_array_of_at_most_1000(conn, rows, rules, constraint):
    bucket = rows.bucket(rows.account())
    error = refused(
        conn,
        "UPDATE buckets SET lifecycle_rules = %s::jsonb WHERE id = %s",
        (json.dumps(rules), bucket),
    )
    assert error.diag.constraint_name == constraint


def test_lifecycle_rules_of_1000_are_accepted(conn, rows):
    bucket = rows.bucket(rows.account())
    rules = [{"id": str(i), "status": "Enabled"} for i in range(1000)]
    updated = conn.execute(
        "UPDATE buckets SET lifecycle_rules = %s::jsonb WHERE id = %s", (json.dumps(rules), bucket)
    )
    assert updated.rowcount == 1
    stored = rows.one("SELECT lifecycle_rules FROM buckets WHERE id = %s", (bucket,))
    assert stored == rules


# ------------------------------------------------------------------------ invitations ---
def test_one_pending_invitation_per_account_and_email(conn, rows):
    account = rows.account()
    first = rows.invitation(account, "convidada@example.com")
    refused(
        conn,
        "INSERT INTO invitations (account_id, email, role, token_hash) "
        "VALUES (%s, 'convidada@example.com', 'member', %s)",
        (account, "f" * 64),
        error=UniqueViolation,
    )
    conn.execute("UPDATE invitations SET revoked_at = now() WHERE id = %s", (first,))
    rows.invitation(account, "convidada@example.com")  # a new one after the revocation
    rows.invitation(rows.account(), "convidada@example.com")  # another account


@pytest.mark.parametrize(
    ("setup", "sql", "rule"),
    [
        ("accepted_at = now()", "accepted_at = now() + interval '1 minute'", "accepted_once"),
        ("accepted_at = now()", "accepted_at = NULL", "accepted_once"),
        ("revoked_at = now()", "revoked_at = NULL", "revoked_once"),
        ("revoked_at = now()", "revoked_at = now() - interval '1 day'", "revoked_once"),
        ("revoked_at = now()", "accepted_at = now()", "accept_pending"),
        ("expires_at = now() - interval '1 second'", "accepted_at = now()", "accept_pending"),
        (None, "email = 'outra@example.com'", "email_immutable"),
    ],
    ids=[
        "accept-twice",
        "un-accept",
        "un-revoke",
        "re-revoke",
        "accept-revoked",
        "accept-expired",
        "change-email",
    ],
)
def test_invitation_rules(conn, rows, setup, sql, rule):
    invitation = rows.invitation(rows.account())
    if setup:
        conn.execute(f"UPDATE invitations SET {setup} WHERE id = %s", (invitation,))
    refused(conn, f"UPDATE invitations SET {sql} WHERE id = %s", (invitation,), match=rule)


def test_invitation_account_never_changes(conn, rows):
    invitation = rows.invitation(rows.account())
    refused(
        conn,
        "UPDATE invitations SET account_id = %s WHERE id = %s",
        (rows.account(), invitation),
        match="invitations_account_id_immutable",
    )


def test_a_pending_invitation_can_be_accepted_or_revoked_once(conn, rows):
    account = rows.account()
    accepted, revoked = rows.invitation(account), rows.invitation(account)
    conn.execute("UPDATE invitations SET accepted_at = now() WHERE id = %s", (accepted,))
    conn.execute("UPDATE invitations SET revoked_at = now() WHERE id = %s", (revoked,))
    # Settled, the other columns may still change (only the token, expiry and dates are frozen).
    conn.execute("UPDATE invitations SET role = 'admin' WHERE id = %s", (accepted,))
    settled = conn.execute(
        "SELECT id, accepted_at IS NOT NULL, revoked_at IS NOT NULL, role FROM invitations "
        "WHERE id IN (%s, %s) ORDER BY id",
        (accepted, revoked),
    ).fetchall()
    assert settled == [(accepted, True, False, "admin"), (revoked, False, True, "member")]


# --------------------------------------------------------------------- quota requests ---
def test_one_pending_quota_request_per_account_and_resource(conn, rows):
    account = rows.account()
    first = rows.quota_request(account, "buckets")
    rows.quota_request(account, "storage_gb")  # another resource
    refused(
        conn,
        "INSERT INTO quota_requests (account_id, resource, current_value, requested_value) "
        "VALUES (%s, 'buckets', 10, 99)",
        (account,),
        error=UniqueViolation,
    )
    conn.execute(
        "UPDATE quota_requests SET status = 'rejected', reviewed_at = now() WHERE id = %s",
        (first,),
    )
    rows.quota_request(account, "buckets")


@pytest.mark.parametrize(
    ("resource", "requested", "expected"),
    [("buckets", 50, 50), ("storage_gb", 5000, 5000), ("access_keys", 8, 8), ("buckets", 3, 10)],
    ids=["buckets", "storage", "keys", "never-lowers"],
)
def test_approval_raises_the_quota_in_the_same_transaction(
    conn, rows, resource, requested, expected
):
    account = rows.account()
    request = rows.quota_request(account, resource, requested)
    conn.execute(
        "UPDATE quota_requests SET status = 'approved', reviewed_at = now() WHERE id = %s",
        (request,),
    )
    assert rows.one(f"SELECT quota_{resource} FROM accounts WHERE id = %s", (account,)) == expected


def test_rejection_leaves_the_quota(conn, rows):
    account = rows.account()
    request = rows.quota_request(account, "buckets", 500)
    conn.execute(
        "UPDATE quota_requests SET status = 'rejected', reviewed_at = now() WHERE id = %s",
        (request,),
    )
    assert rows.one("SELECT quota_buckets FROM accounts WHERE id = %s", (account,)) == 10


# ---------------------------------------------------------------------- usage, money ---
def test_usage_ingestion_is_idempotent(conn, rows):
    account = rows.account()
    insert = (
        "INSERT INTO usage_records (account_id, metric, quantity, period_start, period_end, "
        "source_event_id) VALUES (%s, 'egress_gb', 1.5, now() - interval '1 hour', now(), %s)"
    )
    event = unique("evt-")
    conn.execute(insert, (account, event))
    refused(conn, insert, (account, event), error=UniqueViolation)
    # What the ingestion job does: a replayed event is skipped, not counted twice.
    conn.execute(insert + " ON CONFLICT (source_event_id) DO NOTHING", (account, event))
    assert rows.one("SELECT count(*) FROM usage_records WHERE source_event_id = %s", (event,)) == 1


MONEY_COLUMNS = [
    ("products", "price_monthly"),
    ("orders", "unit_price"),
    ("orders", "total"),
    ("invoices", "total"),
    ("invoice_lines", "amount"),
]


@pytest.mark.parametrize(("table", "column"), MONEY_COLUMNS)
def test_money_is_numeric_12_2(conn, table, column):
    row = conn.execute(
        "SELECT data_type, numeric_precision, numeric_scale FROM information_schema.columns "
        "WHERE table_name = %s AND column_name = %s",
        (table, column),
    ).fetchone()
    assert row == ("numeric", 12, 2)


def test_money_rounds_to_cents_and_refuses_overflow(conn, rows):
    product = rows.product("19.999")
    assert str(rows.one("SELECT price_monthly FROM products WHERE id = %s", (product,))) == "20.00"
    refused(
        conn,
        "INSERT INTO products (sku, name, price_monthly) VALUES ('BIG-1', 'x', 10000000000)",
        error=psycopg.errors.NumericValueOutOfRange,
    )


def test_order_total_must_match(conn, rows):
    refused(
        conn,
        "INSERT INTO orders (account_id, product_id, quantity, unit_price, total) "
        "VALUES (%s, %s, 2, 10.00, 25.00)",
        (rows.account(), rows.product()),
    )


# --------------------------------------------------------------------------- invoices ---
def test_invoice_numbers_are_assigned_sequentially(conn, rows):
    account = rows.account()
    numbers = [rows.invoice(account, month)[1] for month in (1, 2, 3)]
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]


def test_a_rolled_back_invoice_gives_its_number_back(connect):
    c = connect()
    rows = Rows(c)
    account = rows.account()
    c.commit()
    with c.transaction(force_rollback=True):
        lost = rows.invoice(account, 1)[1]
    _, number = rows.invoice(account, 1)
    c.commit()
    assert number == lost


def test_invoice_number_cannot_be_supplied_or_changed(conn, rows):
    account = rows.account()
    invoice, number = rows.invoice(account)
    refused(
        conn,
        "INSERT INTO invoices (account_id, number, period_start, period_end) "
        "VALUES (%s, 999999, '2027-01-01', '2027-02-01')",
        (account,),
        match="^invoices_number_assigned",
    )
    refused(
        conn,
        "UPDATE invoices SET number = number + 1000 WHERE id = %s",
        (invoice,),
        match="^invoices_number_immutable",
    )
    assert rows.one("SELECT number FROM invoices WHERE id = %s", (invoice,)) == number


def test_invoices_are_never_deleted(conn, rows):
    invoice, _ = rows.invoice(rows.account())
    refused(conn, "DELETE FROM invoices WHERE id = %s", (invoice,), match="^invoices_no_delete")


def test_one_invoice_per_account_and_period_unless_void(conn, rows):
    account = rows.account()
    invoice, _ = rows.invoice(account, 5)
    refused(
        conn,
        "INSERT INTO invoices (account_id, period_start, period_end) "
        "VALUES (%s, '2026-05-01', '2026-06-01')",
        (account,),
        error=UniqueViolation,
    )
    conn.execute(
        "UPDATE invoices SET status = 'void', void_reason = 'Emitida por engano', voided_at = now() WHERE id = %s",
        (invoice,),
    )
    rows.invoice(account, 5)


# ------------------------------------------------------------------------- ON DELETE ---
# ON DELETE RESTRICT reports foreign_key_violation (23503) up to PostgreSQL 17 and
# restrict_violation (23001) from 18 on; code that maps errors must accept both.
RESTRICTED = (ForeignKeyViolation, RestrictViolation)
CASCADE_FROM_ACCOUNTS = [
    ("account_members", lambda r, a: r.member(a, r.user(), "viewer")),
    ("invitations", lambda r, a: r.invitation(a)),
    ("buckets", lambda r, a: r.bucket(a)),
    ("access_keys", lambda r, a: r.key(a)),
    ("quota_requests", lambda r, a: r.quota_request(a)),
    (
        "notifications",
        lambda r, a: r.one(
            "INSERT INTO notifications (user_id, account_id, kind) "
            "VALUES (%s, %s, 'member.joined') RETURNING id",
            (r.user(), a),
        ),
    ),
]
RESTRICT_FROM_ACCOUNTS = [
    ("orders", lambda r, a: r.order(a)),
    ("subscriptions", lambda r, a: r.subscription(a)),
    ("invoices", lambda r, a: r.invoice(a)[0]),
    (
        "usage_records",
        lambda r, a: r.one(
            "INSERT INTO usage_records (account_id, metric, quantity, period_start, period_end, "
            "source_event_id) VALUES (%s, 'requests_get', 10, now() - interval '1 hour', now(), "
            "%s) RETURNING id",
            (a, unique("evt-")),
        ),
    ),
    ("audit_logs", _audit_row),
]


@pytest.mark.parametrize(
    ("table", "make"), CASCADE_FROM_ACCOUNTS, ids=[t for t, _ in CASCADE_FROM_ACCOUNTS]
)
def test_deleting_an_account_removes(conn, rows, table, make):
    account = rows.account()
    row = make(rows, account)
    conn.execute("DELETE FROM accounts WHERE id = %s", (account,))
    assert rows.one(f"SELECT count(*) FROM {table} WHERE id = %s", (row,)) == 0


@pytest.mark.parametrize(
    ("table", "make"), RESTRICT_FROM_ACCOUNTS, ids=[t for t, _ in RESTRICT_FROM_ACCOUNTS]
)
def test_an_account_with_history_cannot_be_deleted(conn, rows, table, make):
    account = rows.account()
    make(rows, account)
    error = refused(conn, "DELETE FROM accounts WHERE id = %s", (account,), error=RESTRICTED)
    assert error.diag.table_name == table


def test_deleting_a_user_keeps_what_they_created(conn, rows):
    creator = rows.user()
    account = rows.account()
    bucket = rows.one(
        "INSERT INTO buckets (account_id, name, created_by_id) VALUES (%s, %s, %s) RETURNING id",
        (account, unique("b"), creator),
    )
    conn.execute("UPDATE accounts SET created_by_id = %s WHERE id = %s", (creator, account))
    conn.execute("DELETE FROM users WHERE id = %s", (creator,))
    assert rows.one("SELECT created_by_id FROM buckets WHERE id = %s", (bucket,)) is None
    assert rows.one("SELECT created_by_id FROM accounts WHERE id = %s", (account,)) is None


def test_a_user_in_the_audit_trail_cannot_be_deleted(conn, rows):
    actor = rows.user()
    conn.execute(
        "INSERT INTO audit_logs (actor_id, action) VALUES (%s, 'user.logged_in')", (actor,)
    )
    refused(conn, "DELETE FROM users WHERE id = %s", (actor,), error=RESTRICTED)


def test_deleting_a_bucket_keeps_its_usage_records(conn, rows):
    account = rows.account()
    bucket = rows.bucket(account)
    usage = rows.one(
        "INSERT INTO usage_records (account_id, bucket_id, metric, quantity, period_start, "
        "period_end, source_event_id) VALUES (%s, %s, 'storage_gb_hours', 3, "
        "now() - interval '1 hour', now(), %s) RETURNING id",
        (account, bucket, unique("evt-")),
    )
    conn.execute("DELETE FROM buckets WHERE id = %s", (bucket,))
    assert rows.one("SELECT bucket_id FROM usage_records WHERE id = %s", (usage,)) is None


def test_a_product_that_was_ordered_cannot_be_deleted(conn, rows):
    product = rows.product()
    rows.order(rows.account(), product)
    refused(conn, "DELETE FROM products WHERE id = %s", (product,), error=RESTRICTED)


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO account_members (account_id, user_id, role) VALUES (-1, -1, 'owner')",
        "INSERT INTO buckets (account_id, name) VALUES (-1, 'orphan-bucket')",
        "INSERT INTO access_keys (account_id, key_id, name, secret_ciphertext) "
        "VALUES (-1, 'PCORPHAN0000000000XX', 'k', '\\x00')",
        "INSERT INTO notifications (user_id, kind) VALUES (-1, 'member.joined')",
        "INSERT INTO audit_logs (account_id, action) VALUES (-1, 'account.updated')",
        "INSERT INTO subscriptions (account_id, product_id) VALUES (-1, -1)",
    ],
    ids=["member", "bucket", "key", "notification", "audit", "subscription"],
)
def test_rows_must_reference_existing_parents(conn, sql):
    refused(conn, sql, error=ForeignKeyViolation)
