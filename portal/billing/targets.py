"""What the audit log calls a product, an order and a subscription (``Target.of(obj)``).

Labels are snapshots kept when the row changes later: an order is "#12 · Plan name × 2"."""

from __future__ import annotations

from portal.events import Target, target_of
from portal.models import Invoice, Order, Product, Subscription


@target_of.register
def _(product: Product) -> Target:
    return Target("product", product.id, f"{product.sku} · {product.name}")


@target_of.register
def _(order: Order) -> Target:
    return Target("order", order.id, f"#{order.id} · {order.product.name} × {order.quantity}")


@target_of.register
def _(subscription: Subscription) -> Target:
    return Target(
        "subscription", subscription.id, f"#{subscription.id} · {subscription.product.name}"
    )


@target_of.register
def _(invoice: Invoice) -> Target:
    period = f"{invoice.period_start.year:04d}-{invoice.period_start.month:02d}"
    return Target("invoice", invoice.id, f"{invoice.number} · {period}")
