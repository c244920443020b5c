"""Products, orders, subscriptions, invoices and usage. Money is numeric(12,2) in BRL.

Billing rows reference their account with ON DELETE RESTRICT: an account with billing
history is never hard-deleted (it is suspended), because invoices are fiscal records.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    FetchedValue,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import created_at, db, pk, updated_at

Money = Numeric(12, 2)

USAGE_METRICS = ("storage_gb_hours", "egress_gb", "requests_put", "requests_get")

# The fulfilment queue's rank of an order: pending (1) first, then paid (2), then the
# closed ones (3: fulfilled, cancelled). The expression indexes of migration 0017 are built on it and
# portal.billing.orders.QUEUE writes the same CASE with literal constants, so the planner
# matches them. Laid out as PostgreSQL prints it back (pg_get_indexdef), so the migrations
# test's model/database comparison (`flask db check`) sees no difference.
ORDER_QUEUE_SQL = (
    "(\nCASE\n    WHEN status = 'pending' THEN 1\n    WHEN status = 'paid' THEN 2\n    ELSE 3\nEND)"
)


class Product(db.Model):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("price_monthly >= 0", name="price_not_negative"),
        CheckConstraint("sku ~ '^[A-Z0-9][A-Z0-9-]{1,39}$'", name="sku_shape"),
    )

    id: Mapped[int] = pk()
    sku: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, server_default="", default="")
    price_monthly: Mapped[Decimal] = mapped_column(Money, nullable=False)
    active: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("true"), default=True
    )
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class Order(db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'paid', 'fulfilled', 'cancelled')", name="status_known"
        ),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),
        CheckConstraint("total = unit_price * quantity", name="total_matches"),
        # 0017: 1 to 1000 units; each state carries the time it was reached.
        CheckConstraint("quantity <= 1000", name="quantity_at_most_1000"),
        CheckConstraint(
            "status IN ('pending', 'cancelled') OR paid_at IS NOT NULL", name="paid_at_set"
        ),
        CheckConstraint(
            "status <> 'fulfilled' OR fulfilled_at IS NOT NULL", name="fulfilled_at_set"
        ),
        CheckConstraint(
            "status <> 'cancelled' OR cancelled_at IS NOT NULL", name="cancelled_at_set"
        ),
        CheckConstraint(
            "payment_reference IS NULL OR btrim(payment_reference) <> ''",
            name="payment_reference_not_blank",
        ),
        # The fulfilment queue (0017): all orders, and one organization's.
        Index(
            "ix_orders_queue_created_at_id",
            text(ORDER_QUEUE_SQL),
            text("created_at DESC"),
            text("id DESC"),
        ),
        Index(
            "ix_orders_account_id_queue_created_at_id",
            "account_id",
            text(ORDER_QUEUE_SQL),
            text("created_at DESC"),
            text("id DESC"),
        ),
        Index("ix_orders_product_id", "product_id"),
    )

    id: Mapped[int] = pk()
    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("accounts.id", ondelete="RESTRICT"), nullable=False
    )
    product_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("products.id", ondelete="RESTRICT"), nullable=False
    )
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    unit_price: Mapped[Decimal] = mapped_column(Money, nullable=False)
    total: Mapped[Decimal] = mapped_column(Money, nullable=False)
    status: Mapped[str] = mapped_column(
        String(16), nullable=False, server_default="pending", default="pending"
    )
    placed_by_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    fulfilled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # 0017: what staff typed when marking it paid; why it was cancelled.
    payment_reference: Mapped[str | None] = mapped_column(String(200))
    cancellation_reason: Mapped[str | None] = mapped_column(String(1000))

    # Many-to-one: read from the identity map when the product was loaded with the order.
    product: Mapped[Product] = relationship(lazy="select")


class Subscription(db.Model):
    __tablename__ = "subscriptions"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'cancelled')", name="status_known"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        # One active subscription per (account, product); fulfilling another order extends it.
        Index(
            "uq_subscriptions_active_account_product",
            "account_id",
            "product_id",
            unique=True,
            postgresql_where=text("status = 'active'"),
        ),
        Index("ix_subscriptions_product_id", "product_id"),
        # The billing page lists an account's subscriptions of every status (0010).
        Index("ix_subscriptions_account_id", "account_id"),
        CheckConstraint(
            "status <> 'cancelled' OR cancelled_at IS NOT NULL", name="cancelled_at_set"
        ),
    )

    id: Mapped[int] = pk()
    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("accounts.id", ondelete="RESTRICT"), nullable=False
    )
    product_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("products.id", ondelete="RESTRICT"), nullable=False
    )
    quantity: Mapped[int] = mapped_column(
        Integer, nullable=False, server_default=text("1"), default=1
    )
    status: Mapped[str] = mapped_column(
        String(16), nullable=False, server_default="active", default="active"
    )
    started_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=text("now()")
    )
    current_period_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    product: Mapped[Product] = relationship(lazy="select")


class Invoice(db.Model):
    __tablename__ = "invoices"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'open', 'paid', 'void')", name="status_known"),
        CheckConstraint("period_end > period_start", name="period_ordered"),
        CheckConstraint("total >= 0", name="total_not_negative"),
        # One invoice per account and period; a voided one may be replaced.
        Index(
            "uq_invoices_account_period",
            "account_id",
            "period_start",
            unique=True,
            postgresql_where=text("status <> 'void'"),
        ),
        # The billing page lists an account's invoices by period, void ones too (0010).
        Index("ix_invoices_account_id_period_start", "account_id", "period_start"),
        # 0021: each state carries what it needs; the invoice lists' indexes.
        CheckConstraint(
            "status <> 'paid' OR (payment_reference IS NOT NULL AND btrim(payment_reference) "
            "<> '' AND paid_at IS NOT NULL)",
            name="paid_has_reference",
        ),
        CheckConstraint(
            "payment_reference IS NULL OR status = 'paid'", name="reference_only_when_paid"
        ),
        CheckConstraint(
            "status <> 'void' OR (void_reason IS NOT NULL AND btrim(void_reason) <> '' "
            "AND voided_at IS NOT NULL)",
            name="void_has_reason",
        ),
        CheckConstraint("void_reason IS NULL OR status = 'void'", name="reason_only_when_void"),
        CheckConstraint(
            "status NOT IN ('open', 'paid') OR (issued_at IS NOT NULL AND due_at IS NOT NULL)",
            name="issued_when_open",
        ),
        Index("ix_invoices_account_id_number", "account_id", "number"),
        Index("ix_invoices_period_start_number", "period_start", "number"),
        Index("ix_invoices_status_number", "status", "number"),
        Index("ix_invoices_open_due_at", "due_at", postgresql_where=text("status = 'open'")),
    )

    id: Mapped[int] = pk()
    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("accounts.id", ondelete="RESTRICT"), nullable=False
    )
    # Sequential, never reused: assigned by the database from invoice_number_counters (a
    # BEFORE INSERT trigger, migration 0005); never set it. FetchedValue makes the ORM leave
    # it out of the INSERT and read it back with RETURNING.
    number: Mapped[int] = mapped_column(BigInteger, FetchedValue(), nullable=False, unique=True)
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    total: Mapped[Decimal] = mapped_column(
        Money, nullable=False, server_default=text("0"), default=Decimal("0.00")
    )
    status: Mapped[str] = mapped_column(
        String(16), nullable=False, server_default="draft", default="draft"
    )
    issued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[date | None] = mapped_column(Date)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
    # 0021: the payment's reference (paid), the reason (void).
    payment_reference: Mapped[str | None] = mapped_column(String(200))
    void_reason: Mapped[str | None] = mapped_column(String(1000))


class InvoiceLine(db.Model):
    __tablename__ = "invoice_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("amount = round(unit_price * quantity, 2)", name="amount_matches"),
        Index("ix_invoice_lines_invoice_id", "invoice_id"),
        # 0021: what a line bills (a subscription, a metered charge, or anything else).
        CheckConstraint("kind IN ('subscription', 'usage', 'other')", name="kind_known"),
        CheckConstraint(
            "(kind = 'subscription') = (subscription_id IS NOT NULL)", name="subscription_line"
        ),
        CheckConstraint("(kind = 'usage') = (metric IS NOT NULL)", name="usage_line"),
        CheckConstraint(
            "metric IS NULL OR metric IN ('storage', 'egress', 'requests_put', 'requests_get')",
            name="metric_known",
        ),
        Index(
            "ix_invoice_lines_subscription_id",
            "subscription_id",
            postgresql_where=text("subscription_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = pk()
    # Lines belong to their invoice: removing a draft invoice removes its lines.
    invoice_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("invoices.id", ondelete="CASCADE"), nullable=False
    )
    description: Mapped[str] = mapped_column(String(255), nullable=False)
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 4), nullable=False)
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 4), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    product_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("products.id", ondelete="RESTRICT")
    )
    kind: Mapped[str] = mapped_column(
        String(16), nullable=False, server_default="other", default="other"
    )
    subscription_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("subscriptions.id", ondelete="RESTRICT")
    )
    metric: Mapped[str | None] = mapped_column(String(16))


class UsageRecord(db.Model):
    __tablename__ = "usage_records"
    __table_args__ = (
        CheckConstraint(
            "metric IN ('storage_gb_hours', 'egress_gb', 'requests_put', 'requests_get')",
            name="metric_known",
        ),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        CheckConstraint("period_end > period_start", name="period_ordered"),
        # Usage pages and invoicing read an account's records for a period.
        Index("ix_usage_records_account_id_period_start", "account_id", "period_start"),
        # Deleting a bucket sets bucket_id to NULL here: find those rows by index (0010).
        Index(
            "ix_usage_records_bucket_id",
            "bucket_id",
            postgresql_where=text("bucket_id IS NOT NULL"),
        ),
        UniqueConstraint("source_event_id"),
    )

    id: Mapped[int] = pk()
    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("accounts.id", ondelete="RESTRICT"), nullable=False
    )
    bucket_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("buckets.id", ondelete="SET NULL")
    )
    metric: Mapped[str] = mapped_column(String(32), nullable=False)
    quantity: Mapped[Decimal] = mapped_column(Numeric(20, 6), nullable=False)
    period_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    period_end: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # The metering pipeline's event id: ingesting the same event twice is refused.
    source_event_id: Mapped[str] = mapped_column(String(128), nullable=False)
    recorded_at: Mapped[datetime] = created_at()


class UsageDaily(db.Model):
    """Each organization's metered quantity per UTC day, metric and bucket: the sum of the
    usage records whose ``period_start`` falls on that day (in UTC). Written only by the
    importer's batch statement (rows actually inserted, so idempotent), in the same
    transaction as the records; read by the billing page's per-bucket breakdown (the other
    reads use :class:`UsageDailyTotal`), so its cost does not grow with the number of
    records. ``bucket_key`` is the bucket's id or 0 (no
    bucket); no foreign key: a deleted bucket's usage stays under its old id (reads join
    ``buckets`` and show it with the usage not tied to a bucket, as usage_records' NULL)."""

    __tablename__ = "usage_daily"
    __table_args__ = (
        CheckConstraint(
            "metric IN ('storage_gb_hours', 'egress_gb', 'requests_put', 'requests_get')",
            name="metric_known",
        ),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        CheckConstraint("bucket_key >= 0", name="bucket_key_not_negative"),
    )

    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    metric: Mapped[str] = mapped_column(String(32), primary_key=True)
    bucket_key: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, server_default=text("0"), autoincrement=False
    )
    quantity: Mapped[Decimal] = mapped_column(Numeric(20, 6), nullable=False)


