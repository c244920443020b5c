"""Who may open each page and post each action: one table, each route one line.

- an organization's routes (``ACCOUNT_ROUTES``): a visitor is sent to /login; someone of
  another organization gets 404 (the organization's existence is not revealed); each role
  gets 403, or the page (200) / the action done (302, without JavaScript), as DOMAIN.md's
  role table (tests/roles.py) says for the route's permission; a refusal writes nothing;
- the staff area (``ADMIN_ROUTES``): a visitor logs in, every customer role gets 403 with the
  staff message, a platform admin gets the page or the action done;
- the signed-in person's own pages (``SIGNED_IN_ROUTES``): a visitor logs in, anyone
  signed in gets them.

A new route joins with one line (a test checks that every route of the app is here); the
organization and its objects (``{member}``, ``{invitation}``…) come from ``objects()``.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import pytest
from sqlalchemy import select

from portal.models import AccountMember, AuditLog, EmailOutbox, Invitation, Notification
from portal.permissions import Permission as P
from tests import factories
from tests.conftest import snapshot
from tests.functional.conftest import ROLES
from tests.roles import may

pytestmark = pytest.mark.usefixtures("english")


class Route(NamedTuple):
    method: str
    url: str  # a template: {account}, {member}, {invitation}, {name} (a bucket), {token}…
    permission: P | None = None  # account routes: the permission DOMAIN.md's table names
    status: str | None = None  # admin moves: the status the organization must be in
    signed_in: int | None = None  # signed-in routes: the answer to someone signed in
    data: dict | None = None  # fields of this action besides the shared form()
    query: str = ""  # a GET's query string
    allowed: int | None = None  # the answer when allowed, if not 200 (GET) / 302 (POST)
    use: dict | None = None  # which object fills a placeholder, if not its namesake


RULE = {"rule_id": "tmp", "prefix": "tmp/", "expiration_days": "7", "enabled": "y"}
S3_RULES = (
    '{"Rules": [{"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, '
    '"Expiration": {"Days": 7}}]}'
)
BUCKET = "/accounts/{account}/buckets/{name}"
KEY = "/accounts/{account}/keys/{key}"


ACCOUNT_ROUTES = [
    Route("get", "/accounts/{account}/", P.ACCOUNT_READ),
    Route("get", "/accounts/{account}/members", P.ACCOUNT_READ),
    Route("post", "/accounts/{account}/members/{member}/role", P.MEMBERS_MANAGE),
    Route("post", "/accounts/{account}/members/{member}/remove", P.MEMBERS_MANAGE),
    Route("post", "/accounts/{account}/members/leave", P.ACCOUNT_READ),
    Route("get", "/accounts/{account}/invitations", P.MEMBERS_MANAGE),
    Route("post", "/accounts/{account}/invitations", P.MEMBERS_MANAGE),
    Route("post", "/accounts/{account}/invitations/{invitation}/resend", P.MEMBERS_MANAGE),
    Route("post", "/accounts/{account}/invitations/{invitation}/revoke", P.MEMBERS_MANAGE),
    Route("get", "/accounts/{account}/buckets", P.ACCOUNT_READ),
    Route("post", "/accounts/{account}/buckets", P.BUCKETS_WRITE, data={"name": "nova-pasta"}),
    Route(
        "post",
        "/accounts/{account}/buckets/_check-name",
        P.BUCKETS_WRITE,
        data={"name": "nova-pasta"},
        allowed=200,
    ),
    Route("get", BUCKET, P.ACCOUNT_READ),
    Route("post", BUCKET + "/versioning", P.BUCKETS_WRITE, data={"action": "enable"}),
    Route("post", BUCKET + "/delete", P.BUCKETS_WRITE, data={"confirm_name": "fotos"}),
    Route("get", BUCKET + "/rules/new", P.BUCKETS_WRITE),
    Route("post", BUCKET + "/rules", P.BUCKETS_WRITE, data=RULE),
    Route("get", BUCKET + "/rules/edit", P.BUCKETS_WRITE, query="?rule=logs"),
    # The edit form's Cancel (htmx); without JavaScript it leads back to the bucket's page.
    Route("get", BUCKET + "/rules/row", P.ACCOUNT_READ, query="?rule=logs", allowed=302),
    Route("post", BUCKET + "/rules/update", P.BUCKETS_WRITE, data={**RULE, "rule": "logs"}),
    Route(
        "post",
        BUCKET + "/rules/status",
        P.BUCKETS_WRITE,
        data={"rule": "logs", "status": "Disabled"},
    ),
    Route("post", BUCKET + "/rules/delete", P.BUCKETS_WRITE, data={"rule": "logs"}),
    Route("get", BUCKET + "/lifecycle.json", P.ACCOUNT_READ),
    Route("post", BUCKET + "/lifecycle/import", P.BUCKETS_WRITE, data={"document": S3_RULES}),
    Route("get", "/accounts/{account}/billing", P.BILLING),
    Route("get", "/accounts/{account}/billing/orders", P.BILLING),
    Route(
        "post",
        "/accounts/{account}/billing/orders",
        P.BILLING,
        data={"product": "{product}", "quantity": "2"},
    ),
    Route("post", "/accounts/{account}/billing/orders/{order}/cancel", P.BILLING),
    Route(
        "post",
        "/accounts/{account}/billing/subscriptions/{subscription}/cancel",
        P.SUBSCRIPTIONS_CANCEL,
    ),
    Route("get", "/accounts/{account}/quotas", P.ACCOUNT_READ),
    Route("post", "/accounts/{account}/quotas/requests", P.QUOTAS_REQUEST),
    Route("get", "/accounts/{account}/audit", P.AUDIT_READ),
    Route("get", "/accounts/{account}/audit.csv", P.AUDIT_READ),
    Route("get", "/accounts/{account}/billing/invoices", P.BILLING),
    Route("get", "/accounts/{account}/billing/invoices/{number}", P.BILLING),
    Route("get", "/accounts/{account}/billing/usage", P.BILLING),
    Route("get", "/accounts/{account}/billing/usage.csv", P.BILLING),
    Route("get", "/accounts/{account}/keys", P.ACCOUNT_READ),
    # Creating and rotating answer with the secret, once (200), not a redirect.
    Route("post", "/accounts/{account}/keys", P.KEYS_WRITE, data={"scope": "all"}, allowed=200),
    Route("post", KEY + "/rotate", P.KEYS_WRITE, allowed=200),
    Route("post", KEY + "/deactivate", P.KEYS_WRITE),
    Route("post", KEY + "/reactivate", P.KEYS_WRITE, use={"key": "inactive_key"}),
    Route("post", KEY + "/revoke", P.KEYS_WRITE),
    Route("get", KEY + "/edit", P.KEYS_WRITE),
    Route("post", KEY + "/edit", P.KEYS_WRITE, data={"scope": "all"}),
    Route("get", "/accounts/{account}/audit/people", P.AUDIT_READ),
]

ADMIN_ROUTES = [
    Route("get", "/admin/"),
    Route("get", "/admin/accounts"),
    Route("post", "/admin/accounts/{account}/approve", status="pending"),
    Route("post", "/admin/accounts/{account}/activate", status="approved"),
    Route("post", "/admin/accounts/{account}/suspend", status="active"),
    Route("post", "/admin/accounts/{account}/reactivate", status="suspended"),
    Route("get", "/admin/accounts/{account}"),
    Route("post", "/admin/accounts/{account}/status/approve", status="pending"),
    Route("post", "/admin/accounts/{account}/status/activate", status="approved"),
    Route("post", "/admin/accounts/{account}/status/suspend", status="active"),
    Route("post", "/admin/accounts/{account}/status/reactivate", status="suspended"),
    Route("get", "/admin/products"),
    Route(
        "post",
        "/admin/products",
        data={"sku": "NOVO-PLANO", "name": "Plano novo", "price": "1.234,56", "active": "y"},
    ),
    Route("get", "/admin/products/{product}"),
    Route("post", "/admin/products/{product}", data={"name": "Plano renomeado", "price": "9,90"}),
    Route("post", "/admin/products/{product}/delete"),
    Route("get", "/admin/orders"),
    Route("post", "/admin/orders/{order}/pay", data={"reference": "E2E-PIX-0001"}),
    Route("post", "/admin/orders/{order}/fulfil", use={"order": "paid_order"}),
    Route("post", "/admin/orders/{order}/cancel"),
    Route("get", "/admin/quota-requests"),
    Route("post", "/admin/quota-requests/{request}/approve"),
    Route("post", "/admin/quota-requests/{request}/reject"),
    Route("get", "/admin/audit"),
    Route("get", "/admin/audit.csv"),
    Route("get", "/admin/invoices"),
    Route("post", "/admin/invoices/issue", data={"issue-period": "2026-11"}),
    Route("post", "/admin/invoices/{invoice}/open"),
    Route(
        "post",
        "/admin/invoices/{invoice}/pay",
        data={"reference": "E2E-PIX-0002"},
        use={"invoice": "open_invoice"},
    ),
    Route("post", "/admin/invoices/{invoice}/void"),
]

SIGNED_IN_ROUTES = [
    Route("get", "/accounts/new", signed_in=200),
    Route("post", "/accounts/new", signed_in=302),
    Route("post", "/accounts/new/cnpj", signed_in=200),
    Route("get", "/notifications", signed_in=200),
    Route("get", "/notifications/badge", signed_in=200),
    Route("post", "/notifications/read-all", signed_in=302),
    Route("post", "/notifications/{notification}/read", signed_in=302),
    Route("post", "/invitations/{token}", signed_in=302),
    Route("get", "/sessions", signed_in=200),
    Route("post", "/sessions/{session}/revoke", signed_in=302),
    Route("post", "/sessions/revoke-others", signed_in=302),
    Route("get", "/profile", signed_in=200),
    Route("post", "/profile", signed_in=302),
]

# Routes anyone may open (they have tests of their own).
PUBLIC_ROUTES = {
    ("get", "/"),
    ("get", "/healthz"),
    ("post", "/language"),
    ("get", "/login"),
    ("post", "/login"),
    ("post", "/logout"),
    ("get", "/signup"),
    ("post", "/signup"),
    ("get", "/password/forgot"),
    ("post", "/password/forgot"),
    ("get", "/password/reset/{token}"),
    ("post", "/password/reset/{token}"),
    ("get", "/invitations/{token}"),
    ("get", "/static/{filename}"),
    ("get", "/favicon.ico"),
}

STAFF_ONLY = "This area is for PrimeCloud staff."


def form(csrf_token) -> dict:
    """One form for every action: each reads the fields it needs. ``confirmed``: the
    person already said yes to a destructive action (no confirmation page)."""
    return {
        "csrf_token": csrf_token(),
        "confirmed": "1",
        "role": "billing",
        "email": "nova.pessoa@example.com",
        "name": "Nova Nuvem Ltda",
        "cnpj": "11.222.333/0001-81",
        # A suspension's reason and a quota request's justification (20+ characters).
        "reason": "Fatura em atraso há mais de 30 dias, sem resposta.",
        "resource": "buckets",
        "value": "25",
        "review_note": "Granted for the projects you described.",
        "locale": "en",
        "timezone": "America/Sao_Paulo",
    }


def objects(org) -> dict:
    """The organization and the objects its routes name. A second owner, so the owner may
    leave too; the viewer is the member acted on; the invitation is for a viewer."""
    account, people = org
    factories.MemberFactory(account=account, role="owner")
    invitation = factories.InvitationFactory(account=account, role="viewer")
    product = factories.ProductFactory()
    order = factories.OrderFactory(account=account, product=product)
    subscription = factories.SubscriptionFactory(account=account, product=product)
    factories.BucketFactory(
        account=account,
        name="fotos",
        lifecycle_rules=[
            {
                "id": "logs",
                "status": "Enabled",
                "filter": {"prefix": "logs/"},
                "expiration": {"days": 30},
            }
        ],
    )
    key = factories.AccessKeyFactory(account=account, name="chave")
    inactive_key = factories.AccessKeyFactory(account=account, name="parada", status="inactive")
    return {
        "key": key.key_id,
        "inactive_key": inactive_key.key_id,
        "account": account.id,
        "member": org.members["viewer"],
        "invitation": invitation.id,
        "name": "fotos",
        "product": product.id,
        "order": order.id,
        "subscription": subscription.id,
        "number": factories.InvoiceFactory(account=account, status="open").number,
    }


def writes(dbs) -> tuple:
    """Everything a refused request could have written."""
    return snapshot(
        dbs,
        select(AccountMember.id, AccountMember.role).order_by(AccountMember.id),
        select(Invitation.id, Invitation.token_hash, Invitation.revoked_at).order_by(Invitation.id),
        AuditLog,
        Notification,
        EmailOutbox,
    )


def call(client, route: Route, csrf_token, **ids):
    ids = {**ids, **{name: ids[other] for name, other in (route.use or {}).items()}}
    url = route.url.format(**ids)
    if route.method == "get":
        return client.get(url + route.query)
    # A value "{product}" names one of the objects; others are sent as they are.
    data = {
        k: ids[v[1:-1]] if isinstance(v, str) and re.fullmatch(r"\{\w+\}", v) else v
        for k, v in (route.data or {}).items()
    }
    return client.post(url, data={**form(csrf_token), **data})


def allowed_status(route: Route) -> int:
    return route.allowed or (200 if route.method == "get" else 302)


def goes_to_login(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


# --------------------------------------------------------------- an organization ---
def label(route: Route) -> str:
    return f"{route.method} {route.url}"


@pytest.mark.parametrize("route", ACCOUNT_ROUTES, ids=label)
def test_a_visitor_is_sent_to_log_in(client, csrf_token, dbs, org, route):
    ids = objects(org)
    before = writes(dbs)
    assert goes_to_login(call(client, route, csrf_token, **ids))
    assert writes(dbs) == before


@pytest.mark.parametrize("route", ACCOUNT_ROUTES, ids=label)
def test_another_organizations_member_gets_404(
    client, login, csrf_token, dbs, org, outsider, route
):
    ids = objects(org)
    login(outsider)
    before = writes(dbs)
    assert call(client, route, csrf_token, **ids).status_code == 404
    assert writes(dbs) == before


@pytest.mark.parametrize("route", ACCOUNT_ROUTES, ids=label)
def test_a_missing_organization_is_404(client, login, csrf_token, dbs, org, route):
    ids = {**objects(org), "account": 2**62}
    login(org.people["owner"])
    before = writes(dbs)
    assert call(client, route, csrf_token, **ids).status_code == 404
    assert writes(dbs) == before


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ACCOUNT_ROUTES, ids=label)
def test_each_role_as_domain_md_says(client, login, csrf_token, dbs, org, route, role):
    ids = objects(org)
    login(org.people[role])
    before = writes(dbs)
    response = call(client, route, csrf_token, **ids)
    if may(role, route.permission):
        assert response.status_code == allowed_status(route)
        assert not goes_to_login(response)
    else:
        assert response.status_code == 403
        assert writes(dbs) == before


# ------------------------------------------------------------------- staff area ---
def staff_ids(route: Route) -> dict:
    org = factories.every_role_org(status=route.status or "active")
    request = factories.QuotaRequestFactory(account=org.account)
    product = factories.ProductFactory()  # no order refers to it: it may be deleted
    ordered = factories.ProductFactory()
    order = factories.OrderFactory(account=org.account, product=ordered)
    paid = factories.OrderFactory(account=org.account, product=ordered, status="paid")
    return {
        "org": org,
        "account": org.account.id,
        "request": request.id,
        "product": product.id,
        "order": order.id,
        "paid_order": paid.id,
        "invoice": factories.InvoiceFactory(account=org.account).id,
        "open_invoice": factories.InvoiceFactory(account=org.account, status="open").id,
    }


@pytest.mark.parametrize("route", ADMIN_ROUTES, ids=label)
def test_a_visitor_is_sent_to_log_in_to_the_staff_area(client, csrf_token, dbs, route):
    ids = staff_ids(route)
    before = writes(dbs)
    assert goes_to_login(call(client, route, csrf_token, **ids))
    assert writes(dbs) == before


@pytest.mark.parametrize("role", [*ROLES, "nobody"])
@pytest.mark.parametrize("route", ADMIN_ROUTES, ids=label)
def test_customers_are_told_the_staff_area_is_not_theirs(
    client, login, csrf_token, dbs, route, role
):
    """Every role of the organization concerned, and someone of no organization at all."""
    ids = staff_ids(route)
    login(ids["org"].people[role] if role != "nobody" else factories.UserFactory())
    before = writes(dbs)
    response = call(client, route, csrf_token, **ids)
    assert response.status_code == 403
    assert STAFF_ONLY in response.get_data(as_text=True)
    assert writes(dbs) == before


@pytest.mark.parametrize("route", ADMIN_ROUTES, ids=label)
def test_a_platform_admin_gets_the_staff_area(client, login, csrf_token, dbs, route):
    ids = staff_ids(route)
    login(factories.AdminFactory())
    response = call(client, route, csrf_token, **ids)
    assert response.status_code == allowed_status(route)
    assert not goes_to_login(response)


# --------------------------------------------------------- the signed-in person ---
def own_ids(person) -> dict:
    """The person's own objects: a notification, an invitation sent to them, a session of
    theirs on another device."""
    notification = factories.NotificationFactory(user=person)
    invitation, token = factories.InvitationFactory.with_token(email=person.email.lower())
    other = factories.UserSessionFactory(user=person)
    return {
        "notification": notification.id,
        "token": token,
        "invitation": invitation.id,
        "session": other.id,
    }


@pytest.mark.parametrize("route", SIGNED_IN_ROUTES, ids=label)
def test_a_visitor_logs_in_first(client, csrf_token, dbs, route):
    ids = own_ids(factories.UserFactory())
    before = writes(dbs)
    assert goes_to_login(call(client, route, csrf_token, **ids))
    assert writes(dbs) == before


@pytest.mark.parametrize("route", SIGNED_IN_ROUTES, ids=label)
def test_anyone_signed_in_gets_their_own_pages(client, login, csrf_token, dbs, route):
    person = login(factories.UserFactory())
    response = call(client, route, csrf_token, **own_ids(person))
    assert response.status_code == route.signed_in
    assert not goes_to_login(response)


# --------------------------------------------------------------- completeness ---
def _template(rule: str) -> str:
    """A Flask rule as this table writes it: <int:account_id> → {account}."""
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+?)(?:_id)?>", r"{\1}", rule)


def app_routes(app) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/_test"):  # routes a test module adds to the app
            continue
        text = rule.rule
        choices = re.search(r"<any\(([^)]*)\):\w+>", text)
        variants = (
            [text.replace(choices.group(0), c.strip()) for c in choices.group(1).split(",")]
            if choices
            else [text]
        )
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            for variant in variants:
                found.add((method.lower(), _template(variant)))
    return found


def test_every_route_of_the_app_is_in_a_table(app):
    listed = {(r.method, r.url) for r in ACCOUNT_ROUTES + ADMIN_ROUTES + SIGNED_IN_ROUTES}
    assert app_routes(app) - listed - PUBLIC_ROUTES == set()
    assert listed - app_routes(app) == set()
    assert all(r.url.startswith("/accounts/{account}") for r in ACCOUNT_ROUTES)
    assert all(r.url.startswith("/admin/") for r in ADMIN_ROUTES)
