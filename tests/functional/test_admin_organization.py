"""/admin/accounts/<id>: one organization as staff see it (sections: status and moves,
members and roles, quotas and requests, audit log), reached from every staff page that names
an organization; the admin neither becomes a member nor sees customer-only controls."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.admin import sections
from portal.models import Account, AccountMember, AuditLog, Notification, User
from tests import factories

ROLES = ["owner", "admin", "member", "billing", "viewer"]
HTMX = {"HX-Request": "true"}
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def org(dbs):
    account = factories.AccountFactory(name="Acme Ltda")
    people = {}
    for role in ROLES:
        people[role] = factories.UserFactory(name=f"{role.title()} Pessoa")
        factories.MemberFactory(account=account, user=people[role], role=role)
    return account, people


@pytest.fixture
def staff(login, dbs):
    return login(factories.AdminFactory(name="Sofia Staff"))


def page_url(account):
    return f"/admin/accounts/{account.id}"


def snapshot(dbs):
    dbs.expire_all()
    return (
        dbs.execute(
            select(Account.id, Account.status, Account.suspension_reason).order_by(Account.id)
        ).all(),
        dbs.scalar(select(func.count()).select_from(AccountMember)),
        dbs.scalar(select(func.count()).select_from(AuditLog)),
        dbs.scalar(select(func.count()).select_from(Notification)),
    )


# --------------------------------------------------------------------------- access ---
@pytest.mark.parametrize(
    ("method", "suffix"), [("get", ""), ("post", "/status/suspend"), ("post", "/status/approve")]
)
def test_visitors_get_the_login_page(client, csrf_token, org, dbs, method, suffix):
    account, _ = org
    before = snapshot(dbs)
    data = {"csrf_token": csrf_token(), "reason": "x"} if method == "post" else None
    response = getattr(client, method)(page_url(account) + suffix, data=data)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert snapshot(dbs) == before


@pytest.mark.parametrize("role", ROLES)
def test_customers_of_every_role_get_403(client, login, csrf_token, org, dbs, role):
    account, people = org
    login(people[role])
    before = snapshot(dbs)
    response = client.get(page_url(account))
    assert response.status_code == 403
    assert "This area is for PrimeCloud staff." in response.get_data(as_text=True)
    response = client.post(
        page_url(account) + "/status/suspend", data={"csrf_token": csrf_token(), "reason": "x"}
    )
    assert response.status_code == 403
    assert snapshot(dbs) == before


def test_a_missing_organization_is_404(client, staff, csrf_token):
    assert client.get(f"/admin/accounts/{2**62}").status_code == 404
    response = client.post(
        f"/admin/accounts/{2**62}/status/approve", data={"csrf_token": csrf_token()}
    )
    assert response.status_code == 404


# ----------------------------------------------------------------------------- page ---
def test_the_page_shows_every_section(client, staff, org, dbs):
    account, people = org
    factories.QuotaRequestFactory(account=account, requested_value=30)
    factories.AuditLogFactory(account=account, actor=people["owner"], action="account.updated")
    response = client.get(page_url(account))
    assert response.status_code == 200
    html = unescape(response.get_data(as_text=True))
    assert "<h1>Acme Ltda</h1>" in html
    for key in ("status", "members", "buckets", "keys", "billing", "invoices", "quotas", "audit"):
        assert f'<section id="{key}" class="admin-section"' in html
        assert f'<a href="#{key}">' in html
    status = re.search(r'<div id="organization-status".*?</section>', html, re.S).group(0)
    assert "status-active" in status and "<dd>5</dd>" in status  # members
    assert f'action="/admin/accounts/{account.id}/status/suspend"' in status
    members = re.search(r'<section id="members".*?</section>', html, re.S).group(0)
    for person in people.values():
        assert person.email in members
    assert members.index("Owner Pessoa") < members.index("Viewer Pessoa")  # owners first
    quotas = re.search(r'<section id="quotas".*?</section>\s*<section', html, re.S).group(0)
    assert "0 of 10" in quotas and "<strong>30</strong>" in quotas
    assert "/approve" in quotas and f'name="back" value="/admin/accounts/{account.id}"' in quotas
    audit = re.search(r'<section id="audit".*?</section>', html, re.S).group(0)
    assert "Updated the profile of Acme Ltda." in audit
    assert f'href="/admin/audit?account={account.id}"' in audit


def test_buckets_subscriptions_and_orders_are_shown_read_only(client, staff, org, dbs):
    account, people = org
    factories.BucketFactory(account=account, name="fotos-2026", size_bytes=3 * 1024**3)
    product = factories.ProductFactory(name="Armazenamento 1 TB")
    factories.SubscriptionFactory(account=account, product=product, quantity=2)
    factories.OrderFactory(account=account, product=product, placed_by_id=people["owner"].id)
    html = unescape(client.get(page_url(account)).get_data(as_text=True))
    buckets = re.search(r'<section id="buckets".*?</section>', html, re.S).group(0)
    assert "fotos-2026" in buckets and "1 bucket, 3 GB stored." in buckets
    billing = re.search(r'<section id="billing".*?</section>', html, re.S).group(0)
    assert billing.count("Armazenamento 1 TB") == 2  # the subscription and the order
    assert f'href="/admin/orders?account={account.id}"' in billing
    assert "<form" not in buckets and "<form" not in billing  # staff act on /admin pages


def test_staff_do_not_become_members_nor_see_customer_controls(client, staff, org, dbs):
    account, people = org
    before = snapshot(dbs)
    html = client.get(page_url(account)).get_data(as_text=True)
    assert snapshot(dbs) == before
    dbs.expire_all()
    assert dbs.get(User, staff.id).last_account_id is None
    assert not dbs.scalar(
        select(func.count()).select_from(AccountMember).where(AccountMember.user_id == staff.id)
    )
    # No form of the customer's pages: roles, removal, invitations, leaving, asking.
    for customer_action in ("/members/", "/invitations", "/leave", "/quotas/requests"):
        assert f'action="/accounts/{account.id}{customer_action}' not in html
    assert f'href="/accounts/{account.id}' not in html  # customer pages are 404 for staff


def test_moves_from_the_page_without_javascript_redirect_back(client, staff, csrf_token, org, dbs):
    account, people = org
    response = client.post(
        page_url(account) + "/status/suspend",
        data={"csrf_token": csrf_token(), "reason": "Fatura em atraso"},
    )
    assert response.status_code == 302 and response.headers["Location"] == page_url(account)
    dbs.expire_all()
    assert dbs.get(Account, account.id).status == "suspended"
    html = client.get(page_url(account)).get_data(as_text=True)
    assert "Acme Ltda is now Suspended." in html and "Reason: Fatura em atraso" in html
    assert f'action="/admin/accounts/{account.id}/status/reactivate"' in html


def test_moves_with_htmx_swap_the_status_section(client, staff, csrf_token, org, dbs):
    account, _ = org
    before = snapshot(dbs)
    response = client.post(
        page_url(account) + "/status/suspend",
        data={"csrf_token": csrf_token(), "reason": "  "},
        headers=HTMX,
    )
    assert response.status_code == 422
    html = unescape(response.get_data(as_text=True))
    assert html.lstrip().startswith('<div id="organization-status"')
    assert 'id="organization-reason-error">Give the reason for the suspension.' in html
    assert snapshot(dbs) == before
    response = client.post(
        page_url(account) + "/status/suspend",
        data={"csrf_token": csrf_token(), "reason": "Fraude"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "Acme Ltda is now Suspended." in response.get_data(as_text=True)


def test_a_refused_move_without_javascript_is_the_page_with_the_message(
    client, staff, csrf_token, org, dbs
):
    account, _ = org
    before = snapshot(dbs)
    response = client.post(page_url(account) + "/status/approve", data={"csrf_token": csrf_token()})
    assert response.status_code == 422
    html = unescape(response.get_data(as_text=True))
    assert "<h1>Acme Ltda</h1>" in html
    assert "Acme Ltda cannot be approved: it is Active" in html
    assert snapshot(dbs) == before


def test_the_page_issues_a_fixed_number_of_queries(client, staff, dbs, count_queries):
    def measure(size):
        owner = factories.UserFactory()
        account = factories.AccountFactory(owner=owner)
        for _ in range(size):
            factories.MemberFactory(account=account, role="viewer")
            factories.BucketFactory(account=account)
            factories.AuditLogFactory(account=account, actor=owner)
            factories.AccessKeyFactory(account=account)
            factories.OrderFactory(account=account)
        for _ in range(size):
            factories.QuotaRequestFactory(account=account, status="rejected", review_note="n")
        for _ in range(size):
            factories.InvoiceFactory(account=account)
        with count_queries() as queries:
            assert client.get(page_url(account)).status_code == 200
        return len(queries)

    # user, account, status row, members, buckets (usage, first ones), access keys (counts,
    # newest), subscriptions, orders, invoices, quota usage, requests, audit, navigation, badge
    assert measure(1) == measure(12) == 16


def test_every_section_resolves_and_has_its_template():
    keys = [s.key for s in sections.SECTIONS]
    assert len(keys) == len(set(keys))
    for section in sections.SECTIONS:
        assert callable(section.loader)
        assert (TEMPLATES / section.template).is_file()


# -------------------------------------------------------------------- links to here ---
def test_the_organizations_list_and_the_admin_home_link_here(client, staff, org, dbs):
    account, people = org
    factories.AuditLogFactory(
        account=account, actor=people["owner"], created_at=datetime.now(UTC) + timedelta(days=400)
    )
    html = client.get("/admin/accounts", query_string={"q": account.cnpj}).get_data(as_text=True)
    assert f'<a href="/admin/accounts/{account.id}">Acme Ltda</a>' in html
    home = client.get("/admin/").get_data(as_text=True)
    assert f'<a href="/admin/accounts/{account.id}">Acme Ltda</a>' in home


def test_the_admin_audit_log_links_organizations_and_targets_here(client, staff, org, dbs):
    account, people = org
    later = datetime.now(UTC) + timedelta(days=500)
    factories.AuditLogFactory(account=account, actor=people["owner"], created_at=later)
    factories.AuditLogFactory(
        account=account,
        actor=people["owner"],
        action="member.role_changed",
        target_type="member",
        target_id=str(people["viewer"].id),
        target_label=people["viewer"].email,
        created_at=later + timedelta(seconds=1),
    )
    html = client.get("/admin/audit", query_string={"account": account.id}).get_data(as_text=True)
    org_link = f'<a href="/admin/accounts/{account.id}">Acme Ltda</a>'
    # Each row's organization column, and the first row's target (the organization).
    assert html.count(org_link) == 3
    assert f'<a href="/admin/accounts/{account.id}#members">{people["viewer"].email}</a>' in html
    assert f'href="/accounts/{account.id}' not in html  # no customer page (404 for staff)


def test_the_customer_log_still_links_to_customer_pages(client, login, org, dbs):
    account, people = org
    factories.AuditLogFactory(account=account, actor=people["owner"])
    login(people["owner"])
    html = client.get(f"/accounts/{account.id}/audit").get_data(as_text=True)
    assert f'<a href="/accounts/{account.id}/">Acme Ltda</a>' in html
    assert "/admin/accounts" not in html


def test_quota_request_targets_link_to_the_quotas_pages(client, login, staff, org, dbs):
    account, people = org
    request = factories.QuotaRequestFactory(account=account)
    factories.AuditLogFactory(
        account=account,
        actor=people["owner"],
        action="quota.requested",
        target_type="quota_request",
        target_id=str(request.id),
        target_label="#1 buckets 10 → 20",
    )
    html = client.get("/admin/audit", query_string={"account": account.id}).get_data(as_text=True)
    assert f'<a href="/admin/accounts/{account.id}#quotas">#1 buckets 10 → 20</a>' in html
    login(people["owner"])
    html = client.get(f"/accounts/{account.id}/audit").get_data(as_text=True)
    assert f'<a href="/accounts/{account.id}/quotas">#1 buckets 10 → 20</a>' in html
