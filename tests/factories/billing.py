"""Products, orders, subscriptions, invoices (with lines) and usage records.

Orders, subscriptions and invoices are created in their initial state and moved step by
step to ``status=...`` (the database refuses any other path). Invoice numbers come from the
database; never pass one.
"""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import factory
from sqlalchemy import text

from portal import models
from portal.usage.services import DAILY_FROM_RECORDS
from tests.factories import BaseFactory
from tests.factories.accounts import AccountFactory
from tests.factories.storage import move_to

__all__ = [
    "InvoiceFactory",
    "InvoiceLineFactory",
    "OrderFactory",
    "ProductFactory",
    "SubscriptionFactory",
    "UsageRecordFactory",
]

_ORDER_PATH = {
    "pending": [],
    "paid": ["paid"],
    "fulfilled": ["paid", "fulfilled"],
    "cancelled": ["cancelled"],
}
_INVOICE_PATH = {
    "draft": [],
    "open": ["open"],
    "paid": ["open", "paid"],
    "void": ["open", "void"],
}


class ProductFactory(BaseFactory):
    class Meta:
        model = models.Product

    sku = factory.Sequence(lambda n: f"PLAN-{n:04d}")
    name = factory.Sequence(lambda n: f"Armazenamento {n} TB")
    description = "Armazenamento de objetos compatível com S3"
    price_monthly = Decimal("49.90")
    active = True


class OrderFactory(BaseFactory):
    class Meta:
        model = models.Order
        exclude = ("account", "product")

    account = factory.SubFactory(AccountFactory)
    product = factory.SubFactory(ProductFactory)
    account_id = factory.LazyAttribute(lambda o: o.account.id)
    product_id = factory.LazyAttribute(lambda o: o.product.id)
    quantity = 1
    unit_price = factory.LazyAttribute(lambda o: o.product.price_monthly)
    total = factory.LazyAttribute(lambda o: o.unit_price * o.quantity)
    status = "pending"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        target = kwargs.pop("status", "pending")
        return move_to(
            model_class(*args, status="pending", **kwargs),
            "status",
            _ORDER_PATH[target],
            {"paid": ("paid_at",), "fulfilled": ("fulfilled_at",), "cancelled": ("cancelled_at",)},
        )


class SubscriptionFactory(BaseFactory):
    """An active subscription (``status="cancelled"`` cancels it after creation). Note: the
    database makes an 'approved' account 'active' when it gets its first subscription."""

    class Meta:
        model = models.Subscription
        exclude = ("account", "product")

    account = factory.SubFactory(AccountFactory)
    product = factory.SubFactory(ProductFactory)
    account_id = factory.LazyAttribute(lambda o: o.account.id)
    product_id = factory.LazyAttribute(lambda o: o.product.id)
    quantity = 1
    current_period_end = factory.LazyFunction(lambda: datetime.now(UTC) + timedelta(days=30))
    status = "active"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        target = kwargs.pop("status", "active")
        path = ["cancelled"] if target == "cancelled" else []
        return move_to(
            model_class(*args, status="active", **kwargs),
            "status",
            path,
            {"cancelled": ("cancelled_at",)},
        )


class InvoiceFactory(BaseFactory):
    """An invoice for one month (``period_start``), moved to ``status``."""

    class Meta:
        model = models.Invoice
        exclude = ("account",)

    account = factory.SubFactory(AccountFactory)
    account_id = factory.LazyAttribute(lambda o: o.account.id)
    period_start = factory.Sequence(lambda n: date(2020 + n // 12, n % 12 + 1, 1))
    period_end = factory.LazyAttribute(
        lambda o: date(
            o.period_start.year + o.period_start.month // 12, o.period_start.month % 12 + 1, 1
        )
    )
    total = Decimal("0.00")
    status = "draft"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        target = kwargs.pop("status", "draft")
        if target != "draft":
            kwargs.setdefault("due_at", kwargs["period_end"] + timedelta(days=10))
        # Each state carries what it needs (0021): set on the move, not at the start.
        reference = kwargs.pop("payment_reference", "E2E-PIX-TESTE")
        reason = kwargs.pop("void_reason", "Emitida por engano")
        return move_to(
            model_class(*args, status="draft", **kwargs),
            "status",
            _INVOICE_PATH[target],
            {"open": ("issued_at",), "paid": ("paid_at",), "void": ("voided_at",)},
            {"paid": {"payment_reference": reference}, "void": {"void_reason": reason}},
        )


class InvoiceLineFactory(BaseFactory):
    class Meta:
        model = models.InvoiceLine
        exclude = ("invoice",)

    invoice = factory.SubFactory(InvoiceFactory)
    invoice_id = factory.LazyAttribute(lambda o: o.invoice.id)
    description = "Armazenamento padrão (GB-mês)"
    quantity = Decimal("100")
    unit_price = Decimal("0.1200")
    amount = factory.LazyAttribute(
        lambda o: (o.unit_price * o.quantity).quantize(Decimal("0.01"), ROUND_HALF_UP)
    )


class UsageRecordFactory(BaseFactory):
    class Meta:
        model = models.UsageRecord
        exclude = ("account",)

    account = factory.SubFactory(AccountFactory)
    account_id = factory.LazyAttribute(lambda o: o.account.id)
    metric = "storage_gb_hours"
    quantity = Decimal("720.000000")
    period_start = factory.LazyFunction(lambda: datetime.now(UTC) - timedelta(hours=1))
    period_end = factory.LazyAttribute(lambda o: o.period_start + timedelta(hours=1))
    source_event_id = factory.LazyFunction(lambda: f"evt-{uuid.uuid4()}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        """The record, and its day's ``usage_daily`` and ``usage_daily_totals`` rows (which the importer keeps in
        production: the billing page and invoices read it)."""
        record = super()._create(model_class, *args, **kwargs)
        session = cls._meta.sqlalchemy_session
        for statement in DAILY_FROM_RECORDS:
            session.execute(text(statement.format(where="WHERE id = :id")), {"id": record.id})
        session.commit()
        return record
