"""Orders: customers place them and may cancel them while they wait for payment; staff mark
them paid (with the payment's reference), fulfil them and cancel pending ones with a reason.

The moves are ``portal.states.ORDER``'s (the database's trigger enforces the same). Each is
one transaction of the caller: the state change, the audit row, and a notification and an
email to the organization's owners and billing members (:mod:`portal.billing.notices`).

Locks: every move locks the organization's row, then the order's (the order of
``permissions.require_object``, so two moves never deadlock), and re-reads the order after
the wait. Two admins acting on one order at once therefore take turns, and the second
one's move is refused with a message that says what happened meanwhile.

Fulfilment creates the organization's subscription to the product, or raises the quantity
of the active one (one active subscription per account and product, as the schema says).
An approved organization's first active subscription makes it active: the database does
it (trigger ``subscriptions_activate_account``, migration 0004); this module re-reads the
organization and records that change in the audit log too.

Two lists, both keyset-paged on an index in their order (migration 0017): the fulfilment
queue (``/admin/orders``: pending first, then paid, then the closed ones, each newest
first) and one organization's orders, in the same order.

No request, flash, current_user or commit here: the caller owns the transaction."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, Select, case, func, literal_column, select
from sqlalchemy.orm import aliased

from portal import clock, events, links, states
from portal.accounts.labels import account_status_label
from portal.audit import Action
from portal.billing.labels import order_status_label
from portal.billing.money import MAX_AMOUNT
from portal.billing.notices import Fact, announce
from portal.errors import Invalid, NotFound
from portal.events import OWNERS
from portal.extensions import db
from portal.models import Account, AccountMember, AccountStatus, Order, Product, Subscription, User
from portal.pagination import Cursor, Key, Keyset, Page
from portal.permissions import (
    Permission,
    can,
    check_id,
    lock_staff_object,
    require,
    require_platform_admin,
)
from portal.text import one_line

PAGE_SIZE = 25
ACCOUNT_PAGE_SIZE = 20
QUANTITY_MIN, QUANTITY_MAX = 1, 1000
REFERENCE_MAX = 200
REASON_MAX = 1000
STATUSES = ("pending", "paid", "fulfilled", "cancelled")
# Organizations that may order, and whose paid orders may be fulfilled.
BUYING = (AccountStatus.APPROVED.value, AccountStatus.ACTIVE.value)


# ---------------------------------------------------------------------------- queue ---
def _const(sql: str, type_=None):
    return literal_column(sql, type_) if type_ is not None else literal_column(sql)


# The rank of an order in the fulfilment queue: the CASE of the expression indexes of
# migration 0017 (portal.models.billing.ORDER_QUEUE_SQL), with literal constants so the
# planner recognizes it.
QUEUE = case(
    (Order.status == _const("'pending'"), _const("1", Integer)),
    (Order.status == _const("'paid'"), _const("2", Integer)),
    else_=_const("3", Integer),
)
RANKS = {"pending": 1, "paid": 2, "fulfilled": 3, "cancelled": 3}
LAST_RANK = 3
SHARED_RANK = {"fulfilled", "cancelled"}

# Pending first, then paid, then fulfilled and cancelled; newest first within each. A later
# page is "the rest of this rank" and "the next ranks" (one range scan each; none for the
# next ranks once in the last one).
ORDER = Keyset(
    Key(QUEUE, desc=False, name="queue", last=LAST_RANK), Key(Order.created_at), Key(Order.id)
)
# One status is one rank: newest first, one range scan of the same indexes.
ORDER_ONE_STATUS = Keyset(Key(Order.created_at), Key(Order.id))


def keyset(status: str | None) -> Keyset:
    """The order of the list: the queue, or for one status simply newest first."""
    return ORDER_ONE_STATUS if status else ORDER


def by_status(status: str):
    """The condition of one status: a range of the queue's indexes (its rank), narrowed to
    the status where two share the rank (fulfilled and cancelled)."""
    condition = QUEUE == RANKS[status]  # noqa: SIM300 (SQL, not a Yoda condition)
    if status in SHARED_RANK:
        condition = condition & (Order.status == status)
    return condition


# ---------------------------------------------------------------------------- views ---
@dataclass(frozen=True)
class OrderRow:
    """One order as a list shows it. ``may_cancel`` is the customer's right to cancel it
    (computed by the service that read it); staff's moves are :attr:`staff_actions`."""

    id: int
    account_id: int
    account_name: str
    product_id: int
    product_name: str
    product_sku: str
    quantity: int
    unit_price: Decimal
    total: Decimal
    status: str
    created_at: datetime
    paid_at: datetime | None
    fulfilled_at: datetime | None
    cancelled_at: datetime | None
    payment_reference: str | None
    cancellation_reason: str | None
    placed_by_name: str | None
    queue: int
    may_cancel: bool = False

    @property
    def dom_id(self) -> str:
        return f"order-{self.id}"

    @property
    def status_label(self) -> str:
        return order_status_label(self.status)

    @property
    def staff_actions(self) -> list[str]:
        """The moves staff may make from this state ("pay", "fulfil", "cancel")."""
        return states.ORDER.actions_from(self.status)


