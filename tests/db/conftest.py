"""Database-rule tests: raw psycopg connections on a database of their own, migrated to head.

The rules are the database's, so these tests talk SQL to it directly (no ORM in between):
``conn`` is one connection whose transaction is rolled back after the test; ``connect()``
opens more (for races and for checks that run at COMMIT), closed after the test. Tests that
commit use unique data (``unique()``), so they never collide with each other.
"""

from __future__ import annotations

import itertools
import uuid

import psycopg
import pytest
from sqlalchemy.engine import make_url
from stdnum.br import cnpj as stdnum_cnpj

from portal import states
from tests.conftest import make_test_app, upgrade


def libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def rules_db_url(databases):
    url = databases.create("rules")
    # The SMTP port is never used: nothing here sends mail.
    upgrade(make_test_app(url, smtp_port=1))
    return libpq_url(url)


@pytest.fixture
def connect(rules_db_url):
    opened: list[psycopg.Connection] = []

    def open_connection(**kwargs) -> psycopg.Connection:
        connection = psycopg.connect(rules_db_url, **kwargs)
        opened.append(connection)
        return connection

    yield open_connection
    for connection in opened:
        connection.close()


@pytest.fixture
def conn(connect):
    connection = connect()
    connection.execute("SELECT 1")  # open the transaction: conn.transaction() is a savepoint
    yield connection
    connection.rollback()


_counter = itertools.count(1)


def unique(prefix: str = "x") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}{next(_counter)}"


def new_cnpj() -> str:
    base = f"{uuid.uuid4().int % 10**8:08d}{next(_counter) % 10**4:04d}"
    return base + stdnum_cnpj.calc_check_digits(base)


class Rows:
    """Small SQL helpers that insert valid rows, so each test states only what it tests."""

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def one(self, sql: str, params=()):
        return self.conn.execute(sql, params).fetchone()[0]

    def user(self, email: str | None = None, admin: bool = False) -> int:
        return self.one(
            "INSERT INTO users (email, name, password_hash, is_platform_admin) "
            "VALUES (%s, 'Pessoa', 'x', %s) RETURNING id",
            (email or f"{unique('u')}@example.com", admin),
        )

    def account(self, status: str = "active", owner: int | None = None) -> int:
        """An account moved step by step to ``status``, with an owner."""
        account_id = self.one(
            "INSERT INTO accounts (name, cnpj) VALUES ('Empresa Ltda', %s) RETURNING id",
            (new_cnpj(),),
        )
        self.member(account_id, owner or self.user(), "owner")
        for step in states.ACCOUNT.reach(status):
            self.set_account_status(account_id, step)
        return account_id

    def set_account_status(self, account_id: int, status: str) -> None:
        self.conn.execute(
            "UPDATE accounts SET status = %s::text, "
            "suspended_at = CASE WHEN %s = 'suspended' THEN now() END WHERE id = %s",
            (status, status, account_id),
        )

    def member(self, account_id: int, user_id: int, role: str = "member") -> int:
        return self.one(
            "INSERT INTO account_members (account_id, user_id, role) VALUES (%s, %s, %s) "
            "RETURNING id",
            (account_id, user_id, role),
        )

    def bucket(self, account_id: int, name: str | None = None, versioning="unversioned") -> int:
        return self.one(
            "INSERT INTO buckets (account_id, name, versioning) VALUES (%s, %s, %s) RETURNING id",
            (account_id, name or unique("b"), versioning),
        )

    def key(self, account_id: int) -> int:
        key_id = "PC" + uuid.uuid4().hex[:18].upper()
        return self.one(
            "INSERT INTO access_keys (account_id, key_id, name, secret_ciphertext) "
            "VALUES (%s, %s, 'ci', '\\x00') RETURNING id",
            (account_id, key_id),
        )

    def product(self, price: str = "49.90") -> int:
        return self.one(
            "INSERT INTO products (sku, name, price_monthly) VALUES (%s, 'Plano', %s) RETURNING id",
            (unique("SKU").upper()[:40], price),
        )

    def order(self, account_id: int, product_id: int | None = None) -> int:
        return self.one(
            "INSERT INTO orders (account_id, product_id, quantity, unit_price, total) "
            "VALUES (%s, %s, 2, 10.00, 20.00) RETURNING id",
            (account_id, product_id or self.product()),
        )

    def subscription(self, account_id: int, product_id: int | None = None) -> int:
        return self.one(
            "INSERT INTO subscriptions (account_id, product_id) VALUES (%s, %s) RETURNING id",
            (account_id, product_id or self.product()),
        )

    def invoice(self, account_id: int, month: int = 1, year: int = 2026) -> tuple[int, int]:
        row = self.conn.execute(
            "INSERT INTO invoices (account_id, period_start, period_end) "
            "VALUES (%s, make_date(%s, %s, 1), make_date(%s, %s, 1) + interval '1 month') "
            "RETURNING id, number",
            (account_id, year, month, year, month),
        ).fetchone()
        return row[0], row[1]

    def quota_request(self, account_id: int, resource="buckets", value=50) -> int:
        return self.one(
            "INSERT INTO quota_requests (account_id, resource, current_value, requested_value) "
            "VALUES (%s, %s, 10, %s) RETURNING id",
            (account_id, resource, value),
        )

    def invitation(self, account_id: int, email: str | None = None, expires="7 days") -> int:
        return self.one(
            "INSERT INTO invitations (account_id, email, role, token_hash, created_at, expires_at) "
            "VALUES (%s, %s, 'member', %s, now() - interval '30 days', now() + %s::interval) "
            "RETURNING id",
            (account_id, email or f"{unique('i')}@example.com", uuid.uuid4().hex * 2, expires),
        )


@pytest.fixture
def rows(conn):
    return Rows(conn)


def refused(conn, sql, params=(), error=psycopg.errors.CheckViolation, match=None):
    """Run ``sql`` in a savepoint and expect the database to refuse it with ``error``."""
    with pytest.raises(error, match=match) as info, conn.transaction():
        conn.execute(sql, params)
    return info.value
