"""Readable, translated names of order and subscription states (templates use them through
the ``order_status_label`` / ``subscription_status_label`` globals)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

ORDER_STATUS_LABELS = {
    "pending": _l("Waiting for payment"),
    "paid": _l("Paid"),
    "fulfilled": _l("Fulfilled"),
    "cancelled": _l("Cancelled"),
}

SUBSCRIPTION_STATUS_LABELS = {
    "active": _l("Active"),
    "cancelled": _l("Cancelled"),
}


def order_status_label(status: str) -> str:
    label = ORDER_STATUS_LABELS.get(status)
    return str(label) if label is not None else status


def subscription_status_label(status: str) -> str:
    label = SUBSCRIPTION_STATUS_LABELS.get(status)
    return str(label) if label is not None else status