def rows_statement() -> Select:
    """The columns of :class:`OrderRow` (without ``may_cancel``): the order with its
    organization, product and the person who placed it."""
    placer = aliased(User, name="placer")
    return (
        select(
            Order.id,
            Order.account_id,
            Account.name.label("account_name"),
            Order.product_id,
            Product.name.label("product_name"),
            Product.sku.label("product_sku"),
            Order.quantity,
            Order.unit_price,
            Order.total,
            Order.status,
            Order.created_at,
            Order.paid_at,
            Order.fulfilled_at,
            Order.cancelled_at,
            Order.payment_reference,
            Order.cancellation_reason,
            placer.name.label("placed_by_name"),
            QUEUE.label("queue"),
        )
        .join(Account, Account.id == Order.account_id)
        .join(Product, Product.id == Order.product_id)
        .outerjoin(placer, placer.id == Order.placed_by_id)
    )


def _check_status(status: str | None) -> str | None:
    if status and status not in STATUSES:
        raise Invalid(gettext("Choose one of the statuses in the list."), field="status")
    return status or None


def queue_statement(*, status: str | None = None, account_id: int | None = None) -> Select:
    """The fulfilment queue's query, without its order (``ORDER`` pages it)."""
    stmt = rows_statement()
    if account_id is not None:
        stmt = stmt.where(Order.account_id == account_id)
    if status:
        stmt = stmt.where(by_status(status))
    return stmt


def list_orders(
    actor: User,
    *,
    status: str | None = None,
    account_id: int | None = None,
    before: Cursor | None = None,
    limit: int = PAGE_SIZE,
) -> Page[OrderRow]:
    """A page of every organization's orders (staff), pending first. One query."""
    require_platform_admin(actor)
    status = _check_status(status)
    stmt = queue_statement(status=status, account_id=account_id)
    page = keyset(status).page(stmt, before, limit)
    page.rows = [OrderRow(*r) for r in page.rows]
    return page


def order_row(actor: User, order_id: int) -> OrderRow | None:
    """One order as the staff list shows it (one query); None if there is none."""
    require_platform_admin(actor)
    row = db.session.execute(rows_statement().where(Order.id == check_id(order_id))).first()
    return OrderRow(*row) if row is not None else None


def find_account(query: str | None) -> Account | None:
    """The organization staff mean by ``query``: its CNPJ (with or without punctuation) or
    its number (``12`` or ``#12``). One query; None when there is no such organization."""
    text = (query or "").strip().lstrip("#").strip()
    cnpj = re.sub(r"[./\-\s]", "", text).upper()
    if re.fullmatch(r"[0-9A-Z]{12}[0-9]{2}", cnpj):
        return db.session.scalar(select(Account).where(Account.cnpj == cnpj))
    if text.isdigit() and len(text) <= 18 and int(text) > 0:
        return db.session.get(Account, int(text))
    return None


# ------------------------------------------------------------------- an account's ---
def may_cancel(membership: AccountMember | None, status: str) -> bool:
    return can(membership, Permission.BILLING) and states.ORDER.allows("cancel", status)


