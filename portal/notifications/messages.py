"""The sentence each notification kind shows, in the reader's language.

A notification stores ``kind`` and ``params`` (never rendered text), so the sentence is
translated when it is read: the same row reads in Portuguese for one person and in English
for another. Unknown kinds and missing parameters degrade to a generic sentence instead of
failing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from flask_babel import format_date, gettext
from flask_babel import lazy_gettext as _l

from portal.accounts.labels import ROLE_LABELS, STATUS_LABELS
from portal.quotas.labels import RESOURCE_NOUNS, amount

KIND_MESSAGES = {
    "member.role_changed": _l("%(actor_name)s changed your role in %(account_name)s to %(role)s."),
    "member.removed": _l("%(actor_name)s removed you from %(account_name)s."),
    "member.left": _l("%(member_name)s left %(account_name)s."),
    "member.joined": _l("%(member_name)s joined %(account_name)s as %(role)s."),
    "invitation.accepted": _l("%(member_name)s accepted the invitation to %(account_name)s."),
    "account.status_changed": _l("The status of %(account_name)s is now: %(status)s."),
    "quota.approved": _l(
        "PrimeCloud approved the request for more %(resource)s in %(account_name)s: the "
        "limit is now %(granted)s."
    ),
    "quota.rejected": _l(
        "PrimeCloud did not approve the request for more %(resource)s in %(account_name)s. "
        "See the note on the quotas page."
    ),
    "bucket.versioning_enabled": _l(
        "%(actor_name)s enabled versioning on the bucket %(bucket)s of %(account_name)s."
    ),
    "bucket.versioning_suspended": _l(
        "%(actor_name)s suspended versioning on the bucket %(bucket)s of %(account_name)s."
    ),
    "bucket.deleted": _l("%(actor_name)s deleted the bucket %(bucket)s of %(account_name)s."),
    "order.placed": _l(
        "%(actor_name)s placed order #%(order)s (%(quantity)s × %(product)s) for %(account_name)s."
    ),
    "order.paid": _l(
        "The payment of order #%(order)s (%(product)s) for %(account_name)s was confirmed."
    ),
    "order.fulfilled": _l(
        "Order #%(order)s is fulfilled: %(account_name)s now subscribes to %(product)s."
    ),
    "order.cancelled": _l("Order #%(order)s (%(product)s) for %(account_name)s was cancelled."),
    "invoice.issued": _l(
        "The invoice %(number)s of %(account_name)s for %(period)s is issued: it can be paid "
        "by PIX."
    ),
    "invoice.paid": _l("The payment of the invoice %(number)s of %(account_name)s was confirmed."),
    "invoice.voided": _l("The invoice %(number)s of %(account_name)s was voided."),
    "usage.threshold_reached": _l(
        "The storage of %(account_name)s reached %(threshold)s%% of its quota "
        "(%(used_gb)s of %(quota_gb)s GB). Ask for more on the quotas page."
    ),
    "key.rotated": _l(
        "%(actor_name)s rotated the secret of the access key %(key_name)s (%(key_id)s) of "
        "%(account_name)s."
    ),
    "key.revoked": _l(
        "%(actor_name)s revoked the access key %(key_name)s (%(key_id)s) of %(account_name)s."
    ),
    "key.expiring": _l(
        "The access key %(key_name)s (%(key_id)s) of %(account_name)s expires at the end of "
        "%(expires_on)s."
    ),
    "key.expired": _l(
        "The access key %(key_name)s (%(key_id)s) of %(account_name)s has expired (%(expires_on)s)."
    ),
    "subscription.cancelled": _l(
        "%(actor_name)s cancelled the subscription of %(account_name)s to %(product)s."
    ),
}


class _Params(dict):
    """Format parameters: a missing one reads as an ellipsis instead of raising KeyError."""

    def __missing__(self, key: str) -> str:
        return "…"


def _display(key: str, value: Any) -> str:
    if key == "role" and isinstance(value, str) and value in ROLE_LABELS:
        return str(ROLE_LABELS[value])
    if key == "status" and isinstance(value, str) and value in STATUS_LABELS:
        return str(STATUS_LABELS[value])
    if key == "resource" and isinstance(value, str) and value in RESOURCE_NOUNS:
        return str(RESOURCE_NOUNS[value])
    if key == "expires_on" and isinstance(value, str):
        try:
            return format_date(date.fromisoformat(value), "medium")
        except ValueError:
            return value
    if value is None:
        return "…"
    return str(value)


def render(kind: str, params: Mapping[str, Any] | None) -> str:
    """The translated sentence for a notification (plain text; templates escape it)."""
    template = KIND_MESSAGES.get(kind)
    if template is None:
        return gettext("You have a new notification.")
    values = _Params({k: _display(k, v) for k, v in (params or {}).items()})
    if isinstance((params or {}).get("granted"), int):  # "500 GB" for storage
        values["granted"] = amount(str(params.get("resource")), params["granted"])
    try:
        return str(template) % values
    except (TypeError, ValueError):
        return gettext("You have a new notification.")
