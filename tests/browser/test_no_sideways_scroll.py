"""No page is wider than the screen (issue 13, item 10): every page that exists, as a
visitor, as an organization's owner and as a platform admin, at 390 px (a phone); the
pages with wide tables also at 1280 px, where their tables must also fit their box.

The data is made to be wide: 120-character names, 254-character emails, IPv6 addresses,
long audit details — what made members, invitations and /admin/accounts 617–716 px wide
and /admin/audit 1,260 px inside a 1,060 px box.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from tests import factories
from tests.browser.helpers import shot

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
WIDE_AT_DESKTOP = ("members", "invitations", "/admin/accounts", "/admin/audit")

# GET pages with parameters other than an account id: how to reach them (or why not).
# Pages whose URL needs more than the organization: the arguments, from the data below.
SPECIAL = {
    "invitations.landing": lambda d: {"token": d["tokens"]["invitations.landing"]},
    "auth.reset_password": lambda d: {"token": d["tokens"]["auth.reset_password"]},
    "buckets.detail": lambda d: {"account_id": d["account"].id, "name": d["bucket"]},
    "buckets.new_rule": lambda d: {"account_id": d["account"].id, "name": d["bucket"]},
    "admin.product": lambda d: {"product_id": d["product"]},
    "buckets.edit_rule": lambda d: {
        "account_id": d["account"].id,
        "name": d["bucket"],
        "rule": d["rule"],
    },
    "billing.invoice": lambda d: {"account_id": d["account"].id, "number": d["invoice"]},
    "keys.edit": lambda d: {"account_id": d["account"].id, "key_id": d["key"]},
}
NOT_PAGES = {
    "buckets.rule_row",  # a fragment (the edit form's Cancel)
    "buckets.export_rules",  # JSON
    "static",
    "main.favicon",
    "main.healthz",
    "main.index",  # a redirect
    "notifications.badge",  # a fragment
    "audit_log.account_csv",
    "audit_log.admin_csv",
    "billing.usage_csv",  # CSV
    "audit_log.account_people",  # a fragment (the person filter's suggestions)
}


def long_text(prefix: str, length: int) -> str:
    text = (prefix + " Albuquerque Cavalcanti de Souza Lima ") * 8
    return text[:length]


def long_email(n: int) -> str:
    domain = f"@{'sub' * 10}.example.com"
    return f"{n}" + "pessoa.muito.comprida." * 20 + "x" * 300 + domain


@pytest.fixture(scope="module")
def wide_data(live_server):
    """An organization made to be wide, its owner and a platform admin (real commits on the
    live server's database)."""
    from portal.extensions import db
    from portal.sessions import services as sessions  # noqa: F401 - the table exists

    app = live_server.app
    with app.app_context():
        session = Session(bind=db.engine, expire_on_commit=False)
        factories.bind(session)
        try:
            tag = datetime.now(UTC).strftime("%H%M%S%f")
            owner = factories.UserFactory(
                email=f"owner.{tag}@example.com", name=long_text("Olga", 120)
            )
            admin = factories.AdminFactory(email=f"admin.{tag}@example.com", name="Ada Admin")
            account = factories.AccountFactory(
                owner=owner, name=long_text("Organização", 120), status="active"
            )
            for n in range(4):
                person = factories.UserFactory(
                    email=(f"m{n}.{tag}." + "x" * 200 + "@example.com")[:254],
                    name=long_text(f"Membro{n}", 120),
                )
                factories.MemberFactory(account=account, user=person, role="viewer")
            for n in range(3):
                factories.InvitationFactory(
                    account=account,
                    email=(f"i{n}.{tag}." + "y" * 230 + "@example.com")[:254],
                    role="billing",
                )
            for n in range(4):
                factories.AuditLogFactory(
                    account=account,
                    actor=owner,
                    action="member.role_changed",
                    target_type="member",
                    target_id=str(owner.id),
                    target_label=(f"alvo{n}." + "z" * 230 + "@example.com")[:254],
                    ip="2001:db8:85a3:1234:5678:8a2e:370:7334",
                    details={"old_role": "viewer", "new_role": "admin", "reason": "w" * 300},
                    created_at=datetime.now(UTC) - timedelta(minutes=n),
                )
            for n in range(3):
                factories.AccountFactory(
                    owner=factories.UserFactory(),
                    name=long_text(f"Outra{n}", 120),
                    status="pending",
                )
            bucket = ("b" + tag + "-" + "x" * 63)[:63]
            rule = "regra-" + "r" * 240
            factories.BucketFactory(
                account=account,
                name=bucket,
                versioning="enabled",
                size_bytes=987_654_321_012,
                object_count=12_345_678,
                lifecycle_rules=[
                    {
                        "id": rule,
                        "status": "Enabled",
                        "filter": {"prefix": "registros/" + "p" * 200},
                        "expiration": {"days": 3650},
                        "noncurrent_version_expiration": {"noncurrent_days": 30},
                    }
                ],
            )
            key = factories.AccessKeyFactory(
                account=account, name=long_text("Chave", 64), last_used_at=datetime.now(UTC)
            )
            product = factories.ProductFactory(
                sku=("P" + tag)[:40].upper(),
                name=long_text("Armazenamento", 120),
                description=long_text("Descrição", 2000),
            )
            factories.OrderFactory(account=account, product=product, quantity=999)
            # An open invoice with a long line (its page shows PIX too).
            invoice = factories.InvoiceFactory(account=account, total=Decimal("1234567.89"))
            factories.InvoiceLineFactory(
                invoice=invoice,
                description=long_text("Armazenamento", 255),
                quantity=Decimal("1"),
                unit_price=Decimal("1234567.89"),
            )
            invoice.status, invoice.issued_at = "open", datetime.now(UTC)
            invoice.due_at = datetime.now(UTC).date() + timedelta(days=10)
            session.commit()
            _reset, reset_token = factories.PasswordResetFactory.with_token(user=owner)
            invitation, invitation_token = factories.InvitationFactory.with_token(
                account=account, email=f"landing.{tag}@example.com", role="member"
            )
        finally:
            factories.bind(None)
            session.close()
    return {
        "owner": owner,
        "admin": admin,
        "account": account,
        "tokens": {"auth.reset_password": reset_token, "invitations.landing": invitation_token},
        "bucket": bucket,
        "rule": rule,
        "product": product.id,
        "invoice": invoice.number,
        "key": key.key_id,
    }


def pages(app, data: dict, admin: bool) -> list[str]:
    """Every GET page of the app (a visitor's, an organization's, the admin's)."""
    urls = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint in NOT_PAGES:
                continue
            args = set(rule.arguments)
            is_admin = rule.rule.startswith("/admin")
            if is_admin != admin and is_admin:
                continue
            if rule.endpoint in SPECIAL:
                urls.append(url_for(rule.endpoint, **SPECIAL[rule.endpoint](data)))
            elif args == {"account_id"}:
                urls.append(url_for(rule.endpoint, account_id=data["account"].id))
            elif not args:
                urls.append(url_for(rule.endpoint))
            else:
                raise AssertionError(
                    f"{rule.rule} ({rule.endpoint}): add it to SPECIAL or NOT_PAGES in this test"
                )
    return sorted(set(urls))


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    expect(page.locator("form[action='/logout']")).to_be_visible()


def too_wide(page: Page) -> dict | None:
    """The page's width against the viewport's, and the widest element, when it is wider."""
    return page.evaluate(
        """() => {
            const doc = document.documentElement;
            if (doc.scrollWidth <= window.innerWidth) return null;
            let widest = null;
            for (const el of document.querySelectorAll('body *')) {
                const r = el.getBoundingClientRect();
                if (r.right > window.innerWidth + 1 && (!widest || r.right > widest.right)) {
                    widest = {tag: el.tagName, cls: el.className, right: Math.round(r.right)};
                }
            }
            // A long unbreakable word overflows as text, not as its element's box.
            const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                if (node.parentElement.closest('.visually-hidden')) continue;  // clipped
                const range = document.createRange();
                range.selectNodeContents(node);
                const r = range.getBoundingClientRect();
                if (r.right > window.innerWidth + 1 && (!widest || r.right > widest.right)) {
                    const parent = node.parentElement;
                    widest = {tag: '#text in ' + parent.tagName, cls: parent.className,
                              text: node.textContent.trim().slice(0, 40),
                              right: Math.round(r.right)};
                }
            }
            return {scrollWidth: doc.scrollWidth, innerWidth: window.innerWidth, widest};
        }"""
    )


def tables_overflowing(page: Page) -> list[dict]:
    return page.evaluate(
        """() => [...document.querySelectorAll('.table-wrap')]
            .filter(w => w.scrollWidth > w.clientWidth + 1)
            .map(w => ({id: w.id, scrollWidth: w.scrollWidth, clientWidth: w.clientWidth}))"""
    )


def check(page: Page, url: str, output_path: str, name: str, tables_fit: bool = False) -> list:
    response = page.goto(url)
    assert response is not None and response.status < 500, url
    problems = []
    width = too_wide(page)
    if width is not None:
        problems.append((url, width))
    if tables_fit:
        overflow = tables_overflowing(page)
        if overflow:
            problems.append((url, overflow))
    shot(page, output_path, re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:120])
    return problems