def account_orders(
    account: Account,
    membership: AccountMember,
    before: Cursor | None = None,
    limit: int = ACCOUNT_PAGE_SIZE,
) -> Page[OrderRow]:
    """A page of an organization's orders, pending first (the caller checked access with
    ``require(..., Permission.BILLING)``). One query."""
    page = ORDER.page(queue_statement(account_id=account.id), before, limit)
    page.rows = [OrderRow(*r, may_cancel=may_cancel(membership, r.status)) for r in page.rows]
    return page


def account_order_row(user: User, account_id: int, order_id: int) -> OrderRow | None:
    """One of the organization's orders as its billing page shows it; None if gone."""
    account, membership = require(user, account_id, Permission.BILLING)
    row = db.session.execute(
        rows_statement().where(Order.id == check_id(order_id), Order.account_id == account.id)
    ).first()
    if row is None:
        return None
    return OrderRow(*row, may_cancel=may_cancel(membership, row.status))


# --------------------------------------------------------------------------- input ---
def parse_quantity(value) -> int:
    text = str(value if value is not None else "").strip()
    if not text.isdigit() or not QUANTITY_MIN <= int(text) <= QUANTITY_MAX:
        raise Invalid(
            gettext(
                "Enter a whole number from %(min)d to %(max)d.",
                min=QUANTITY_MIN,
                max=QUANTITY_MAX,
            ),
            field="quantity",
        )
    return int(text)


def _product_id(value) -> int:
    text = str(value if value is not None else "").strip()
    if not text.isdigit() or not 0 < int(text) < 2**63:
        raise Invalid(gettext("Choose one of the products in the catalog."), field="product")
    return int(text)


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def add_month(when: datetime) -> datetime:
    """The same moment one calendar month later (31 January → 28/29 February)."""
    year, month = (when.year + 1, 1) if when.month == 12 else (when.year, when.month + 1)
    day = min(when.day, calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)


# ------------------------------------------------------------------------ notices ---
def _facts(order: Order) -> list[Fact]:
    facts = [
        Fact(_l("Order"), f"#{order.id}"),
        Fact(_l("Product"), order.product.name),
        Fact(_l("Quantity"), order.quantity),
        Fact(_l("Total per month"), order.total, "money"),
        Fact(_l("Status"), order_status_label(order.status)),
    ]
    if order.payment_reference:
        facts.append(Fact(_l("Payment reference"), order.payment_reference))
    if order.cancellation_reason:
        facts.append(Fact(_l("Reason"), order.cancellation_reason))
    return facts


def _params(order: Order, actor: User) -> dict:
    return {
        "order": order.id,
        "product": order.product.name,
        "quantity": order.quantity,
        "actor_name": actor.name,
    }


def _details(order: Order, **extra) -> dict:
    return {
        "sku": order.product.sku,
        "quantity": order.quantity,
        "unit_price": _money(order.unit_price),
        "total": _money(order.total),
        **extra,
    }


# ---------------------------------------------------------------------- placing ---
def _check_may_buy(account: Account) -> None:
    if account.status == AccountStatus.PENDING:
        raise Invalid(
            gettext(
                "%(name)s is still waiting for our review. You can place orders once it is "
                "approved.",
                name=account.name,
            )
        )
    if account.status == AccountStatus.SUSPENDED:
        raise Invalid(
            gettext(
                "%(name)s is suspended and read-only: no new orders until it is restored.",
                name=account.name,
            )
        )


