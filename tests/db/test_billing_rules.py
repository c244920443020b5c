"""The buying path's rules in the database itself (migration 0017, with 0002 and 0004): raw
SQL that would break them is refused, whatever the application does.

- an order's terms (account, product, quantity, unit price, total) never change, and it is
  for 1 to 1000 units; each state carries the time it was reached; a payment reference is
  never blank;
- a product's SKU never changes; a product that orders refer to is never deleted;
- a cancelled subscription says when;
- an approved account becomes active with its first active subscription, and only then.
"""

from __future__ import annotations

import psycopg
import pytest

from tests.db.conftest import refused


def _paid_order(conn, rows, account=None):
    order = rows.order(account or rows.account())
    conn.execute("UPDATE orders SET status = 'paid', paid_at = now() WHERE id = %s", (order,))
    return order


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("quantity", "3"),
        ("unit_price", "1.00"),
        ("total", "30.00"),
        ("product_id", "NULL"),  # replaced by another product below
        ("account_id", "NULL"),  # replaced by another account below
    ],
)
def test_an_orders_terms_never_change(conn, rows, column, value):
    order = rows.order(rows.account())
    if column == "product_id":
        value = str(rows.product())
    if column == "account_id":
        value = str(rows.account())
    refused(
        conn,
        f"UPDATE orders SET {column} = {value} WHERE id = %s",
        (order,),
        match=f"orders_{column}_immutable",
    )


def test_an_order_is_for_1_to_1000_units(conn, rows):
    account, product = rows.account(), rows.product("1.00")
    ok = rows.one(
        "INSERT INTO orders (account_id, product_id, quantity, unit_price, total) "
        "VALUES (%s, %s, 1000, 1.00, 1000.00) RETURNING id",
        (account, product),
    )
    assert ok
    refused(
        conn,
        "INSERT INTO orders (account_id, product_id, quantity, unit_price, total) "
        "VALUES (%s, %s, 1001, 1.00, 1001.00)",
        (account, product),
        match="ck_orders_quantity_at_most_1000",
    )


@pytest.mark.parametrize(
    ("sql", "constraint"),
    [
        ("UPDATE orders SET status = 'paid' WHERE id = %s", "ck_orders_paid_at_set"),
        (
            "UPDATE orders SET status = 'cancelled' WHERE id = %s",
            "ck_orders_cancelled_at_set",
        ),
        (
            "UPDATE orders SET status = 'paid', paid_at = now(), payment_reference = '  ' "
            "WHERE id = %s",
            "ck_orders_payment_reference_not_blank",
        ),
    ],
    ids=["paid_without_time", "cancelled_without_time", "blank_reference"],
)
def test_each_order_state_carries_its_time(conn, rows, sql, constraint):
    order = rows.order(rows.account())
    refused(conn, sql, (order,), match=constraint)


def test_a_fulfilled_order_says_when(conn, rows):
    order = _paid_order(conn, rows)
    refused(
        conn,
        "UPDATE orders SET status = 'fulfilled' WHERE id = %s",
        (order,),
        match="ck_orders_fulfilled_at_set",
    )
    conn.execute(
        "UPDATE orders SET status = 'fulfilled', fulfilled_at = now() WHERE id = %s", (order,)
    )
    refused(
        conn,
        "UPDATE orders SET paid_at = NULL WHERE id = %s",
        (order,),
        match="ck_orders_paid_at_set",
    )


def test_a_products_sku_never_changes(conn, rows):
    product = rows.product()
    refused(
        conn,
        "UPDATE products SET sku = 'RENAMED-1' WHERE id = %s",
        (product,),
        match="products_sku_immutable",
    )
    # Everything else may change.
    conn.execute(
        "UPDATE products SET name = 'Novo', price_monthly = 1.00, active = false WHERE id = %s",
        (product,),
    )


def test_a_product_referenced_by_a_subscription_is_never_deleted(conn, rows):
    product = rows.product()
    rows.subscription(rows.account(), product)
    refused(
        conn,
        "DELETE FROM products WHERE id = %s",
        (product,),
        # ON DELETE RESTRICT: PostgreSQL 18 names it restrict_violation, 15 foreign_key.
        error=(psycopg.errors.ForeignKeyViolation, psycopg.errors.RestrictViolation),
    )


def test_a_subscriptions_identity_never_changes_and_its_cancellation_says_when(conn, rows):
    account = rows.account()
    subscription = rows.subscription(account)
    refused(
        conn,
        "UPDATE subscriptions SET account_id = %s WHERE id = %s",
        (rows.account(), subscription),
        match="subscriptions_account_id_immutable",
    )
    refused(
        conn,
        "UPDATE subscriptions SET status = 'cancelled' WHERE id = %s",
        (subscription,),
        match="ck_subscriptions_cancelled_at_set",
    )
    conn.execute(
        "UPDATE subscriptions SET status = 'cancelled', cancelled_at = now() WHERE id = %s",
        (subscription,),
    )


@pytest.mark.parametrize(
    ("status", "after"),
    [("approved", "active"), ("pending", "pending"), ("suspended", "suspended")],
)
def test_the_first_active_subscription_activates_only_an_approved_account(
    conn, rows, status, after
):
    account = rows.account(status)
    rows.subscription(account)
    stored = conn.execute(
        "SELECT status, activated_at IS NOT NULL FROM accounts WHERE id = %s", (account,)
    ).fetchone()
    assert stored == (after, after == "active")
