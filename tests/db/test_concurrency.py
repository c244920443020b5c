"""Rules that must hold when two transactions race: the last owner, invoice numbers."""

from __future__ import annotations

import threading

import psycopg
import pytest
from psycopg import IsolationLevel

from tests.db.conftest import Rows

RACE_ITERATIONS = 60


def _two_owner_account(connect) -> tuple[int, int, int]:
    c = connect()
    rows = Rows(c)
    first, second = rows.user(), rows.user()
    account = rows.account(owner=first)
    rows.member(account, second, "owner")
    c.commit()
    c.close()
    return account, first, second


def _race(connect, account, owners, isolation, change):
    """Two transactions, each changing a different owner; both statements run before
    either commits, then both commit at once. Returns each one's outcome."""
    barrier = threading.Barrier(2, timeout=10)
    outcomes: dict[int, str | BaseException] = {}
    connections = [connect() for _ in owners]
    for connection in connections:
        connection.isolation_level = isolation

    def work(index: int, connection: psycopg.Connection, owner: int) -> None:
        try:
            connection.execute(change, (account, owner))
            barrier.wait()
            connection.commit()
            outcomes[index] = "committed"
        except (psycopg.Error, threading.BrokenBarrierError) as exc:
            outcomes[index] = exc
            connection.rollback()

    threads = [
        threading.Thread(target=work, args=(i, c, owner))
        for i, (c, owner) in enumerate(zip(connections, owners, strict=True))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for connection in connections:
        connection.close()
    return [outcomes[i] for i in range(len(owners))]


DEMOTE = "UPDATE account_members SET role = 'admin' WHERE account_id = %s AND user_id = %s"
REMOVE = "DELETE FROM account_members WHERE account_id = %s AND user_id = %s"


@pytest.mark.parametrize(
    ("change", "isolation", "iterations", "expected_errors"),
    [
        (DEMOTE, IsolationLevel.READ_COMMITTED, RACE_ITERATIONS, (psycopg.errors.CheckViolation,)),
        (REMOVE, IsolationLevel.READ_COMMITTED, 20, (psycopg.errors.CheckViolation,)),
        (
            DEMOTE,
            IsolationLevel.REPEATABLE_READ,
            20,
            (psycopg.errors.CheckViolation, psycopg.errors.SerializationFailure),
        ),
    ],
    ids=["demote-read-committed", "remove-read-committed", "demote-repeatable-read"],
)
def test_concurrent_owner_changes_keep_an_owner(
    connect, rules_db_url, change, isolation, iterations, expected_errors
):
    checker = connect(autocommit=True)
    for _ in range(iterations):
        account, first, second = _two_owner_account(connect)
        outcomes = _race(connect, account, (first, second), isolation, change)

        committed = [o for o in outcomes if o == "committed"]
        failed = [o for o in outcomes if o != "committed"]
        assert len(committed) == 1, outcomes
        assert len(failed) == 1 and isinstance(failed[0], expected_errors), outcomes
        owners = checker.execute(
            "SELECT count(*) FROM account_members WHERE account_id = %s AND role = 'owner'",
            (account,),
        ).fetchone()[0]
        assert owners == 1


def test_invoice_numbers_stay_sequential_under_concurrency(connect):
    setup = connect()
    accounts = [Rows(setup).account() for _ in range(2)]
    setup.commit()
    per_thread = 15
    numbers: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(2, timeout=10)
    errors: list[BaseException] = []

    def work(account: int) -> None:
        c = connect()
        rows = Rows(c)
        try:
            barrier.wait()
            for month in range(1, per_thread + 1):
                # Every third invoice is rolled back: its number must be given back.
                with c.transaction(force_rollback=month % 3 == 0):
                    _, number = rows.invoice(account, month=month % 12 + 1, year=2030 + month)
                if month % 3:
                    c.commit()
                    with lock:
                        numbers.append(number)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(a,)) for a in accounts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(numbers) == 2 * (per_thread - per_thread // 3)
    assert sorted(numbers) == list(range(min(numbers), min(numbers) + len(numbers)))
