"""orders and subscriptions for the buying path: payment reference, cancellation reason,
fixed terms, the fulfilment queue's indexes

Why these objects exist (issue 15: customers buy, staff fulfil, the account goes live):

Columns (orders; both nullable, no default: catalog-only changes)
- ``payment_reference``: what staff typed when marking the order paid (PIX end-to-end id,
  boleto number, bank transfer); required by the service for that move.
- ``cancellation_reason``: why a pending order was cancelled (required when staff cancel).

Checks (added NOT VALID, validated in a transaction of their own, like 0009)
- ``ck_orders_quantity_at_most_1000``: an order is for 1 to 1000 units.
- ``ck_orders_paid_at_set`` / ``ck_orders_fulfilled_at_set`` / ``ck_orders_cancelled_at_set``
  and ``ck_subscriptions_cancelled_at_set``: a row in a state carries the time it reached
  it (pages and emails show those dates; a hand-written UPDATE cannot skip them).
- ``ck_orders_payment_reference_not_blank``: a reference, when there is one, says something.

Triggers (forbid_change() from 0004)
- ``products_sku_immutable``: the SKU is fixed once the product exists (orders, invoices
  and the storage backend refer to it).
- ``orders_terms_immutable``: an order's account, product, quantity, unit price and total
  never change after it is placed; the price is copied at placement and a later change of
  the product's price never alters it.
- ``subscriptions_identity_immutable``: a subscription belongs to one account and product.

Indexes (built CONCURRENTLY in autocommit blocks, like 0014: the table stays writable)
- ``ix_orders_queue_created_at_id``: /admin/orders, pending first, then paid, then the
  closed ones (fulfilled and cancelled), each newest first: ORDER BY rank, created_at
  DESC, id DESC. The rank is an expression (pending 1, paid 2, closed 3;
  ``portal.billing.orders.QUEUE`` writes the same CASE). A later page is "the rest of
  this rank" and "the next ranks", one range scan each (portal.pagination); the list
  filtered by status is the range of one rank, newest first.
- ``ix_orders_account_id_queue_created_at_id``: one organization's orders in the same
  order (its billing page, and /admin/orders filtered by organization). It replaces
  ``ix_orders_account_id_created_at`` (0002), whose leading column it keeps for the
  foreign key's lookups.

ON DELETE: nothing new references another table; orders and subscriptions keep their
RESTRICT foreign keys to accounts and products (0002): a product that orders reference is
deactivated, never deleted.

squawk: ``prefer-robust-stmts`` is ignored on the ADD CONSTRAINT ... NOT VALID and VALIDATE
statements, as in 0009 (this revision runs several transactions; each statement is
atomic, VALIDATE is idempotent).

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-26
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

SQUAWK_IGNORE = "-- squawk-ignore prefer-robust-stmts\n"

QUEUE = "(CASE WHEN status = 'pending' THEN 1 WHEN status = 'paid' THEN 2 ELSE 3 END)"

CHECKS = {
    ("orders", "ck_orders_quantity_at_most_1000"): "quantity <= 1000",
    (
        "orders",
        "ck_orders_paid_at_set",
    ): "status IN ('pending', 'cancelled') OR paid_at IS NOT NULL",
    ("orders", "ck_orders_fulfilled_at_set"): "status <> 'fulfilled' OR fulfilled_at IS NOT NULL",
    ("orders", "ck_orders_cancelled_at_set"): "status <> 'cancelled' OR cancelled_at IS NOT NULL",
    ("orders", "ck_orders_payment_reference_not_blank"): (
        "payment_reference IS NULL OR btrim(payment_reference) <> ''"
    ),
    ("subscriptions", "ck_subscriptions_cancelled_at_set"): (
        "status <> 'cancelled' OR cancelled_at IS NOT NULL"
    ),
}

TRIGGERS = {
    "products_sku_immutable": (
        "products",
        "OLD.sku IS DISTINCT FROM NEW.sku",
        "'sku'",
    ),
    "orders_terms_immutable": (
        "orders",
        "OLD.account_id IS DISTINCT FROM NEW.account_id "
        "OR OLD.product_id IS DISTINCT FROM NEW.product_id "
        "OR OLD.quantity IS DISTINCT FROM NEW.quantity "
        "OR OLD.unit_price IS DISTINCT FROM NEW.unit_price "
        "OR OLD.total IS DISTINCT FROM NEW.total",
        "'account_id', 'product_id', 'quantity', 'unit_price', 'total'",
    ),
    "subscriptions_identity_immutable": (
        "subscriptions",
        "OLD.account_id IS DISTINCT FROM NEW.account_id "
        "OR OLD.product_id IS DISTINCT FROM NEW.product_id",
        "'account_id', 'product_id'",
    ),
}

NEW_INDEXES = {
    "ix_orders_queue_created_at_id": f"orders ({QUEUE}, created_at DESC, id DESC)",
    "ix_orders_account_id_queue_created_at_id": (
        f"orders (account_id, {QUEUE}, created_at DESC, id DESC)"
    ),
}
OLD_INDEX = ("ix_orders_account_id_created_at", "orders (account_id, created_at)")


def _concurrently(statements):
    with op.get_context().autocommit_block():
        op.execute("SET statement_timeout = 0")
        op.execute("SET lock_timeout = 0")
        for statement in statements:
            op.execute(statement)
        op.execute("RESET lock_timeout")
        op.execute("RESET statement_timeout")


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("SET LOCAL statement_timeout = '1min'")
    op.execute(
        "ALTER TABLE orders ADD COLUMN IF NOT EXISTS payment_reference varchar(200), "
        "ADD COLUMN IF NOT EXISTS cancellation_reason varchar(1000)"
    )
    for (table, name), condition in CHECKS.items():
        op.execute(
            f"{SQUAWK_IGNORE}ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({condition}) "
            "NOT VALID"
        )
    for name, (table, when, columns) in TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {name} BEFORE UPDATE ON {table} FOR EACH ROW WHEN ({when}) "
            f"EXECUTE FUNCTION forbid_change({columns})"
        )
    # Validation in a transaction of its own (SHARE UPDATE EXCLUSIVE: writes continue).
    with op.get_context().autocommit_block():
        op.execute("BEGIN")
        op.execute("SET LOCAL lock_timeout = '5s'")
        op.execute("SET LOCAL statement_timeout = '30min'")
        for table, name in CHECKS:
            op.execute(f"{SQUAWK_IGNORE}ALTER TABLE {table} VALIDATE CONSTRAINT {name}")
        op.execute("COMMIT")
    _concurrently(
        [f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {n} ON {d}" for n, d in NEW_INDEXES.items()]
        + [f"DROP INDEX CONCURRENTLY IF EXISTS {OLD_INDEX[0]}"]
    )


def downgrade():
    _concurrently(
        [f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {OLD_INDEX[0]} ON {OLD_INDEX[1]}"]
        + [f"DROP INDEX CONCURRENTLY IF EXISTS {n}" for n in reversed(NEW_INDEXES)]
    )
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("SET LOCAL statement_timeout = '1min'")
    for name, (table, _when, _columns) in reversed(TRIGGERS.items()):
        op.execute(f"DROP TRIGGER {name} ON {table}")
    for table, name in reversed(CHECKS):
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    op.execute("ALTER TABLE orders DROP COLUMN cancellation_reason, DROP COLUMN payment_reference")
