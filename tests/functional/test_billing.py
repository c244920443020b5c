"""/accounts/<id>/billing: the organization's subscriptions and orders, placing an order from
the catalog, cancelling a pending order or a subscription — every route for every role,
bad input (422, nothing written), htmx and no-JavaScript answers, fixed query counts."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.models import (
    Account,
    AuditLog,
    EmailOutbox,
    Notification,
    Order,
    Product,
    Subscription,
)
from tests import factories

ROLES = ["owner", "admin", "member", "billing", "viewer"]
BUYERS = {"owner", "admin", "billing"}
CANCELLERS = {"owner", "billing"}  # of subscriptions
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def make_org(status="active", name="Acme Ltda"):
    """An organization with one person of each role: (account, {role: user})."""
    people = {role: factories.UserFactory(name=f"{role.title()} Person") for role in ROLES}
    account = factories.AccountFactory(name=name, owner=people["owner"], status=status)
    for role in ROLES[1:]:
        factories.MemberFactory(account=account, user=people[role], role=role)
    return account, people


@pytest.fixture
def org(dbs):
    return make_org()


@pytest.fixture
def product(dbs):
    return factories.ProductFactory(name="Armazenamento 1 TB", price_monthly=Decimal("1234.56"))


def snapshot(dbs):
    """Everything a billing request could write."""
    dbs.expire_all()

    def count(model):
        return dbs.scalar(select(func.count()).select_from(model))

    return (
        dbs.execute(select(Order.id, Order.status).order_by(Order.id)).all(),
        dbs.execute(
            select(Subscription.id, Subscription.status, Subscription.quantity).order_by(
                Subscription.id
            )
        ).all(),
        dbs.execute(select(Account.id, Account.status).order_by(Account.id)).all(),
        count(AuditLog),
        count(Notification),
        count(EmailOutbox),
    )


def url(account, suffix=""):
    return f"/accounts/{account.id}/billing{suffix}"


def place(client, csrf_token, account, product_id, quantity="1", headers=None):
    return client.post(
        url(account, "/orders"),
        data={"csrf_token": csrf_token(), "product": str(product_id), "quantity": quantity},
        headers=headers or {},
    )


def orders_of(dbs, account):
    dbs.expire_all()
    return dbs.scalars(select(Order).where(Order.account_id == account.id).order_by(Order.id)).all()


# --------------------------------------------------------------------------- access ---
@pytest.mark.parametrize("role", ROLES)
def test_the_billing_page_is_for_owners_admins_and_billing_members(client, login, org, role):
    account, people = org
    login(people[role])
    response = client.get(url(account))
    assert response.status_code == (200 if role in BUYERS else 403)
    dashboard = client.get(f"/accounts/{account.id}/").get_data(as_text=True)
    # The tab is offered exactly to those who may open the page.
    assert (f'href="{url(account)}"' in dashboard) is (role in BUYERS)


def test_other_people_get_404_and_visitors_the_login_page(client, login, org):
    account, _ = org
    response = client.get(url(account))
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login(factories.UserFactory())
    assert client.get(url(account)).status_code == 404
    assert client.get(url(account, "/orders")).status_code == 404
    assert client.get(f"/accounts/{2**62}/billing").status_code == 404


def _routes(account, order, subscription, product):
    return [
        ("place", url(account, "/orders"), {"product": str(product.id), "quantity": "1"}),
        ("cancel_order", url(account, f"/orders/{order.id}/cancel"), {"confirmed": "1"}),
        (
            "cancel_subscription",
            url(account, f"/subscriptions/{subscription.id}/cancel"),
            {"confirmed": "1"},
        ),
    ]


ALLOWED = {
    "place": BUYERS,
    "cancel_order": BUYERS,
    "cancel_subscription": CANCELLERS,
}


@pytest.mark.parametrize("route", list(ALLOWED))
@pytest.mark.parametrize("role", [*ROLES, "stranger", "visitor"])
def test_every_change_by_every_role(client, login, csrf_token, dbs, product, route, role):
    account, people = make_org()
    order = factories.OrderFactory(account=account, product=product)
    subscription = factories.SubscriptionFactory(account=account, product=product)
    path, data = {r: (p, d) for r, p, d in _routes(account, order, subscription, product)}[route]
    if role == "stranger":
        login(factories.UserFactory())
    elif role != "visitor":
        login(people[role])
    before = snapshot(dbs)
    response = client.post(path, data={"csrf_token": csrf_token(), **data})
    if role == "visitor":
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    elif role == "stranger":
        assert response.status_code == 404
    elif role not in ALLOWED[route]:
        assert response.status_code == 403
    else:
        assert response.status_code == 302  # done: flash + redirect back to the page
        assert snapshot(dbs) != before
        return
    assert snapshot(dbs) == before


@pytest.mark.parametrize("route", list(ALLOWED))
def test_csrf_is_required(client, login, dbs, org, product, route):
    account, people = org
    order = factories.OrderFactory(account=account, product=product)
    subscription = factories.SubscriptionFactory(account=account, product=product)
    path, data = {r: (p, d) for r, p, d in _routes(account, order, subscription, product)}[route]
    login(people["owner"])
    before = snapshot(dbs)
    assert client.post(path, data=data).status_code == 400
    assert snapshot(dbs) == before


def test_another_organizations_order_and_subscription_are_404(
    client, login, csrf_token, dbs, org, product
):
    account, people = org
    other, _ = make_org(name="Other Ltda")
    order = factories.OrderFactory(account=other, product=product)
    subscription = factories.SubscriptionFactory(account=other, product=product)
    login(people["owner"])
    before = snapshot(dbs)
    for path in (
        url(account, f"/orders/{order.id}/cancel"),
        url(account, f"/subscriptions/{subscription.id}/cancel"),
        url(account, f"/orders/{2**62}/cancel"),
    ):
        response = client.post(path, data={"csrf_token": csrf_token(), "confirmed": "1"})
        assert response.status_code == 404, path
    assert snapshot(dbs) == before


# ----------------------------------------------------------------------------- page ---
def test_the_page_lists_subscriptions_orders_and_the_catalog(client, login, dbs, org, product):
    account, people = org
    retired = factories.ProductFactory(name="Plano Antigo", active=False)
    factories.SubscriptionFactory(account=account, product=product, quantity=3)
    factories.OrderFactory(
        account=account, product=product, quantity=2, placed_by_id=people["billing"].id
    )
    factories.OrderFactory(
        account=account, product=retired, status="fulfilled", placed_by_id=people["owner"].id
    )
    login(people["billing"])
    html = client.get(url(account)).get_data(as_text=True)
    # Sections, each reachable from the table of contents.
    for section in ("subscriptions", "new-order", "orders"):
        assert f'<section id="{section}"' in html
        assert f'href="#{section}"' in html
    subscriptions = html.split('id="subscriptions"')[1].split("</section>")[0]
    assert "Armazenamento 1 TB" in subscriptions and '"Quantity">3</td>' in subscriptions
    assert "R$3,703.68" in subscriptions  # 3 × 1,234.56 a month
    orders = html.split('<section id="orders"')[1].split("</section>")[0]
    assert orders.index("Waiting for payment") < orders.index("Fulfilled")  # pending first
    assert "Billing Person" in orders and "Owner Person" in orders  # who placed each
    assert '2 × <span class="money">R$1,234.56</span>' in orders and "R$2,469.12" in orders
    catalog = html.split('id="new-order"')[1].split("</section>")[0]
    assert f'value="{product.id}"' in catalog and "Armazenamento 1 TB" in catalog
    assert "Plano Antigo" not in catalog  # only active products are offered


def test_money_is_shown_the_brazilian_way_in_portuguese(client, login, dbs, org, product):
    account, people = org
    factories.OrderFactory(account=account, product=product)
    people["owner"].locale = "pt_BR"
    dbs.commit()
    login(people["owner"])
    html = client.get(url(account)).get_data(as_text=True)
    assert "R$\xa01.234,56" in html
    assert "Aguardando pagamento" in html


def test_an_empty_page_explains_what_comes_next(client, login, dbs, product):
    account, people = make_org(status="approved")
    login(people["owner"])
    html = client.get(url(account)).get_data(as_text=True)
    assert "No subscriptions yet" in html and "No orders yet." in html
    assert "Place the order" in html  # an approved organization may order


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("pending", "You can place orders once our team approves"),
        ("suspended", "is suspended and read-only"),
    ],
)
def test_organizations_that_cannot_order_are_told_why(client, login, dbs, product, status, message):
    account, people = make_org(status=status)
    login(people["owner"])
    html = client.get(url(account)).get_data(as_text=True)
    assert message in html
    assert 'name="quantity"' not in html


# ---------------------------------------------------------------------- placing ---
@pytest.mark.parametrize("role", sorted(BUYERS))
def test_placing_an_order_copies_the_price_and_tells_the_owners_and_billing(
    client, login, csrf_token, dbs, org, product, role
):
    account, people = org
    login(people[role])
    response = place(client, csrf_token, account, product.id, quantity="3")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(url(account) + "#orders")
    [order] = orders_of(dbs, account)
    assert (order.status, order.quantity, order.placed_by_id) == ("pending", 3, people[role].id)
    assert order.unit_price == Decimal("1234.56") and order.total == Decimal("3703.68")
    log = dbs.scalars(select(AuditLog).where(AuditLog.action == "order.placed")).one()
    assert (log.account_id, log.actor_id, log.target_id) == (
        account.id,
        people[role].id,
        str(order.id),
    )
    assert log.target_label == f"#{order.id} · Armazenamento 1 TB × 3"
    # Owners and billing members hear about it (not the person who placed it).
    told = {people[r].id for r in ("owner", "billing")} - {people[role].id}
    notified = set(
        dbs.scalars(select(Notification.user_id).where(Notification.kind == "order.placed"))
    )
    assert notified == told
    emails = dbs.scalars(select(EmailOutbox).where(EmailOutbox.template == "billing_update")).all()
    assert {e.to_address for e in emails} == {people[r].email for r in ("owner", "billing")} - {
        people[role].email
    }
    assert all(f"Order #{order.id} placed" in e.subject for e in emails)
    # The page after the redirect shows the message and the order.
    html = client.get(url(account)).get_data(as_text=True)
    assert f"Order #{order.id} placed: 3 × Armazenamento 1 TB." in html


def test_emails_are_written_in_each_recipients_language(
    client, login, csrf_token, dbs, org, product
):
    account, people = org
    people["billing"].locale = "pt_BR"
    dbs.commit()
    login(people["admin"])
    place(client, csrf_token, account, product.id, quantity="2")
    emails = {
        e.to_address: e
        for e in dbs.scalars(select(EmailOutbox).where(EmailOutbox.template == "billing_update"))
    }
    portuguese = emails[people["billing"].email]
    english = emails[people["owner"].email]
    assert "Pedido nº" in portuguese.subject and "Order #" in english.subject
    assert "R$\xa02.469,12" in portuguese.body_text
    assert "R$2,469.12" in english.body_text
    assert f"/accounts/{account.id}/billing" in english.body_text


def test_a_later_price_change_never_alters_the_order(client, login, csrf_token, dbs, org, product):
    account, people = org
    login(people["owner"])
    place(client, csrf_token, account, product.id, quantity="2")
    product.price_monthly = Decimal("9.99")
    dbs.commit()
    [order] = orders_of(dbs, account)
    assert (order.unit_price, order.total) == (Decimal("1234.56"), Decimal("2469.12"))


def test_htmx_swaps_the_billing_piece_with_the_new_order(
    client, login, csrf_token, dbs, org, product
):
    account, people = org
    login(people["owner"])
    response = place(client, csrf_token, account, product.id, quantity="1", headers=HTMX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="billing">') and "<html" not in html
    [order] = orders_of(dbs, account)
    assert f'id="order-{order.id}"' in html and "placed: 1 × Armazenamento 1 TB" in html


@pytest.mark.parametrize(
    ("product_value", "quantity", "field", "message"),
    [
        ("", "1", "product", "Choose one of the products in the catalog."),
        ("abc", "1", "product", "Choose one of the products in the catalog."),
        (str(2**62), "1", "product", "This product is no longer offered."),
        ("PRODUCT", "0", "quantity", "Enter a whole number from 1 to 1000."),
        ("PRODUCT", "1001", "quantity", "Enter a whole number from 1 to 1000."),
        ("PRODUCT", "-1", "quantity", "Enter a whole number from 1 to 1000."),
        ("PRODUCT", "1.5", "quantity", "Enter a whole number from 1 to 1000."),
        ("PRODUCT", "", "quantity", "Enter a whole number from 1 to 1000."),
        ("PRODUCT", "dez", "quantity", "Enter a whole number from 1 to 1000."),
        ("INACTIVE", "1", "product", "This product is no longer offered."),
    ],
)
@pytest.mark.parametrize("htmx", [False, True], ids=["no_js", "htmx"])
def test_bad_orders_are_refused_next_to_the_field_and_nothing_is_written(
    client, login, csrf_token, dbs, org, product, product_value, quantity, field, message, htmx
):
    account, people = org
    inactive = factories.ProductFactory(active=False)
    value = {"PRODUCT": str(product.id), "INACTIVE": str(inactive.id)}.get(
        product_value, product_value
    )
    login(people["owner"])
    before = snapshot(dbs)
    response = place(client, csrf_token, account, value, quantity, headers=HTMX if htmx else None)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    if field == "quantity":
        assert re.search(r'<p class="error" id="quantity-error">[^<]*' + re.escape(message), html)
    else:
        assert re.search(r'<p class="error" id="product-error">[^<]*' + re.escape(message), html)
    assert ("<html" in html) is not htmx
    assert snapshot(dbs) == before


def test_a_total_beyond_what_can_be_invoiced_is_refused(client, login, csrf_token, dbs, org):
    account, people = org
    pricey = factories.ProductFactory(price_monthly=Decimal("99999999.99"))
    login(people["owner"])
    before = snapshot(dbs)
    response = place(client, csrf_token, account, pricey.id, quantity="1000")
    assert response.status_code == 422
    assert "more than we can invoice" in response.get_data(as_text=True)
    assert snapshot(dbs) == before


@pytest.mark.parametrize(
    ("status", "message"),
    [("pending", "is still waiting for our review"), ("suspended", "is suspended and read-only")],
)
def test_organizations_that_may_not_buy_are_refused(
    client, login, csrf_token, dbs, product, status, message
):
    account, people = make_org(status=status)
    login(people["owner"])
    before = snapshot(dbs)
    response = place(client, csrf_token, account, product.id)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert snapshot(dbs) == before


# ------------------------------------------------------------ cancelling an order ---
def test_cancelling_a_pending_order_asks_first_without_javascript(
    client, login, csrf_token, dbs, org, product
):
    account, people = org
    order = factories.OrderFactory(account=account, product=product, quantity=2)
    login(people["billing"])
    before = snapshot(dbs)
    path = url(account, f"/orders/{order.id}/cancel")
    asked = client.post(path, data={"csrf_token": csrf_token()})
    assert asked.status_code == 200
    assert f"Cancel order #{order.id} (2 × Armazenamento 1 TB)?" in asked.get_data(as_text=True)
    assert snapshot(dbs) == before
    done = client.post(path, data={"csrf_token": csrf_token(), "confirmed": "1"})
    assert done.status_code == 302
    dbs.expire_all()
    assert dbs.get(Order, order.id).status == "cancelled"
    assert dbs.get(Order, order.id).cancelled_at is not None
    log = dbs.scalars(select(AuditLog).where(AuditLog.action == "order.cancelled")).one()
    assert log.details["by"] == "customer"
    assert set(
        dbs.scalars(select(Notification.user_id).where(Notification.kind == "order.cancelled"))
    ) == {people["owner"].id}


def test_htmx_cancelling_swaps_the_row(client, login, csrf_token, dbs, org, product):
    account, people = org
    order = factories.OrderFactory(account=account, product=product)
    login(people["admin"])
    response = client.post(
        url(account, f"/orders/{order.id}/cancel"), data={"csrf_token": csrf_token()}, headers=HTMX
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<tr id="order-{order.id}">')
    assert "status-cancelled" in html and f"Order #{order.id} was cancelled." in html
    assert "Cancel order" not in html  # nothing left to cancel


@pytest.mark.parametrize("status", ["paid", "fulfilled", "cancelled"])
@pytest.mark.parametrize("htmx", [False, True], ids=["no_js", "htmx"])
def test_only_pending_orders_can_be_cancelled(
    client, login, csrf_token, dbs, org, product, status, htmx
):
    account, people = org
    order = factories.OrderFactory(account=account, product=product, status=status)
    login(people["owner"])
    before = snapshot(dbs)
    response = client.post(
        url(account, f"/orders/{order.id}/cancel"),
        data={"csrf_token": csrf_token(), "confirmed": "1"},
        headers=HTMX if htmx else {},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f"Order #{order.id} cannot be cancelled" in html
    assert "only orders waiting for payment can be" in html
    assert f'id="order-{order.id}-error"' in html
    assert snapshot(dbs) == before


# ----------------------------------------------------- cancelling a subscription ---
@pytest.mark.parametrize("role", sorted(CANCELLERS))
def test_cancelling_a_subscription_keeps_it_usable_until_the_period_ends(
    client, login, csrf_token, dbs, org, product, role
):
    account, people = org
    subscription = factories.SubscriptionFactory(account=account, product=product, quantity=2)
    login(people[role])
    path = url(account, f"/subscriptions/{subscription.id}/cancel")
    asked = client.post(path, data={"csrf_token": csrf_token()}).get_data(as_text=True)
    assert "Cancel the subscription to Armazenamento 1 TB? It stays usable until" in asked
    response = client.post(path, data={"csrf_token": csrf_token()}, headers=HTMX)
    assert response.status_code == 200
    dbs.expire_all()
    stored = dbs.get(Subscription, subscription.id)
    assert stored.status == "cancelled" and stored.cancelled_at is not None
    assert stored.current_period_end == subscription.current_period_end
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<tr id="subscription-{subscription.id}">')
    assert "Cancelled on" in html and "Usable until" in html
    assert "The subscription to Armazenamento 1 TB was cancelled." in html
    log = dbs.scalars(select(AuditLog).where(AuditLog.action == "subscription.cancelled")).one()
    assert log.target_label == f"#{subscription.id} · Armazenamento 1 TB"
    others = {people[r].id for r in ("owner", "billing")} - {people[role].id}
    assert (
        set(
            dbs.scalars(
                select(Notification.user_id).where(Notification.kind == "subscription.cancelled")
            )
        )
        == others
    )


def test_admins_see_subscriptions_but_cannot_cancel_them(client, login, dbs, org, product):
    account, people = org
    subscription = factories.SubscriptionFactory(account=account, product=product)
    login(people["admin"])
    html = client.get(url(account)).get_data(as_text=True)
    assert f'id="subscription-{subscription.id}"' in html
    assert f"/subscriptions/{subscription.id}/cancel" not in html
    login(people["owner"])
    html = client.get(url(account)).get_data(as_text=True)
    assert f"/subscriptions/{subscription.id}/cancel" in html


@pytest.mark.parametrize("htmx", [False, True], ids=["no_js", "htmx"])
def test_a_cancelled_subscription_cannot_be_cancelled_again(
    client, login, csrf_token, dbs, org, product, htmx
):
    account, people = org
    subscription = factories.SubscriptionFactory(
        account=account, product=product, status="cancelled"
    )
    login(people["owner"])
    before = snapshot(dbs)
    response = client.post(
        url(account, f"/subscriptions/{subscription.id}/cancel"),
        data={"csrf_token": csrf_token(), "confirmed": "1"},
        headers=HTMX if htmx else {},
    )
    assert response.status_code == 422
    assert "This subscription was already cancelled." in response.get_data(as_text=True)
    assert snapshot(dbs) == before


# ------------------------------------------------------------------------- pages ---
def test_orders_are_paged_by_keyset(app, client, login, dbs, org, product):
    account, people = org
    app.config["BILLING_ORDERS_PAGE_SIZE"] = 3
    try:
        made = [factories.OrderFactory(account=account, product=product) for _ in range(4)]
        made += [factories.OrderFactory(account=account, product=product, status="fulfilled")]
        login(people["owner"])
        html = client.get(url(account)).get_data(as_text=True)
        first = [int(i) for i in re.findall(r'<tr id="order-(\d+)"', html)]
        assert first == [o.id for o in reversed(made[:4])][:3]
        next_url = re.search(r'rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
        assert next_url.startswith(url(account, "/orders?before="))
        piece = client.get(next_url, headers=HTMX).get_data(as_text=True)
        assert piece.lstrip().startswith('<section id="orders"')
        second = [int(i) for i in re.findall(r'<tr id="order-(\d+)"', piece)]
        assert second == [made[0].id, made[4].id]  # the last pending one, then the fulfilled
        assert 'rel="next"' not in piece
    finally:
        app.config.pop("BILLING_ORDERS_PAGE_SIZE")


def test_a_broken_page_link_is_422_with_a_message(client, login, dbs, org):
    account, people = org
    login(people["owner"])
    response = client.get(url(account, "/orders"), query_string={"before": "not-a-cursor"})
    assert response.status_code == 422
    assert "This page link is not valid." in response.get_data(as_text=True)


def test_the_billing_page_issues_a_fixed_number_of_queries(
    client, login, dbs, count_queries, product
):
    account, people = make_org()
    login(people["billing"])
    with count_queries() as few:
        assert client.get(url(account)).status_code == 200
    for i in range(6):
        extra = factories.ProductFactory(name=f"Extra {i}")
        factories.SubscriptionFactory(account=account, product=extra)
        factories.OrderFactory(account=account, product=extra, placed_by_id=people["owner"].id)
        factories.OrderFactory(account=account, product=extra, status="cancelled")
    with count_queries() as many:
        html = client.get(url(account)).get_data(as_text=True)
    assert html.count('<tr id="order-') == 12 and html.count('<tr id="subscription-') == 6
    # the page's frame (session, organization, navigation) plus one statement per section:
    # subscriptions, orders, catalog, usage (one UNION ALL), invoices
    assert len(few) == len(many) <= 9


# --------------------------------------------------------------------- dashboard ---
def test_an_approved_organization_is_told_to_place_an_order(client, login, dbs):
    account, people = make_org(status="approved")
    login(people["owner"])
    html = client.get(f"/accounts/{account.id}/").get_data(as_text=True)
    assert "Next step: place an order" in html
    assert "Acme Ltda becomes active when its payment is confirmed." in html
    assert f'href="/accounts/{account.id}/billing#new-order"' in html
    login(people["member"])
    html = client.get(f"/accounts/{account.id}/").get_data(as_text=True)
    assert "Next step: place an order" in html and "ask one of them" in html
    assert "/billing#new-order" not in html


@pytest.mark.parametrize("status", ["pending", "active", "suspended"])
def test_other_organizations_get_no_next_step(client, login, dbs, status):
    account, people = make_org(status=status)
    login(people["owner"])
    html = client.get(f"/accounts/{account.id}/").get_data(as_text=True)
    assert "Next step: place an order" not in html


def test_products_with_their_prices_reach_the_catalog_in_name_order(client, login, dbs, org):
    account, people = org
    factories.ProductFactory(name="Zeta", price_monthly=Decimal("0.00"))
    factories.ProductFactory(name="Alfa", price_monthly=Decimal("10.50"))
    login(people["owner"])
    html = client.get(url(account)).get_data(as_text=True)
    catalog = html.split('id="new-order"')[1].split("</section>")[0]
    assert catalog.index("Alfa") < catalog.index("Zeta")
    assert (
        '<span class="money">R$10.50</span> a month' in catalog
        and '<span class="money">R$0.00</span> a month' in catalog
    )
    assert dbs.scalar(select(func.count()).select_from(Product).where(Product.active)) >= 2


def test_the_audit_log_links_orders_and_subscriptions_to_the_billing_page(
    client, login, csrf_token, dbs, org, product
):
    account, people = org
    login(people["owner"])
    place(client, csrf_token, account, product.id)
    html = client.get(f"/accounts/{account.id}/audit").get_data(as_text=True)
    [order] = orders_of(dbs, account)
    assert f"Placed the order #{order.id} · Armazenamento 1 TB × 1." in html
    assert f'href="/accounts/{account.id}/billing"' in html


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_the_orders_pager_is_for_buyers_too(client, login, org, role):
    account, people = org
    login(people[role])
    assert client.get(url(account, "/orders")).status_code == 403
