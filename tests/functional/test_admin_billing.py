"""/admin/products and /admin/orders: the catalog and the fulfilment queue (platform admins
only). Every route for visitors, customers and admins; prices typed with a comma or a dot;
mark paid, fulfil, cancel (htmx row swaps, redirects without JavaScript, refusals as 422
with nothing written); the admin home's count of orders waiting for payment."""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape

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

HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def admin(login, dbs):
    return login(factories.AdminFactory(name="Staff Person"))


def make_org(status="active", name="Acme Ltda"):
    owner = factories.UserFactory(name="Owner Person")
    billing = factories.UserFactory(name="Billing Person")
    member = factories.UserFactory(name="Member Person")
    account = factories.AccountFactory(name=name, owner=owner, status=status)
    factories.MemberFactory(account=account, user=billing, role="billing")
    factories.MemberFactory(account=account, user=member, role="member")
    return account, {"owner": owner, "billing": billing, "member": member}


def snapshot(dbs):
    dbs.expire_all()

    def count(model):
        return dbs.scalar(select(func.count()).select_from(model))

    return (
        dbs.execute(
            select(
                Product.id,
                Product.sku,
                Product.name,
                Product.description,
                Product.price_monthly,
                Product.active,
            ).order_by(Product.id)
        ).all(),
        dbs.execute(
            select(
                Order.id, Order.status, Order.payment_reference, Order.cancellation_reason
            ).order_by(Order.id)
        ).all(),
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


def ids(html: str, kind: str) -> list[int]:
    return [int(i) for i in re.findall(rf'<tr id="{kind}-(\d+)"', html)]


# --------------------------------------------------------------------------- access ---
def _routes(product, order):
    return [
        ("get", "/admin/products", None),
        ("post", "/admin/products", {"sku": "NEW-1", "name": "Novo", "price": "10,00"}),
        ("get", f"/admin/products/{product.id}", None),
        ("post", f"/admin/products/{product.id}", {"name": "Outro", "price": "1"}),
        ("post", f"/admin/products/{product.id}/delete", {"confirmed": "1"}),
        ("get", "/admin/orders", None),
        ("post", f"/admin/orders/{order.id}/pay", {"reference": "E123"}),
        ("post", f"/admin/orders/{order.id}/fulfil", {}),
        ("post", f"/admin/orders/{order.id}/cancel", {"reason": "x", "confirmed": "1"}),
    ]


ROUTE_IDS = [
    "products",
    "create_product",
    "product",
    "update_product",
    "delete_product",
    "orders",
    "pay",
    "fulfil",
    "cancel",
]


@pytest.mark.parametrize("index", range(len(ROUTE_IDS)), ids=ROUTE_IDS)
@pytest.mark.parametrize("who", ["visitor", "customer", "owner"])
def test_only_platform_admins_reach_the_billing_admin_pages(
    client, login, csrf_token, dbs, index, who
):
    account, people = make_org()
    product = factories.ProductFactory()
    order = factories.OrderFactory(account=account, product=product)
    method, path, data = _routes(product, order)[index]
    if who == "customer":
        login(factories.UserFactory())
    elif who == "owner":
        login(people["owner"])
    before = snapshot(dbs)
    if method == "post":
        response = client.post(path, data={"csrf_token": csrf_token(), **data})
    else:
        response = client.get(path)
    if who == "visitor":
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    else:
        assert response.status_code == 403
    assert snapshot(dbs) == before


@pytest.mark.parametrize(
    "index", [i for i, r in enumerate(ROUTE_IDS) if r not in ("products", "product", "orders")]
)
def test_csrf_is_required(client, admin, dbs, index):
    account, _ = make_org()
    product = factories.ProductFactory()
    order = factories.OrderFactory(account=account, product=product)
    _method, path, data = _routes(product, order)[index]
    before = snapshot(dbs)
    assert client.post(path, data=data).status_code == 400
    assert snapshot(dbs) == before


@pytest.mark.parametrize(
    "path",
    [
        f"/admin/products/{2**62}",
        f"/admin/orders/{2**62}/pay",
        f"/admin/orders/{2**62}/fulfil",
        f"/admin/products/{2**62}/delete",
    ],
)
def test_missing_products_and_orders_are_404(client, admin, csrf_token, dbs, path):
    method = client.get if path.count("/") == 3 else client.post
    kwargs = (
        {} if method == client.get else {"data": {"csrf_token": csrf_token(), "reference": "x"}}
    )
    assert method(path, **kwargs).status_code == 404


# ------------------------------------------------------------------------ products ---
@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("1.234,56", Decimal("1234.56")),
        ("1234.56", Decimal("1234.56")),
        ("1234,56", Decimal("1234.56")),
        ("1,234.56", Decimal("1234.56")),
        ("R$ 1.234,56", Decimal("1234.56")),
        ("49,9", Decimal("49.90")),
        ("1.234", Decimal("1234.00")),
        ("0", Decimal("0.00")),
    ],
)
def test_prices_typed_with_a_comma_or_a_dot_are_stored_exactly(
    client, admin, csrf_token, dbs, typed, stored
):
    response = client.post(
        "/admin/products",
        data={
            "csrf_token": csrf_token(),
            "sku": "storage-1tb",
            "name": "  Armazenamento   1 TB ",
            "description": "S3",
            "price": typed,
            "active": "y",
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == "/admin/products"
    product = dbs.scalars(select(Product).where(Product.sku == "STORAGE-1TB")).one()
    assert (product.name, product.price_monthly, product.active) == (
        "Armazenamento 1 TB",
        stored,
        True,
    )
    log = dbs.scalars(select(AuditLog).where(AuditLog.action == "product.created")).one()
    assert (log.account_id, log.actor_id, log.target_id) == (None, admin.id, str(product.id))
    assert log.details["price_monthly"] == f"{stored:.2f}"


def test_the_catalog_shows_prices_the_brazilian_way_in_portuguese(client, admin, dbs):
    admin.locale = "pt_BR"
    dbs.commit()
    product = factories.ProductFactory(sku="ZZ-PRICE", price_monthly=Decimal("1234.56"))
    html = client.get("/admin/products").get_data(as_text=True)
    row = re.search(rf'<tr id="product-{product.id}">.*?</tr>', html, re.S).group(0)
    assert "R$\xa01.234,56" in row
    edit = client.get(f"/admin/products/{product.id}").get_data(as_text=True)
    assert 'value="1.234,56"' in edit  # the edit form shows it as people type it


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"sku": ""}, "sku", "Enter the SKU."),
        ({"sku": "-BAD"}, "sku", "Use 2 to 40 letters, digits and hyphens for the SKU"),
        ({"sku": "X"}, "sku", "Use 2 to 40 letters, digits and hyphens for the SKU"),
        ({"sku": "SPACE IN"}, "sku", "Use 2 to 40 letters, digits and hyphens for the SKU"),
        ({"sku": "TAKEN-1"}, "sku", "A product with the SKU TAKEN-1 already exists."),
        ({"name": "A"}, "name", "The name must have between 2 and 120 characters."),
        ({"name": "x" * 121}, "name", "The name must have between 2 and 120 characters."),
        ({"description": "d" * 2001}, "description", "Use at most 2000 characters"),
        ({"price": ""}, "price", "Enter the monthly price."),
        ({"price": "abc"}, "price", "Enter a price such as 1.234,56 or 1234.56"),
        ({"price": "-5"}, "price", "Enter a price such as 1.234,56 or 1234.56"),
        ({"price": "1,234"}, "price", "Enter a price such as 1.234,56 or 1234.56"),
        ({"price": "12.345,678"}, "price", "Enter a price such as 1.234,56 or 1234.56"),
        ({"price": "1.23.45"}, "price", "Enter a price such as 1.234,56 or 1234.56"),
        ({"price": "10000000000"}, "price", "The price must be at most R$ 9.999.999.999,99."),
    ],
)
@pytest.mark.parametrize("htmx", [False, True], ids=["no_js", "htmx"])
def test_bad_products_are_refused_next_to_the_field_and_nothing_is_written(
    client, admin, csrf_token, dbs, data, field, message, htmx
):
    factories.ProductFactory(sku="TAKEN-1")
    before = snapshot(dbs)
    values = {"sku": "GOOD-1", "name": "Bom", "price": "10,00", **data}
    response = client.post(
        "/admin/products",
        data={"csrf_token": csrf_token(), **values},
        headers=HTMX if htmx else {},
    )
    assert response.status_code == 422
    html = unescape(response.get_data(as_text=True))
    assert re.search(rf'<p class="error" id="{field}-error">[^<]*' + re.escape(message), html)
    assert ("<html" in html) is not htmx
    assert snapshot(dbs) == before


