"""The billing services: prices as people type them, placing an order (the price copied),
fulfilment creating or extending a subscription, an approved organization's activation,
illegal moves refused with a message (nothing written), cancelling a subscription, and the
sentences of the audit log and the notifications."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal import clock
from portal.audit_log import messages as audit_messages
from portal.billing import catalog, orders, subscriptions
from portal.billing.money import parse_amount, parse_price
from portal.errors import Invalid, NotAllowed, NotFound
from portal.events import Target
from portal.extensions import db
from portal.models import Account, AuditLog, EmailOutbox, Notification, Order, Product, Subscription
from portal.notifications import messages as notification_messages
from tests import factories


def ours(obj):
    return db.session.get(type(obj), obj.id)


@pytest.fixture
def admin(app_ctx, dbs):
    return ours(factories.AdminFactory(name="Staff"))


def make_org(status="active"):
    owner = factories.UserFactory(name="Olga Owner")
    billing = factories.UserFactory(name="Bia Billing")
    admin_member = factories.UserFactory(name="Ada Admin")
    viewer = factories.UserFactory(name="Vera Viewer")
    account = factories.AccountFactory(name="Acme Ltda", owner=owner, status=status)
    factories.MemberFactory(account=account, user=billing, role="billing")
    factories.MemberFactory(account=account, user=admin_member, role="admin")
    factories.MemberFactory(account=account, user=viewer, role="viewer")
    return account, {
        "owner": ours(owner),
        "billing": ours(billing),
        "admin": ours(admin_member),
        "viewer": ours(viewer),
    }


def counts():
    db.session.expire_all()
    return tuple(
        db.session.scalar(select(func.count()).select_from(m))
        for m in (Order, Subscription, AuditLog, Notification, EmailOutbox)
    ) + (
        tuple(db.session.execute(select(Order.id, Order.status).order_by(Order.id)).all()),
        tuple(db.session.execute(select(Account.id, Account.status).order_by(Account.id)).all()),
    )


# --------------------------------------------------------------------------- money ---
@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("1.234,56", "1234.56"),
        ("1234,56", "1234.56"),
        ("1234.56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("1.234.567,89", "1234567.89"),
        ("1,234,567.89", "1234567.89"),
        ("R$ 1.234,56", "1234.56"),
        ("R$1.234,56", "1234.56"),
        (" 49,9 ", "49.90"),
        ("0,5", "0.50"),
        (",5", "0.50"),
        ("1.234", "1234.00"),
        ("1.234.567", "1234567.00"),
        ("12", "12.00"),
        ("0", "0.00"),
        ("1\u00a0234,56", "1234.56"),
    ],
)
def test_amounts_typed_the_brazilian_way_or_plain(typed, amount):
    assert parse_amount(typed) == Decimal(amount)


@pytest.mark.parametrize(
    "typed",
    ["", "abc", "-5", "1,234", "12.345,678", "1.23.45", "1,2,3", "12.34.56", "1e5", "١٢", "1..2"],
)
def test_what_is_not_an_amount(typed):
    assert parse_amount(typed) is None


def test_prices_have_limits(app_ctx):
    assert parse_price("9.999.999.999,99") == Decimal("9999999999.99")
    with pytest.raises(Invalid, match="at most R\\$ 9.999.999.999,99") as caught:
        parse_price("10.000.000.000,00")
    assert caught.value.field == "price"
    with pytest.raises(Invalid, match="Enter the monthly price."):
        parse_price("  ")


def test_add_month_keeps_the_day_or_the_last_one():
    assert orders.add_month(datetime(2026, 1, 31, 9, tzinfo=UTC)) == datetime(
        2026, 2, 28, 9, tzinfo=UTC
    )
    assert orders.add_month(datetime(2028, 1, 31, tzinfo=UTC)) == datetime(2028, 2, 29, tzinfo=UTC)
    assert orders.add_month(datetime(2026, 12, 15, tzinfo=UTC)) == datetime(2027, 1, 15, tzinfo=UTC)


# -------------------------------------------------------------------------- catalog ---
def test_only_staff_manage_the_catalog(app_ctx, dbs):
    customer = ours(factories.UserFactory())
    with pytest.raises(NotAllowed):
        catalog.create_product(customer, sku="X-1", name="X", description="", price="1")
    with pytest.raises(NotAllowed):
        catalog.list_products(customer)


def test_the_sku_never_changes(admin):
    product = catalog.create_product(admin, sku="fixed-1", name="Fixo", description="", price="10")
    assert product.sku == "FIXED-1"
    product.sku = "OTHER-1"
    with pytest.raises(Exception, match="products_sku_immutable"):
        db.session.flush()
    db.session.rollback()


def test_the_active_catalog_leaves_inactive_products_out(app_ctx, dbs):
    on = factories.ProductFactory(name="AAA Ligado")
    off = factories.ProductFactory(name="AAA Desligado", active=False)
    ids = [p.id for p in catalog.active_products()]
    assert on.id in ids and off.id not in ids


# --------------------------------------------------------------------------- orders ---
def test_placing_an_order_copies_the_price_now(app_ctx, dbs):
    account, people = make_org()
    product = factories.ProductFactory(price_monthly=Decimal("49.90"))
    order = orders.place_order(people["billing"], account.id, str(product.id), "3")
    assert (order.status, order.unit_price, order.total) == (
        "pending",
        Decimal("49.90"),
        Decimal("149.70"),
    )
    ours(product).price_monthly = Decimal("99.00")
    db.session.flush()
    db.session.expire_all()
    stored = db.session.get(Order, order.id)
    assert (stored.unit_price, stored.total) == (Decimal("49.90"), Decimal("149.70"))
    # The database refuses to rewrite an order's terms.
    stored.unit_price = Decimal("99.00")
    stored.total = Decimal("297.00")
    with pytest.raises(Exception, match="orders_unit_price_immutable"):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("role", ["viewer"])
def test_roles_that_may_not_buy_are_refused(app_ctx, dbs, role):
    account, people = make_org()
    product = factories.ProductFactory()
    before = counts()
    with pytest.raises(NotAllowed):
        orders.place_order(people[role], account.id, product.id, 1)
    with pytest.raises(NotFound):
        orders.place_order(ours(factories.UserFactory()), account.id, product.id, 1)
    assert counts() == before


def test_placing_while_traveling_dates_the_order_then(app_ctx, dbs):
    account, people = make_org()
    product = factories.ProductFactory()
    when = datetime(2025, 3, 1, 12, tzinfo=UTC)
    with clock.travel(when):
        order = orders.place_order(people["owner"], account.id, product.id, 1)
    assert abs((order.created_at - when).total_seconds()) < 60


def _pay(admin, order, reference="PIX E123"):
    return orders.mark_paid(admin, order.id, reference)


def test_fulfilment_creates_the_subscription_and_activates_an_approved_organization(admin):
    account, people = make_org(status="approved")
    product = factories.ProductFactory(name="Plano Um")
    order = orders.place_order(people["owner"], account.id, product.id, 2)
    row = _pay(admin, order)
    assert (row.status, row.payment_reference) == ("paid", "PIX E123")
    assert db.session.get(Account, account.id).status == "approved"  # paid is not enough
    row = orders.fulfil(admin, order.id)
    assert row.status == "fulfilled"
    db.session.expire_all()
    [subscription] = db.session.scalars(
        select(Subscription).where(Subscription.account_id == account.id)
    ).all()
    assert (subscription.status, subscription.quantity) == ("active", 2)
    assert subscription.current_period_end == orders.add_month(subscription.started_at)
    activated = db.session.get(Account, account.id)
    assert activated.status == "active" and activated.activated_at is not None
    log = db.session.scalars(
        select(AuditLog).where(
            AuditLog.account_id == account.id, AuditLog.action == "account.status_changed"
        )
    ).one()
    assert log.details == {"from": "approved", "to": "active", "by": "first_subscription"}
    assert log.actor_id == admin.id


def test_fulfilment_extends_the_active_subscription_of_the_same_product(admin):
    account, people = make_org()
    product = factories.ProductFactory()
    first = orders.place_order(people["owner"], account.id, product.id, 2)
    second = orders.place_order(people["owner"], account.id, product.id, 5)
    for order in (first, second):
        _pay(admin, order)
        orders.fulfil(admin, order.id)
    subs = db.session.scalars(
        select(Subscription).where(Subscription.account_id == account.id)
    ).all()
    assert [(s.status, s.quantity) for s in subs] == [("active", 7)]
    details = [
        log.details
        for log in db.session.scalars(
            select(AuditLog).where(AuditLog.action == "order.fulfilled").order_by(AuditLog.id)
        )
    ]
    assert [(d["created"], d["quantity_before"], d["quantity_after"]) for d in details] == [
        (True, 0, 2),
        (False, 2, 7),
    ]
    assert details[0]["subscription_id"] == details[1]["subscription_id"] == subs[0].id


def test_after_a_cancellation_a_new_order_starts_a_new_subscription(admin):
    account, people = make_org()
    product = factories.ProductFactory()
    old = factories.SubscriptionFactory(account=account, product=product, status="cancelled")
    order = factories.OrderFactory(account=account, product=product, status="paid")
    orders.fulfil(admin, order.id)
    subs = db.session.scalars(
        select(Subscription).where(Subscription.account_id == account.id).order_by(Subscription.id)
    ).all()
    assert [(s.id == old.id, s.status) for s in subs] == [(True, "cancelled"), (False, "active")]


@pytest.mark.parametrize(
    ("status", "move", "message"),
    [
        ("pending", "fulfil", "cannot be fulfilled: it is Waiting for payment, and only paid"),
        ("fulfilled", "fulfil", "cannot be fulfilled: it is Fulfilled"),
        ("cancelled", "fulfil", "cannot be fulfilled: it is Cancelled"),
        ("paid", "pay", "cannot be marked paid: it is Paid, and only orders waiting"),
        ("fulfilled", "pay", "cannot be marked paid: it is Fulfilled"),
        ("cancelled", "pay", "cannot be marked paid: it is Cancelled"),
        ("paid", "cancel", "cannot be cancelled: it is Paid, and only orders waiting"),
        ("fulfilled", "cancel", "cannot be cancelled: it is Fulfilled"),
        ("cancelled", "cancel", "cannot be cancelled: it is Cancelled"),
    ],
)
def test_illegal_moves_are_refused_with_a_message_and_write_nothing(admin, status, move, message):
    account, people = make_org()
    order = factories.OrderFactory(account=account, status=status)
    before = counts()
    calls = {
        "pay": lambda: orders.mark_paid(admin, order.id, "ref"),
        "fulfil": lambda: orders.fulfil(admin, order.id),
        "cancel": lambda: orders.cancel_by_staff(admin, order.id, "why"),
    }
    with pytest.raises(Invalid, match=f"Order #{order.id} {message}") as caught:
        calls[move]()
    assert caught.value.field == "status"
    if move == "cancel":
        with pytest.raises(Invalid, match="cannot be cancelled"):
            orders.cancel_order(people["owner"], account.id, order.id)
    assert counts() == before


def test_staff_moves_are_for_staff(app_ctx, dbs):
    account, people = make_org()
    order = factories.OrderFactory(account=account)
    for call in (
        lambda: orders.mark_paid(people["owner"], order.id, "x"),
        lambda: orders.fulfil(people["owner"], order.id),
        lambda: orders.cancel_by_staff(people["owner"], order.id, "x"),
        lambda: orders.list_orders(people["owner"]),
    ):
        with pytest.raises(NotAllowed):
            call()


def test_a_missing_order_is_not_found(admin):
    for call in (
        lambda: orders.mark_paid(admin, 2**62, "x"),
        lambda: orders.fulfil(admin, 2**62),
        lambda: orders.cancel_by_staff(admin, 2**62, "x"),
    ):
        with pytest.raises(NotFound):
            call()


def test_customers_cancel_with_an_optional_reason(app_ctx, dbs):
    account, people = make_org()
    order = factories.OrderFactory(account=account)
    row = orders.cancel_order(people["admin"], account.id, order.id, "  mudamos   de ideia ")
    assert (row.status, row.cancellation_reason, row.may_cancel) == (
        "cancelled",
        "mudamos de ideia",
        False,
    )


def test_the_queue_order_and_the_status_filter(admin):
    account, _ = make_org()
    made = {s: factories.OrderFactory(account=account, status=s) for s in orders.STATUSES}
    page = orders.list_orders(admin, account_id=account.id)
    assert [r.status for r in page.rows] == ["pending", "paid", "cancelled", "fulfilled"]
    for status, order in made.items():
        page = orders.list_orders(admin, account_id=account.id, status=status)
        assert [r.id for r in page.rows] == [order.id]
    with pytest.raises(Invalid, match="Choose one of the statuses"):
        orders.list_orders(admin, status="lost")


def test_find_account_by_number_or_cnpj(app_ctx, dbs):
    account = factories.AccountFactory()
    c = account.cnpj
    for query in (
        str(account.id),
        f"#{account.id}",
        c,
        f"{c[:2]}.{c[2:5]}.{c[5:8]}/{c[8:12]}-{c[12:]}",
    ):
        assert orders.find_account(query).id == account.id
    for query in ("", "abc", "0", str(2**63), "12.345.678/0001-00"):
        assert orders.find_account(query) is None


# -------------------------------------------------------------------- subscriptions ---
def test_cancelling_a_subscription_keeps_its_period(app_ctx, dbs):
    account, people = make_org()
    product = factories.ProductFactory(name="Plano Dois")
    subscription = factories.SubscriptionFactory(account=account, product=product, quantity=4)
    row = subscriptions.cancel_subscription(people["billing"], account.id, subscription.id)
    assert (row.status, row.quantity) == ("cancelled", 4)
    assert row.cancelled_at is not None
    assert row.usable_until == subscription.current_period_end
    assert row.may_cancel is False
    with pytest.raises(Invalid, match="already cancelled"):
        subscriptions.cancel_subscription(people["owner"], account.id, subscription.id)


@pytest.mark.parametrize("role", ["admin", "viewer"])
def test_only_owners_and_billing_cancel_subscriptions(app_ctx, dbs, role):
    account, people = make_org()
    subscription = factories.SubscriptionFactory(account=account)
    with pytest.raises(NotAllowed):
        subscriptions.cancel_subscription(people[role], account.id, subscription.id)


def test_the_subscription_list_puts_active_ones_first(app_ctx, dbs):
    account, people = make_org()
    from portal.models import AccountMember

    membership = db.session.scalars(
        select(AccountMember).where(
            AccountMember.account_id == account.id, AccountMember.user_id == people["admin"].id
        )
    ).one()
    old = factories.SubscriptionFactory(account=account, status="cancelled")
    new = factories.SubscriptionFactory(account=account)
    rows = subscriptions.account_subscriptions(ours(account), membership)
    assert [r.id for r in rows] == [new.id, old.id]
    assert rows[0].monthly_amount == rows[0].price_monthly * rows[0].quantity
    assert not any(r.may_cancel for r in rows)  # admins do not cancel subscriptions


# ----------------------------------------------------------------- words and names ---
def test_targets_name_products_orders_and_subscriptions(app_ctx, dbs):
    account, _ = make_org()
    product = ours(factories.ProductFactory(sku="NAME-1", name="Plano Nome"))
    order = ours(factories.OrderFactory(account=account, product=product, quantity=2))
    subscription = ours(factories.SubscriptionFactory(account=account, product=product))
    assert Target.of(product) == Target("product", product.id, "NAME-1 · Plano Nome")
    assert Target.of(order) == Target("order", order.id, f"#{order.id} · Plano Nome × 2")
    assert Target.of(subscription) == Target(
        "subscription", subscription.id, f"#{subscription.id} · Plano Nome"
    )


@pytest.mark.parametrize(
    ("action", "sentence"),
    [
        ("product.created", "Created the product NAME-1 · Plano."),
        ("product.updated", "Updated the product NAME-1 · Plano."),
        ("product.deleted", "Deleted the product NAME-1 · Plano."),
        ("subscription.cancelled", "Cancelled the subscription NAME-1 · Plano."),
        ("order.placed", "Placed the order NAME-1 · Plano."),
    ],
)
def test_audit_sentences(app_ctx, action, sentence):
    assert audit_messages.sentence(action, "x", "1", "NAME-1 · Plano") == sentence


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("order.placed", "Ana placed order #12 (2 × Plano) for Acme."),
        ("order.paid", "The payment of order #12 (Plano) for Acme was confirmed."),
        ("order.fulfilled", "Order #12 is fulfilled: Acme now subscribes to Plano."),
        ("order.cancelled", "Order #12 (Plano) for Acme was cancelled."),
        ("subscription.cancelled", "Ana cancelled the subscription of Acme to Plano."),
    ],
)
def test_notification_sentences(app_ctx, kind, expected):
    params = {
        "order": 12,
        "product": "Plano",
        "quantity": 2,
        "actor_name": "Ana",
        "account_name": "Acme",
    }
    assert notification_messages.render(kind, params) == expected


def test_notifications_link_to_the_billing_page(admin):
    account, people = make_org()
    order = factories.OrderFactory(account=account)
    orders.mark_paid(admin, order.id, "ref")
    notes = db.session.scalars(select(Notification).where(Notification.kind == "order.paid")).all()
    assert {n.user_id for n in notes} == {people["owner"].id, people["billing"].id}
    assert {n.link for n in notes} == {f"/accounts/{account.id}/billing"}
    assert all(n.params["order"] == order.id for n in notes)


def test_the_product_of_a_deleted_row_keeps_its_name_in_the_log(admin):
    product = catalog.create_product(admin, sku="GONE-1", name="Sumido", description="", price="1")
    catalog.delete_product(admin, product.id)
    logs = db.session.scalars(
        select(AuditLog).where(AuditLog.target_type == "product").order_by(AuditLog.id)
    ).all()
    assert [(log.action, log.target_label) for log in logs] == [
        ("product.created", "GONE-1 · Sumido"),
        ("product.deleted", "GONE-1 · Sumido"),
    ]
    assert (
        db.session.scalar(select(func.count()).select_from(Product).where(Product.sku == "GONE-1"))
        == 0
    )


# ------------------------------------------------------------------- the queue's pages ---
def test_a_page_in_the_last_rank_sends_no_query_for_the_next_ranks(app_ctx):
    """pagination.Key(last=...): once the cursor is in the last rank there is nothing
    beyond it, so the page is one range scan (no empty UNION ALL branch)."""
    from portal.pagination import Cursor

    stmt = orders.queue_statement()
    at = datetime(2026, 1, 1, tzinfo=UTC)
    for rank, segments in ((1, 2), (2, 2), (3, 1)):
        cursor = Cursor((rank, at, 10), orders.ORDER.kinds)
        assert len(orders.ORDER.segments(stmt, cursor, 5)) == segments
    assert len(orders.ORDER.segments(stmt, None, 5)) == 1


def test_the_queue_pages_through_every_order_once(admin):
    account, _ = make_org()
    made = [
        factories.OrderFactory(account=account, status=status)
        for status in ("fulfilled", "pending", "paid", "cancelled", "pending", "paid", "fulfilled")
    ]
    seen, cursor = [], None
    while True:
        page = orders.list_orders(admin, account_id=account.id, before=cursor, limit=2)
        seen += [(r.queue, r.id) for r in page.rows]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(i for _, i in seen) == sorted(o.id for o in made)
    assert [q for q, _ in seen] == sorted(q for q, _ in seen)  # pending, paid, closed
