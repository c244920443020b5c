"""An organization's subscriptions: the list its billing page shows, and cancelling one.

A subscription starts when staff fulfil an order (:func:`portal.billing.orders.fulfil`).
Cancelling it is final (``portal.states.SUBSCRIPTION``); the organization keeps using it
until the end of the period already paid (``current_period_end``), which the page shows as
"usable until". Owners and billing members cancel (``Permission.SUBSCRIPTIONS_CANCEL``).

No request, flash, current_user or commit here: the caller owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from flask_babel import format_datetime, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, select

from portal import clock, states
from portal.audit import Action
from portal.billing.labels import subscription_status_label
from portal.billing.notices import Fact, announce
from portal.errors import Invalid
from portal.extensions import db
from portal.models import Account, AccountMember, Product, Subscription, User
from portal.permissions import Permission, can, check_id, require, require_object

LIST_LIMIT = 100


@dataclass(frozen=True)
class SubscriptionRow:
    """One subscription as the billing page shows it, with whether the viewer may cancel."""

    id: int
    account_id: int
    product_name: str
    product_sku: str
    price_monthly: Decimal
    quantity: int
    status: str
    started_at: datetime
    current_period_end: datetime | None
    cancelled_at: datetime | None
    may_cancel: bool = False

    @property
    def dom_id(self) -> str:
        return f"subscription-{self.id}"

    @property
    def monthly_amount(self) -> Decimal:
        """What the subscription costs a month at the catalog's price."""
        return self.price_monthly * self.quantity

    @property
    def status_label(self) -> str:
        return subscription_status_label(self.status)

    @property
    def usable_until(self) -> datetime | None:
        """A cancelled subscription stays usable until the end of the period paid."""
        return self.current_period_end if self.status == "cancelled" else None


def may_cancel(membership: AccountMember | None, status: str) -> bool:
    return can(membership, Permission.SUBSCRIPTIONS_CANCEL) and states.SUBSCRIPTION.allows(
        "cancel", status
    )


def _statement(account_id: int) -> Select:
    return (
        select(
            Subscription.id,
            Subscription.account_id,
            Product.name,
            Product.sku,
            Product.price_monthly,
            Subscription.quantity,
            Subscription.status,
            Subscription.started_at,
            Subscription.current_period_end,
            Subscription.cancelled_at,
        )
        .join(Product, Product.id == Subscription.product_id)
        .where(Subscription.account_id == account_id)
    )


def account_subscriptions(
    account: Account, membership: AccountMember, limit: int = LIST_LIMIT
) -> list[SubscriptionRow]:
    """The organization's subscriptions, active ones first, newest first (the caller
    checked access). One query (ix_subscriptions_account_id): an organization has one
    active subscription per product, so the list stays short; cancelled ones beyond
    ``limit`` are left out."""
    rows = db.session.execute(
        _statement(account.id)
        .order_by(
            case((Subscription.status == "active", 0), else_=1),
            Subscription.started_at.desc(),
            Subscription.id.desc(),
        )
        .limit(limit)
    )
    return [SubscriptionRow(*r, may_cancel=may_cancel(membership, r.status)) for r in rows]


def subscription_row(user: User, account_id: int, subscription_id: int) -> SubscriptionRow | None:
    """One of the organization's subscriptions as the page shows it; None if there is none."""
    account, membership = require(user, account_id, Permission.BILLING)
    row = db.session.execute(
        _statement(account.id).where(Subscription.id == check_id(subscription_id))
    ).first()
    return SubscriptionRow(*row, may_cancel=may_cancel(membership, row.status)) if row else None


def cancel_subscription(
    actor: User, account_id: int, subscription_id: int, *, ip: str | None = None
) -> SubscriptionRow:
    """Cancel an active subscription (owners and billing members). It stays usable until
    the end of its current period; the owners and billing members are told."""
    account, _membership, subscription = require_object(
        actor,
        account_id,
        Permission.SUBSCRIPTIONS_CANCEL,
        Subscription,
        object_id=subscription_id,
        lock=True,
    )
    db.session.refresh(subscription)
    if not states.SUBSCRIPTION.allows("cancel", subscription.status):
        raise Invalid(
            gettext(
                "This subscription was already cancelled. Reload the page to see its current state."
            ),
            field="status",
        )
    subscription.status = states.SUBSCRIPTION.target("cancel")
    subscription.cancelled_at = clock.now()
    db.session.flush()
    product = subscription.product
    facts = [
        Fact(_l("Product"), product.name),
        Fact(_l("Quantity"), subscription.quantity),
        Fact(_l("Status"), subscription_status_label(subscription.status)),
    ]
    if subscription.current_period_end is not None:
        facts.append(Fact(_l("Usable until"), subscription.current_period_end, "datetime"))
        headline = _l(
            "%(name)s cancelled the subscription of %(account)s to %(product)s. It stays "
            "usable until %(until)s.",
            name=actor.name,
            account=account.name,
            product=product.name,
            until=_Until(subscription.current_period_end),
        )
    else:
        headline = _l(
            "%(name)s cancelled the subscription of %(account)s to %(product)s.",
            name=actor.name,
            account=account.name,
            product=product.name,
        )
    announce(
        actor,
        Action.SUBSCRIPTION_CANCELLED,
        subscription,
        account=account,
        ip=ip,
        details={
            "sku": product.sku,
            "quantity": subscription.quantity,
            "current_period_end": (
                subscription.current_period_end.isoformat()
                if subscription.current_period_end
                else None
            ),
        },
        params={"product": product.name, "actor_name": actor.name},
        subject=_l(
            "Subscription to %(product)s cancelled · %(account)s",
            product=product.name,
            account=account.name,
        ),
        headline=headline,
        facts=facts,
    )
    db.session.flush()
    return subscription_row(actor, account.id, subscription.id)


class _Until:
    """A date that formats itself in the language of the moment it is shown (an email is
    rendered in its recipient's)."""

    def __init__(self, when: datetime):
        self.when = when

    def __str__(self) -> str:
        return format_datetime(self.when, "medium")
