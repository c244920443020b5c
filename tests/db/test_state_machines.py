"""Every state machine: each (from, to) pair is tried with raw SQL; the contract's moves
succeed, every other move is refused (check_violation named after the rule), and a new row
can only start in an initial state."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import psycopg
import pytest

from tests.db.conftest import Rows, new_cnpj, refused


@dataclass(frozen=True)
class Machine:
    table: str
    column: str
    states: tuple[str, ...]
    initial: frozenset[str]
    moves: frozenset[tuple[str, str]]
    # Extra assignments so the row stays consistent with the table's other CHECKs; the
    # refusal under test must come from the state machine, not from them.
    extra: str = ""

    def path_to(self, state: str) -> list[str]:
        """Initial state, then the moves that reach ``state``."""
        queue = deque([[start] for start in sorted(self.initial)])
        while queue:
            path = queue.popleft()
            if path[-1] == state:
                return path
            for a, b in sorted(self.moves):
                if a == path[-1] and b not in path:
                    queue.append([*path, b])
        raise AssertionError(f"{state} unreachable")


def _insert(rows: Rows, table: str, state: str) -> int:
    account = rows.account("active")
    if table == "accounts":
        return rows.one(
            "INSERT INTO accounts (name, cnpj, status, suspended_at) VALUES ('Empresa Ltda', "
            "%s, %s, CASE WHEN %s = 'suspended' THEN now() END) RETURNING id",
            (new_cnpj(), state, state),
        )
    if table == "buckets":
        return rows.bucket(account, versioning=state)
    if table == "access_keys":
        return rows.one(
            "INSERT INTO access_keys (account_id, key_id, name, secret_ciphertext, status, "
            "revoked_at) VALUES (%s, 'PC' || upper(substr(md5(random()::text), 1, 18)), 'k', "
            "'\\x00', %s, CASE WHEN %s = 'revoked' THEN now() END) RETURNING id",
            (account, state, state),
        )
    if table == "orders":
        return rows.one(
            "INSERT INTO orders (account_id, product_id, quantity, unit_price, total, status) "
            "VALUES (%s, %s, 1, 5.00, 5.00, %s) RETURNING id",
            (account, rows.product(), state),
        )
    if table == "subscriptions":
        return rows.one(
            "INSERT INTO subscriptions (account_id, product_id, status) VALUES (%s, %s, %s) "
            "RETURNING id",
            (account, rows.product(), state),
        )
    if table == "quota_requests":
        return rows.one(
            "INSERT INTO quota_requests (account_id, resource, current_value, requested_value, "
            "status, reviewed_at) VALUES (%s, 'buckets', 10, 20, %s, "
            "CASE WHEN %s <> 'pending' THEN now() END) RETURNING id",
            (account, state, state),
        )
    if table == "invoices":
        return rows.one(
            "INSERT INTO invoices (account_id, period_start, period_end, status) "
            "VALUES (%s, '2026-01-01', '2026-02-01', %s) RETURNING id",
            (account, state),
        )
    raise AssertionError(table)


MACHINES = [
    Machine(
        "accounts",
        "status",
        ("pending", "approved", "active", "suspended"),
        frozenset({"pending"}),
        frozenset(
            {
                ("pending", "approved"),
                ("approved", "active"),
                ("approved", "suspended"),
                ("active", "suspended"),
                ("suspended", "active"),
            }
        ),
        extra=", suspended_at = CASE WHEN %(to)s::text = 'suspended' THEN now() END",
    ),
    Machine(
        "buckets",
        "versioning",
        ("unversioned", "enabled", "suspended"),
        frozenset({"unversioned", "enabled"}),
        frozenset({("unversioned", "enabled"), ("enabled", "suspended"), ("suspended", "enabled")}),
    ),
    Machine(
        "access_keys",
        "status",
        ("active", "inactive", "revoked"),
        frozenset({"active"}),
        frozenset(
            {
                ("active", "inactive"),
                ("inactive", "active"),
                ("active", "revoked"),
                ("inactive", "revoked"),
            }
        ),
        extra=", revoked_at = CASE WHEN %(to)s::text = 'revoked' THEN now() END",
    ),
    Machine(
        "orders",
        "status",
        ("pending", "paid", "fulfilled", "cancelled"),
        frozenset({"pending"}),
        frozenset({("pending", "paid"), ("paid", "fulfilled"), ("pending", "cancelled")}),
        # Each state carries the time it was reached (0017).
        extra=", paid_at = CASE WHEN %(to)s::text IN ('paid', 'fulfilled') THEN now() END, "
        "fulfilled_at = CASE WHEN %(to)s::text = 'fulfilled' THEN now() END, "
        "cancelled_at = CASE WHEN %(to)s::text = 'cancelled' THEN now() END",
    ),
    Machine(
        "subscriptions",
        "status",
        ("active", "cancelled"),
        frozenset({"active"}),
        frozenset({("active", "cancelled")}),
        extra=", cancelled_at = CASE WHEN %(to)s::text = 'cancelled' THEN now() END",
    ),
    Machine(
        "quota_requests",
        "status",
        ("pending", "approved", "rejected"),
        frozenset({"pending"}),
        frozenset({("pending", "approved"), ("pending", "rejected")}),
        extra=", reviewed_at = CASE WHEN %(to)s::text <> 'pending' THEN now() END",
    ),
    Machine(
        "invoices",
        "status",
        ("draft", "open", "paid", "void"),
        frozenset({"draft"}),
        frozenset({("draft", "open"), ("open", "paid"), ("draft", "void"), ("open", "void")}),
        # Each state carries what it needs (0021): dates, the reference, the reason.
        extra=", issued_at = CASE WHEN %(to)s::text IN ('open', 'paid') THEN now() END, "
        "due_at = CASE WHEN %(to)s::text IN ('open', 'paid') THEN current_date + 10 END, "
        "paid_at = CASE WHEN %(to)s::text = 'paid' THEN now() END, "
        "payment_reference = CASE WHEN %(to)s::text = 'paid' THEN 'E2E-1' END, "
        "voided_at = CASE WHEN %(to)s::text = 'void' THEN now() END, "
        "void_reason = CASE WHEN %(to)s::text = 'void' THEN 'Emitida por engano' END",
    ),
]

MOVE_CASES = [
    pytest.param(m, a, b, id=f"{m.table}:{a}->{b}")
    for m in MACHINES
    for a in m.states
    for b in m.states
    if a != b
]
INSERT_CASES = [pytest.param(m, s, id=f"{m.table}:new-{s}") for m in MACHINES for s in m.states]


def _move(conn, machine: Machine, row_id: int, to: str) -> None:
    conn.execute(
        f"UPDATE {machine.table} SET {machine.column} = %(to)s::text{machine.extra} WHERE id = %(id)s",
        {"to": to, "id": row_id},
    )


@pytest.mark.parametrize(("machine", "source", "target"), MOVE_CASES)
def test_moves(conn, rows, machine, source, target):
    path = machine.path_to(source)
    row_id = _insert(rows, machine.table, path[0])
    for step in path[1:]:
        _move(conn, machine, row_id, step)

    if (source, target) in machine.moves:
        _move(conn, machine, row_id, target)
        stored = rows.one(f"SELECT {machine.column} FROM {machine.table} WHERE id = %s", (row_id,))
        assert stored == target
    else:
        rule = f"{machine.table}_{machine.column}_transition"
        error = refused(
            conn,
            f"UPDATE {machine.table} SET {machine.column} = %(to)s::text{machine.extra} "
            "WHERE id = %(id)s",
            {"to": target, "id": row_id},
            match=f"^{rule}: .* cannot move from {source} to {target}",
        )
        assert error.diag.constraint_name == rule
        assert error.diag.column_name == machine.column


@pytest.mark.parametrize(("machine", "state"), INSERT_CASES)
def test_new_rows_start_in_an_initial_state(conn, rows, machine, state):
    if state in machine.initial:
        row_id = _insert(rows, machine.table, state)
        assert rows.one(f"SELECT {machine.column} FROM {machine.table} WHERE id = %s", (row_id,))
    else:
        with (
            pytest.raises(psycopg.errors.CheckViolation, match="must start with"),
            conn.transaction(),
        ):
            _insert(rows, machine.table, state)


def test_unrelated_updates_do_not_touch_the_state_machine(conn, rows):
    account = rows.account("suspended")
    conn.execute("UPDATE accounts SET name = 'Outro Nome Ltda' WHERE id = %s", (account,))
    assert rows.one("SELECT status FROM accounts WHERE id = %s", (account,)) == "suspended"


def test_first_active_subscription_activates_an_approved_account(conn, rows):
    account = rows.account("approved")
    rows.subscription(account)
    status, activated_at = conn.execute(
        "SELECT status, activated_at FROM accounts WHERE id = %s", (account,)
    ).fetchone()
    assert (status, activated_at is not None) == ("active", True)


@pytest.mark.parametrize("status", ["pending", "suspended", "active"])
def test_a_subscription_does_not_move_other_accounts(conn, rows, status):
    account = rows.account(status)
    rows.subscription(account)
    assert rows.one("SELECT status FROM accounts WHERE id = %s", (account,)) == status


def test_access_key_id_never_changes(conn, rows):
    key = rows.key(rows.account())
    error = refused(
        conn,
        "UPDATE access_keys SET key_id = 'PCAAAAAAAAAAAAAAAAAA' WHERE id = %s",
        (key,),
        match="^access_keys_key_id_immutable",
    )
    assert error.diag.column_name == "key_id"


def test_a_revoked_key_cannot_be_rotated(conn, rows):
    key = rows.key(rows.account())
    conn.execute("UPDATE access_keys SET secret_ciphertext = '\\x01' WHERE id = %s", (key,))
    conn.execute(
        "UPDATE access_keys SET status = 'revoked', revoked_at = now() WHERE id = %s", (key,)
    )
    refused(
        conn,
        "UPDATE access_keys SET secret_ciphertext = '\\x02' WHERE id = %s",
        (key,),
        match="^access_keys_revoked_final",
    )
    # Bookkeeping on a revoked key is still possible.
    conn.execute("UPDATE access_keys SET last_used_at = now() WHERE id = %s", (key,))