def test_editing_a_product_changes_what_it_may_and_never_its_sku(client, admin, csrf_token, dbs):
    product = factories.ProductFactory(sku="PLAN-EDIT", name="Plano", price_monthly=Decimal("10"))
    response = client.post(
        f"/admin/products/{product.id}",
        data={
            "csrf_token": csrf_token(),
            "sku": "HACKED",
            "name": "Plano Novo",
            "description": "Nova descrição",
            "price": "1.000,50",
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == "/admin/products"
    dbs.expire_all()
    stored = dbs.get(Product, product.id)
    assert (stored.sku, stored.name, stored.price_monthly, stored.active) == (
        "PLAN-EDIT",
        "Plano Novo",
        Decimal("1000.50"),
        False,  # the box was not ticked: no longer offered
    )
    log = dbs.scalars(select(AuditLog).where(AuditLog.action == "product.updated")).one()
    assert log.details["price_monthly"] == ["10.00", "1000.50"]
    assert log.details["active"] == [True, False]
    assert "sku" not in log.details
    page = client.get("/admin/products").get_data(as_text=True)
    assert "PLAN-EDIT was saved." in page


def test_saving_an_unchanged_product_writes_nothing(client, admin, csrf_token, dbs):
    product = factories.ProductFactory(name="Igual", description="d", price_monthly=Decimal("5"))
    before = snapshot(dbs)
    response = client.post(
        f"/admin/products/{product.id}",
        data={
            "csrf_token": csrf_token(),
            "name": "Igual",
            "description": "d",
            "price": "5,00",
            "active": "y",
        },
    )
    assert response.status_code == 302
    assert snapshot(dbs) == before


def test_a_bad_edit_is_422_on_the_edit_page(client, admin, csrf_token, dbs):
    product = factories.ProductFactory()
    before = snapshot(dbs)
    response = client.post(
        f"/admin/products/{product.id}",
        data={"csrf_token": csrf_token(), "name": "Ok name", "price": "dez reais"},
    )
    assert response.status_code == 422
    html = unescape(response.get_data(as_text=True))
    assert 'id="price-error"' in html and "Enter a price such as" in html
    assert 'value="dez reais"' in html  # what was typed comes back
    assert snapshot(dbs) == before


def test_an_unused_product_can_be_deleted(client, admin, csrf_token, dbs):
    product = factories.ProductFactory(sku="UNUSED-1")
    asked = client.post(
        f"/admin/products/{product.id}/delete", data={"csrf_token": csrf_token()}
    ).get_data(as_text=True)
    assert "Delete UNUSED-1" in asked
    response = client.post(
        f"/admin/products/{product.id}/delete", data={"csrf_token": csrf_token()}, headers=HTMX
    )
    assert response.status_code == 200
    assert "UNUSED-1 was deleted." in response.get_data(as_text=True)
    assert (
        dbs.scalar(select(func.count()).select_from(Product).where(Product.id == product.id)) == 0
    )
    log = dbs.scalars(select(AuditLog).where(AuditLog.action == "product.deleted")).one()
    assert log.target_label.startswith("UNUSED-1 · ")


@pytest.mark.parametrize("what", ["order", "subscription"])
@pytest.mark.parametrize("htmx", [False, True], ids=["no_js", "htmx"])
def test_a_product_in_use_is_never_deleted(client, admin, csrf_token, dbs, what, htmx):
    account, _ = make_org()
    product = factories.ProductFactory(sku="USED-1")
    if what == "order":
        factories.OrderFactory(account=account, product=product, status="cancelled")
    else:
        factories.SubscriptionFactory(account=account, product=product)
    html = client.get("/admin/products").get_data(as_text=True)
    row = re.search(rf'<tr id="product-{product.id}">.*?</tr>', html, re.S).group(0)
    assert "/delete" not in row and "deactivate it instead" in row
    before = snapshot(dbs)
    response = client.post(
        f"/admin/products/{product.id}/delete",
        data={"csrf_token": csrf_token(), "confirmed": "1"},
        headers=HTMX if htmx else {},
    )
    assert response.status_code == 422
    assert "cannot be deleted: deactivate it instead" in response.get_data(as_text=True)
    assert snapshot(dbs) == before


def test_products_are_paged_by_sku(app, client, admin, dbs):
    app.config["ADMIN_PRODUCTS_PAGE_SIZE"] = 2
    try:
        made = [factories.ProductFactory(sku=f"PAGE-{i}") for i in (3, 1, 2)]
        html = client.get("/admin/products").get_data(as_text=True)
        skus = re.findall(r"<code>([A-Z0-9-]+)</code>", html)
        assert skus == sorted(skus) and len(skus) == 2
        pages = [skus]
        while 'rel="next"' in html:
            next_url = unescape(re.search(r'rel="next" href="([^"]+)"', html).group(1))
            html = client.get(next_url, headers=HTMX).get_data(as_text=True)
            assert html.lstrip().startswith('<div id="products">')
            pages.append(re.findall(r"<code>([A-Z0-9-]+)</code>", html))
        seen = [sku for page in pages for sku in page]
        assert seen == sorted(seen) and {p.sku for p in made} <= set(seen)
    finally:
        app.config.pop("ADMIN_PRODUCTS_PAGE_SIZE")


def test_the_products_page_issues_a_fixed_number_of_queries(client, admin, dbs, count_queries):
    with count_queries() as few:
        client.get("/admin/products")
    account, _ = make_org()
    for i in range(8):
        product = factories.ProductFactory(sku=f"COUNT-{i}")
        if i % 2:
            factories.OrderFactory(account=account, product=product)
    with count_queries() as many:
        html = client.get("/admin/products").get_data(as_text=True)
    assert html.count('<tr id="product-') >= 8
    assert len(few) == len(many) <= 6
    with count_queries() as edit:
        client.get(f"/admin/products/{product.id}")
    assert len(edit) <= 6


# -------------------------------------------------------------------------- orders ---
@pytest.fixture
def queue(dbs):
    """Orders of two organizations in every state."""
    acme, acme_people = make_org(name="Acme Ltda")
    beta, _ = make_org(name="Beta Ltda")
    product = factories.ProductFactory(name="Plano Fila")
    made = {}
    for account in (acme, beta):
        for status in ("fulfilled", "pending", "cancelled", "paid"):
            made[(account.name, status)] = factories.OrderFactory(
                account=account,
                product=product,
                status=status,
                placed_by_id=acme_people["owner"].id if account is acme else None,
            )
    return {"acme": acme, "beta": beta, "orders": made, "product": product}


def test_the_queue_shows_pending_first_then_paid_then_the_rest(client, admin, queue):
    html = client.get("/admin/orders").get_data(as_text=True)
    shown = [i for i in ids(html, "order") if i in {o.id for o in queue["orders"].values()}]
    o = queue["orders"]
    assert shown == [
        o[("Beta Ltda", "pending")].id,
        o[("Acme Ltda", "pending")].id,
        o[("Beta Ltda", "paid")].id,
        o[("Acme Ltda", "paid")].id,
        o[("Beta Ltda", "cancelled")].id,
        o[("Beta Ltda", "fulfilled")].id,
        o[("Acme Ltda", "cancelled")].id,
        o[("Acme Ltda", "fulfilled")].id,
    ]
    row = re.search(rf'<tr id="order-{o[("Acme Ltda", "pending")].id}">.*?</tr>', html, re.S)
    row = row.group(0)
    assert "Owner Person" in row and "Acme Ltda" in row and "Plano Fila" in row
    assert "/pay" in row and "/cancel" in row and "/fulfil" not in row
    paid = re.search(rf'<tr id="order-{o[("Acme Ltda", "paid")].id}">.*?</tr>', html, re.S)
    assert "/fulfil" in paid.group(0) and "/pay" not in paid.group(0)


@pytest.mark.parametrize("status", ["pending", "paid", "fulfilled", "cancelled"])
def test_the_queue_filters_by_status(client, admin, queue, status):
    html = client.get("/admin/orders", query_string={"status": status}).get_data(as_text=True)
    expected = {o.id for (_, s), o in queue["orders"].items() if s == status}
    assert set(ids(html, "order")) >= expected
    assert all(f"status-{status}" in r for r in re.findall(r'<tr id="order-.*?</tr>', html, re.S))


@pytest.mark.parametrize("how", ["id", "hash", "cnpj", "formatted_cnpj"])
def test_the_queue_filters_by_organization(client, admin, queue, how):
    beta = queue["beta"]
    cnpj = beta.cnpj
    value = {
        "id": str(beta.id),
        "hash": f"#{beta.id}",
        "cnpj": cnpj,
        "formatted_cnpj": f"{cnpj[:2]}.{cnpj[2:5]}.{cnpj[5:8]}/{cnpj[8:12]}-{cnpj[12:]}",
    }[how]
    html = client.get("/admin/orders", query_string={"account": value}).get_data(as_text=True)
    expected = [o.id for (name, _), o in queue["orders"].items() if name == "Beta Ltda"]
    assert sorted(ids(html, "order")) == sorted(expected)
    both = client.get("/admin/orders", query_string={"account": value, "status": "paid"}).get_data(
        as_text=True
    )
    assert ids(both, "order") == [queue["orders"][("Beta Ltda", "paid")].id]


@pytest.mark.parametrize(
    ("args", "field", "message"),
    [
        ({"status": "lost"}, "status", "Choose one of the statuses in the list."),
        ({"account": "999999999999"}, "account", "No organization has this number or CNPJ."),
        ({"account": "nome"}, "account", "No organization has this number or CNPJ."),
        ({"before": "garbage"}, None, "This page link is not valid."),
    ],
)
def test_bad_filters_are_422_with_a_message(client, admin, queue, args, field, message):
    response = client.get("/admin/orders", query_string=args)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    if field:
        assert f'id="{field}-error"' in html
    assert 'id="order-' not in html


def test_the_queue_is_paged_by_keyset(app, client, admin, queue):
    app.config["ADMIN_ORDERS_PAGE_SIZE"] = 3
    try:
        seen, html = [], client.get("/admin/orders").get_data(as_text=True)
        seen += ids(html, "order")
        while 'rel="next"' in html:
            next_url = unescape(re.search(r'rel="next" href="([^"]+)"', html).group(1))
            html = client.get(next_url, headers=HTMX).get_data(as_text=True)
            assert html.lstrip().startswith('<div id="orders-list">')
            seen += ids(html, "order")
        assert len(seen) == len(set(seen))
        assert {o.id for o in queue["orders"].values()} <= set(seen)
    finally:
        app.config.pop("ADMIN_ORDERS_PAGE_SIZE")


def test_the_orders_page_issues_a_fixed_number_of_queries(client, admin, dbs, count_queries):
    with count_queries() as few:
        client.get("/admin/orders")
    for name in ("Uno Ltda", "Dos Ltda", "Tres Ltda"):
        account, people = make_org(name=name)
        for status in ("pending", "paid", "fulfilled", "cancelled"):
            product = factories.ProductFactory()
            factories.OrderFactory(
                account=account, product=product, status=status, placed_by_id=people["owner"].id
            )
    with count_queries() as many:
        html = client.get("/admin/orders").get_data(as_text=True)
    assert html.count('<tr id="order-') >= 12
    assert len(few) == len(many) <= 5
    account_id = account.id
    with count_queries() as filtered:
        client.get("/admin/orders", query_string={"account": str(account_id)})
    assert len(filtered) == len(many) + 1  # finding the organization


# ----------------------------------------------------------------------- the moves ---
def test_marking_paid_needs_the_payment_reference(client, admin, csrf_token, dbs):
    account, _ = make_org()
    order = factories.OrderFactory(account=account)
    before = snapshot(dbs)
    for reference in ("", "   "):
        response = client.post(
            f"/admin/orders/{order.id}/pay",
            data={"csrf_token": csrf_token(), "reference": reference},
            headers=HTMX,
        )
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert html.lstrip().startswith(f'<tr id="order-{order.id}">')
        assert (
            f'id="reference-{order.id}-error"' in html
            and "Enter the payment&#39;s reference" in html
        )
    response = client.post(
        f"/admin/orders/{order.id}/pay",
        data={"csrf_token": csrf_token(), "reference": "r" * 201},
    )
    assert response.status_code == 422  # without JavaScript: the order's own page
    assert "Use at most 200 characters." in response.get_data(as_text=True)
    assert snapshot(dbs) == before


def test_marking_paid_records_the_reference_and_tells_owners_and_billing(
    client, admin, csrf_token, dbs
):
    account, people = make_org()
    order = factories.OrderFactory(account=account, quantity=2)
    response = client.post(
        f"/admin/orders/{order.id}/pay",
        data={
            "csrf_token": csrf_token(),
            "reference": " E18236120202401011200s0123456789 ",
            "back": "/admin/orders?status=pending",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/orders?status=pending"
    dbs.expire_all()
    stored = dbs.get(Order, order.id)
    assert (stored.status, stored.payment_reference) == ("paid", "E18236120202401011200s0123456789")
    assert stored.paid_at is not None
    log = dbs.scalars(select(AuditLog).where(AuditLog.action == "order.paid")).one()
    assert (log.account_id, log.actor_id) == (account.id, admin.id)
    assert log.details["reference"] == "E18236120202401011200s0123456789"
    told = set(dbs.scalars(select(Notification.user_id).where(Notification.kind == "order.paid")))
    assert told == {people["owner"].id, people["billing"].id}
    emails = dbs.scalars(select(EmailOutbox).where(EmailOutbox.template == "billing_update")).all()
    assert {e.to_address for e in emails} == {people["owner"].email, people["billing"].email}
    assert all("payment confirmed" in e.subject for e in emails)
    assert all("E18236120202401011200s0123456789" in e.body_text for e in emails)


def test_a_back_link_to_another_site_is_ignored(client, admin, csrf_token, dbs):
    account, _ = make_org()
    order = factories.OrderFactory(account=account)
    response = client.post(
        f"/admin/orders/{order.id}/pay",
        data={
            "csrf_token": csrf_token(),
            "reference": "x",
            "back": "https://evil.example/admin/orders",
        },
    )
    assert response.headers["Location"] == "/admin/orders"


def test_fulfilling_the_first_order_activates_an_approved_organization(
    client, admin, csrf_token, dbs
):
    account, people = make_org(status="approved")
    product = factories.ProductFactory(name="Plano Ativo")
    order = factories.OrderFactory(account=account, product=product, quantity=2, status="paid")
    response = client.post(
        f"/admin/orders/{order.id}/fulfil", data={"csrf_token": csrf_token()}, headers=HTMX
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "status-fulfilled" in html and "Acme Ltda subscribes to Plano Ativo." in html
    dbs.expire_all()
    [subscription] = dbs.scalars(select(Subscription).where(Subscription.account_id == account.id))
    assert (subscription.status, subscription.quantity, subscription.product_id) == (
        "active",
        2,
        product.id,
    )
    assert subscription.current_period_end > subscription.started_at
    assert dbs.get(Account, account.id).status == "active"
    actions = dbs.scalars(
        select(AuditLog.action).where(AuditLog.account_id == account.id).order_by(AuditLog.id)
    ).all()
    assert actions[-2:] == ["order.fulfilled", "account.status_changed"]
    kinds = set(
        dbs.execute(
            select(Notification.user_id, Notification.kind).where(
                Notification.account_id == account.id
            )
        ).all()
    )
    assert (people["owner"].id, "account.status_changed") in kinds
    assert (people["billing"].id, "order.fulfilled") in kinds


def test_fulfilling_another_order_of_the_same_product_raises_the_quantity(
    client, admin, csrf_token, dbs
):
    account, _ = make_org()
    product = factories.ProductFactory()
    existing = factories.SubscriptionFactory(account=account, product=product, quantity=3)
    order = factories.OrderFactory(account=account, product=product, quantity=4, status="paid")
    response = client.post(f"/admin/orders/{order.id}/fulfil", data={"csrf_token": csrf_token()})
    assert response.status_code == 302
    dbs.expire_all()
    subscriptions = dbs.scalars(
        select(Subscription).where(Subscription.account_id == account.id)
    ).all()
    assert [(s.id, s.quantity) for s in subscriptions] == [(existing.id, 7)]
    log = dbs.scalars(select(AuditLog).where(AuditLog.action == "order.fulfilled")).one()
    assert log.details["created"] is False
    assert (log.details["quantity_before"], log.details["quantity_after"]) == (3, 7)


@pytest.mark.parametrize(
    ("status", "action", "message"),
    [
        ("pending", "fulfil", "cannot be fulfilled: it is Waiting for payment"),
        ("fulfilled", "fulfil", "cannot be fulfilled: it is Fulfilled"),
        ("cancelled", "fulfil", "cannot be fulfilled: it is Cancelled"),
        ("paid", "pay", "cannot be marked paid: it is Paid"),
        ("fulfilled", "pay", "cannot be marked paid: it is Fulfilled"),
        ("paid", "cancel", "cannot be cancelled: it is Paid"),
        ("cancelled", "cancel", "cannot be cancelled: it is Cancelled"),
    ],
)
@pytest.mark.parametrize("htmx", [False, True], ids=["no_js", "htmx"])
def test_stale_moves_get_a_clear_message_and_nothing_is_written(
    client, admin, csrf_token, dbs, status, action, message, htmx
):
    account, _ = make_org()
    order = factories.OrderFactory(account=account, status=status)
    before = snapshot(dbs)
    response = client.post(
        f"/admin/orders/{order.id}/{action}",
        data={"csrf_token": csrf_token(), "reference": "PIX-1", "reason": "r", "confirmed": "1"},
        headers=HTMX if htmx else {},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f"Order #{order.id} {message}" in html
    assert "Reload the page to see its current state." in html
    assert f'id="order-{order.id}-error"' in html
    assert ("<html" in html) is not htmx
    assert snapshot(dbs) == before


def test_a_suspended_organizations_order_is_not_fulfilled(client, admin, csrf_token, dbs):
    account, _ = make_org()
    order = factories.OrderFactory(account=account, status="paid")
    account.status = "suspended"
    account.suspended_at = order.created_at
    dbs.commit()
    before = snapshot(dbs)
    response = client.post(f"/admin/orders/{order.id}/fulfil", data={"csrf_token": csrf_token()})
    assert response.status_code == 422
    assert "cannot be fulfilled while Acme Ltda is Suspended" in response.get_data(as_text=True)
    assert snapshot(dbs) == before


def test_cancelling_needs_a_reason_and_asks_first(client, admin, csrf_token, dbs):
    account, people = make_org()
    order = factories.OrderFactory(account=account)
    before = snapshot(dbs)
    response = client.post(
        f"/admin/orders/{order.id}/cancel", data={"csrf_token": csrf_token(), "reason": " "}
    )
    assert response.status_code == 422
    assert "Give the reason for the cancellation." in response.get_data(as_text=True)
    assert f'id="reason-{order.id}-error"' in response.get_data(as_text=True)
    asked = client.post(
        f"/admin/orders/{order.id}/cancel",
        data={"csrf_token": csrf_token(), "reason": "Pagamento não identificado"},
    )
    assert asked.status_code == 200
    assert f"Cancel order #{order.id} of Acme Ltda?" in asked.get_data(as_text=True)
    assert snapshot(dbs) == before
    done = client.post(
        f"/admin/orders/{order.id}/cancel",
        data={"csrf_token": csrf_token(), "reason": "Pagamento não identificado", "confirmed": "1"},
    )
    assert done.status_code == 302
    dbs.expire_all()
    stored = dbs.get(Order, order.id)
    assert (stored.status, stored.cancellation_reason) == (
        "cancelled",
        "Pagamento não identificado",
    )
    log = dbs.scalars(select(AuditLog).where(AuditLog.action == "order.cancelled")).one()
    assert (log.details["by"], log.details["reason"]) == ("staff", "Pagamento não identificado")
    told = set(
        dbs.scalars(select(Notification.user_id).where(Notification.kind == "order.cancelled"))
    )
    assert told == {people["owner"].id, people["billing"].id}
    html = client.get("/admin/orders", query_string={"status": "cancelled"}).get_data(as_text=True)
    assert "Reason: Pagamento não identificado" in html


# ------------------------------------------------------------------------ the home ---
def test_the_admin_home_counts_orders_waiting_for_payment(client, admin, dbs, queue):
    html = client.get("/admin/").get_data(as_text=True)
    waiting = dbs.scalar(select(func.count()).select_from(Order).where(Order.status == "pending"))
    assert waiting >= 2
    assert re.search(r'id="stat-orders-pending">(\d+)<', html).group(1) == str(waiting)
    assert 'href="/admin/orders?status=pending"' in html
    assert 'href="/admin/products"' in html


def test_the_platform_log_links_a_product_to_its_page(client, admin, csrf_token, dbs):
    client.post(
        "/admin/products",
        data={"csrf_token": csrf_token(), "sku": "LOGGED-1", "name": "Plano Log", "price": "1"},
    )
    product = dbs.scalars(select(Product).where(Product.sku == "LOGGED-1")).one()
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "Created the product LOGGED-1 · Plano Log." in html
    assert f'href="/admin/products/{product.id}"' in html