@pytest.mark.browser
@pytest.mark.parametrize("who", ["visitor", "owner", "admin"])
def test_no_page_is_wider_than_a_phone(live_server, wide_data, new_context, who, output_path):
    context = new_context(viewport=PHONE, extra_http_headers={"Accept-Language": "pt-BR"})
    page = context.new_page()
    base = live_server.url
    if who != "visitor":
        log_in(page, base, wide_data[who].email)
    urls = pages(live_server.app, wide_data, admin=who == "admin")
    if who == "visitor":
        urls = [
            u for u in urls if u.startswith(("/login", "/signup", "/password", "/invitations/"))
        ]
    assert len(urls) >= (4 if who == "visitor" else 10)
    problems = []
    for url in urls:
        problems += check(page, f"{base}{url}", output_path, f"390-{who}-{url}")
    context.close()
    assert problems == []


@pytest.mark.browser
@pytest.mark.parametrize("who", ["owner", "admin"])
def test_wide_tables_fit_a_desktop_too(live_server, wide_data, new_context, who, output_path):
    context = new_context(viewport=DESKTOP)
    page = context.new_page()
    base = live_server.url
    log_in(page, base, wide_data[who].email)
    account_id = wide_data["account"].id
    urls = (
        [f"/accounts/{account_id}/members", f"/accounts/{account_id}/invitations"]
        if who == "owner"
        else ["/admin/accounts", "/admin/audit"]
    )
    problems = []
    for url in urls:
        problems += check(page, f"{base}{url}", output_path, f"1280-{url}", tables_fit=True)
    context.close()
    assert problems == []


@pytest.mark.browser
def test_on_a_phone_a_table_row_reads_as_a_labelled_card(live_server, wide_data, new_context):
    context = new_context(viewport=PHONE, extra_http_headers={"Accept-Language": "en"})
    page = context.new_page()
    log_in(page, live_server.url, wide_data["owner"].email)
    page.goto(f"{live_server.url}/accounts/{wide_data['account'].id}/members")
    cell = page.locator("#members-table tbody tr").first.locator("td").nth(1)
    label = cell.evaluate("td => getComputedStyle(td, '::before').content")
    assert label == '"Email"'
    assert cell.evaluate("td => getComputedStyle(td).display") == "block"
    context.close()