class UsageDailyTotal(db.Model):
    """``usage_daily`` without the bucket: an organization's metered quantity per UTC day
    and metric (the sum of its usage_daily rows of that day). Kept by the same importer
    statement; the month summary, the daily chart, totals and invoices read it, so their
    cost depends on neither the number of records nor the number of buckets."""

    __tablename__ = "usage_daily_totals"
    __table_args__ = (
        CheckConstraint(
            "metric IN ('storage_gb_hours', 'egress_gb', 'requests_put', 'requests_get')",
            name="metric_known",
        ),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        # Invoicing sums one month of every organization.
        Index("ix_usage_daily_totals_day", "day"),
    )

    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    metric: Mapped[str] = mapped_column(String(32), primary_key=True)
    quantity: Mapped[Decimal] = mapped_column(Numeric(20, 6), nullable=False)


class InvoiceNumberCounter(db.Model):
    """The last invoice number issued: one row, locked and incremented by the invoices
    BEFORE INSERT trigger in the inserting transaction, so numbers have no gaps (migrations
    0005 and 0006). Application code never writes it."""

    __tablename__ = "invoice_number_counters"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("last_number >= 0", name="last_number_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, server_default=text("1"))
    last_number: Mapped[int] = mapped_column(BigInteger, nullable=False)
