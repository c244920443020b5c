"""Readable, translated names of order and subscription states (templates use them through
the ``order_status_label`` / ``subscription_status_label`` globals).

Each has a context ("order status", "subscription status"): the same English word is not
always the same word in Portuguese (a *pedido* is "cancelado", an *assinatura* "cancelada").
"""

from __future__ import annotations

from flask_babel import lazy_pgettext

ORDER_STATUS_LABELS = {
    "pending": lazy_pgettext("order status", "Waiting for payment"),
    "paid": lazy_pgettext("order status", "Paid"),
    "fulfilled": lazy_pgettext("order status", "Fulfilled"),
    "cancelled": lazy_pgettext("order status", "Cancelled"),
}

SUBSCRIPTION_STATUS_LABELS = {
    "active": lazy_pgettext("subscription status", "Active"),
    "cancelled": lazy_pgettext("subscription status", "Cancelled"),
}


INVOICE_STATUS_LABELS = {
    "draft": lazy_pgettext("invoice status", "Draft"),
    "open": lazy_pgettext("invoice status", "Open"),
    "paid": lazy_pgettext("invoice status", "Paid"),
    "void": lazy_pgettext("invoice status", "Void"),
}


def invoice_status_label(status: str) -> str:
    label = INVOICE_STATUS_LABELS.get(status)
    return str(label) if label is not None else status


def order_status_label(status: str) -> str:
    label = ORDER_STATUS_LABELS.get(status)
    return str(label) if label is not None else status


def subscription_status_label(status: str) -> str:
    label = SUBSCRIPTION_STATUS_LABELS.get(status)
    return str(label) if label is not None else status