def place_order(
    actor: User, account_id: int, product_id, quantity, *, ip: str | None = None
) -> Order:
    """A pending order of ``quantity`` units of an active product, at the product's price
    now (copied into the order: a later price change never alters it). Owners, admins and
    billing members of an approved or active organization."""
    account, _membership = require(actor, account_id, Permission.BILLING, lock=True)
    _check_may_buy(account)
    wanted = _product_id(product_id)
    count = parse_quantity(quantity)
    # FOR SHARE: the price and the active flag stay as read until this order commits.
    product = db.session.scalar(
        select(Product)
        .where(Product.id == wanted)
        .with_for_update(read=True)
        .execution_options(populate_existing=True)
    )
    if product is None or not product.active:
        raise Invalid(
            gettext("This product is no longer offered. Choose one of the catalog."),
            field="product",
        )
    total = product.price_monthly * count
    if total > MAX_AMOUNT:
        raise Invalid(
            gettext("This order's total is more than we can invoice: order fewer units."),
            field="quantity",
        )
    order = Order(
        account_id=account.id,
        product_id=product.id,
        quantity=count,
        unit_price=product.price_monthly,
        total=total,
        placed_by_id=actor.id,
    )
    if clock.traveling():
        order.created_at = clock.now()
    db.session.add(order)
    db.session.flush()
    announce(
        actor,
        Action.ORDER_PLACED,
        order,
        account=account,
        ip=ip,
        details=_details(order),
        params=_params(order, actor),
        subject=_l("Order #%(order)s placed · %(account)s", order=order.id, account=account.name),
        headline=_l(
            "%(name)s placed order #%(order)s for %(account)s. It becomes active when our team "
            "confirms the payment.",
            name=actor.name,
            order=order.id,
            account=account.name,
        ),
        facts=_facts(order),
    )
    db.session.flush()
    return order


# ------------------------------------------------------------------------ moves ---
REFUSALS = {
    "pay": _l(
        "Order #%(order)s cannot be marked paid: it is %(status)s, and only orders waiting "
        "for payment can be. Reload the page to see its current state."
    ),
    "fulfil": _l(
        "Order #%(order)s cannot be fulfilled: it is %(status)s, and only paid orders can be. "
        "Reload the page to see its current state."
    ),
    "cancel": _l(
        "Order #%(order)s cannot be cancelled: it is %(status)s, and only orders waiting for "
        "payment can be. Reload the page to see its current state."
    ),
}


def _check_move(order: Order, action: str) -> None:
    if not states.ORDER.allows(action, order.status):
        raise Invalid(
            str(REFUSALS[action]) % {"order": order.id, "status": order_status_label(order.status)},
            field="status",
        )


def _lock_staff(order_id: int) -> tuple[Order, Account]:
    """The order and its organization, locked (organization first), as they are now."""
    return lock_staff_object(Order, order_id)


def mark_paid(
    actor: User, order_id: int, reference: str | None, *, ip: str | None = None
) -> OrderRow:
    """Staff confirm the payment of a pending order, with its reference (PIX end-to-end
    id, boleto number, bank transfer: free text, required)."""
    require_platform_admin(actor)
    order, account = _lock_staff(order_id)
    _check_move(order, "pay")
    reference = one_line(
        reference,
        field="reference",
        maximum=REFERENCE_MAX,
        missing=gettext(
            "Enter the payment's reference: the PIX end-to-end id, the boleto number or the "
            "bank transfer's details."
        ),
    )
    order.status = states.ORDER.target("pay")
    order.paid_at = clock.now()
    order.payment_reference = reference
    db.session.flush()
    announce(
        actor,
        Action.ORDER_PAID,
        order,
        account=account,
        ip=ip,
        details=_details(order, reference=reference),
        params=_params(order, actor),
        subject=_l(
            "Order #%(order)s: payment confirmed · %(account)s",
            order=order.id,
            account=account.name,
        ),
        headline=_l(
            "We confirmed the payment of order #%(order)s for %(account)s. The subscription "
            "starts when the order is fulfilled.",
            order=order.id,
            account=account.name,
        ),
        facts=_facts(order),
    )
    db.session.flush()
    return order_row(actor, order.id)


def fulfil(actor: User, order_id: int, *, ip: str | None = None) -> OrderRow:
    """Staff fulfil a paid order: the organization's active subscription to the product
    grows by the order's quantity, or a new one starts (current period: one month). An
    approved organization becomes active with its first subscription (the database's
    trigger), which is recorded here too."""
    require_platform_admin(actor)
    order, account = _lock_staff(order_id)
    _check_move(order, "fulfil")
    if account.status not in BUYING:
        raise Invalid(
            gettext(
                "Order #%(order)s cannot be fulfilled while %(name)s is %(status)s. Reactivate "
                "the organization first.",
                order=order.id,
                name=account.name,
                status=account_status_label(account.status),
            ),
            field="status",
        )
    now = clock.now()
    subscription = db.session.scalar(
        select(Subscription)
        .where(
            Subscription.account_id == account.id,
            Subscription.product_id == order.product_id,
            Subscription.status == "active",
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    was = account.status
    if subscription is None:
        subscription = Subscription(
            account_id=account.id,
            product_id=order.product_id,
            quantity=order.quantity,
            status="active",
            started_at=now,
            current_period_end=add_month(now),
        )
        if clock.traveling():
            subscription.created_at = now
        db.session.add(subscription)
        before = 0
    else:
        before = subscription.quantity
        subscription.quantity = before + order.quantity
    order.status = states.ORDER.target("fulfil")
    order.fulfilled_at = now
    db.session.flush()
    # The database may have activated the organization (its first active subscription).
    db.session.refresh(account)
    announce(
        actor,
        Action.ORDER_FULFILLED,
        order,
        account=account,
        ip=ip,
        details=_details(
            order,
            subscription_id=subscription.id,
            created=before == 0,
            quantity_before=before,
            quantity_after=subscription.quantity,
        ),
        params=_params(order, actor),
        subject=_l(
            "Order #%(order)s fulfilled · %(account)s", order=order.id, account=account.name
        ),
        headline=_l(
            "Order #%(order)s is fulfilled: %(account)s now subscribes to %(quantity)s × "
            "%(product)s.",
            order=order.id,
            account=account.name,
            quantity=subscription.quantity,
            product=order.product.name,
        ),
        facts=[
            *_facts(order),
            Fact(_l("Subscription since"), subscription.started_at, "datetime"),
            Fact(_l("Current period ends"), subscription.current_period_end, "datetime"),
        ],
    )
    if was != account.status:
        events.emit(
            actor,
            Action.ACCOUNT_STATUS_CHANGED,
            account,
            account=account,
            ip=ip,
            details={"from": was, "to": account.status, "by": "first_subscription"},
            notify=OWNERS,
            link=links.dashboard(account.id),
            params={"status": account.status},
        )
    db.session.flush()
    return order_row(actor, order.id)


def _cancel(order: Order, account: Account, actor: User, reason: str | None, ip, by: str):
    order.status = states.ORDER.target("cancel")
    order.cancelled_at = clock.now()
    order.cancellation_reason = reason
    db.session.flush()
    details = _details(order, by=by)
    if reason:
        details["reason"] = reason
    announce(
        actor,
        Action.ORDER_CANCELLED,
        order,
        account=account,
        ip=ip,
        details=details,
        params=_params(order, actor),
        subject=_l(
            "Order #%(order)s cancelled · %(account)s", order=order.id, account=account.name
        ),
        headline=_l(
            "Order #%(order)s for %(account)s was cancelled. Nothing will be charged for it.",
            order=order.id,
            account=account.name,
        ),
        facts=_facts(order),
    )
    db.session.flush()


def cancel_by_staff(
    actor: User, order_id: int, reason: str | None, *, ip: str | None = None
) -> OrderRow:
    """Staff cancel a pending order, saying why (required)."""
    require_platform_admin(actor)
    order, account = _lock_staff(order_id)
    _check_move(order, "cancel")
    reason = one_line(
        reason,
        field="reason",
        maximum=REASON_MAX,
        missing=gettext("Give the reason for the cancellation."),
    )
    _cancel(order, account, actor, reason, ip, by="staff")
    return order_row(actor, order.id)


def cancel_order(
    actor: User,
    account_id: int,
    order_id: int,
    reason: str | None = None,
    *,
    ip: str | None = None,
) -> OrderRow:
    """A customer (owner, admin, billing) cancels one of the organization's orders while it
    waits for payment; the reason is optional. A suspended organization may cancel too:
    cancelling only takes something away."""
    account, membership = require(actor, account_id, Permission.BILLING, lock=True)
    order = db.session.scalar(
        select(Order)
        .where(Order.id == check_id(order_id), Order.account_id == account.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if order is None:
        raise NotFound()
    _check_move(order, "cancel")
    reason = one_line(reason, field="reason", maximum=REASON_MAX, missing=None)
    _cancel(order, account, actor, reason, ip, by="customer")
    return account_order_row(actor, account.id, order.id)


def pending_count_statement() -> Select:
    """How many orders wait for payment (the admin home): a range of the queue's index."""
    return select(func.count()).select_from(Order).where(by_status("pending"))
