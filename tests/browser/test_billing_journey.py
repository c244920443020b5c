"""From approved to active through the portal alone, in Chromium against the live server:
staff create a product (its price typed the Brazilian way), a customer of an approved
organization orders it, staff mark the order paid and fulfil it, and the customer sees the
subscription, an unread notification and a dashboard that says the organization is
active. Each page passes axe without serious or critical violations; the billing page
fits a 390 px wide phone without sideways scrolling."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from portal.extensions import db
from tests.browser.helpers import serious_violations, shot

PASSWORD = "uma senha longa e boa"


@pytest.fixture
def people(live_server):
    """A platform admin, and the owner of an approved organization (committed for real)."""
    from portal import states
    from portal.accounts.services import create_account, set_status
    from portal.models import User
    from portal.users.services import hash_password
    from tests.factories import make_cnpj

    tag = uuid.uuid4().hex[:8]
    with live_server.app.app_context():
        staff = User(
            email=f"equipe-{tag}@example.com",
            name="Estela Equipe",
            password_hash=hash_password(PASSWORD),
            locale="en",
            is_platform_admin=True,
        )
        owner = User(
            email=f"cliente-{tag}@example.com",
            name="Clara Cliente",
            password_hash=hash_password(PASSWORD),
            locale="en",
        )
        db.session.add_all([staff, owner])
        db.session.flush()
        account = create_account(owner, f"Compra Jornada {tag} Ltda", make_cnpj())
        for step in states.ACCOUNT.reach("approved"):
            set_status(account, step)
        db.session.commit()
        result = {
            "staff": staff.email,
            "owner": owner.email,
            "account_id": account.id,
            "account_name": account.name,
            "sku": f"JORNADA-{tag.upper()}",
        }
        db.session.remove()
    return result


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action^='/login'] button[type=submit]")
    expect(page.locator("form[action='/logout']")).to_be_visible()


def check(page: Page, output_path: str, name: str) -> None:
    assert serious_violations(page) == [], name
    shot(page, output_path, name)


@pytest.mark.browser
def test_an_approved_organization_buys_and_goes_live(
    live_server, people, new_context, page: Page, output_path
):
    base = live_server.url
    account = f"{base}/accounts/{people['account_id']}"

    # --- staff add a product to the catalog, price typed as 1.234,56 -------------------
    staff_context = new_context(extra_http_headers={"Accept-Language": "en"})
    staff = staff_context.new_page()
    try:
        log_in(staff, base, people["staff"])
        staff.goto(f"{base}/admin/products")
        staff.fill("#sku", people["sku"].lower())
        staff.fill("#name", "Armazenamento Jornada 1 TB")
        staff.fill("#description", "Armazenamento de objetos compatível com S3")
        staff.fill("#price", "1.234,56")
        staff.click("#products form[action='/admin/products'] button[type=submit]")
        row = staff.locator("#products tr", has_text=people["sku"])
        expect(row).to_contain_text("R$1,234.56")
        expect(staff.locator("#products [role=status]")).to_contain_text("was added to the catalog")
        check(staff, output_path, "billing-01-staff-catalog")

        # --- the customer sees the next step, then orders 2 units ---------------------
        log_in(page, base, people["owner"])
        page.goto(f"{account}/")
        expect(page.locator("#next-step-heading")).to_have_text("Next step: place an order")
        check(page, output_path, "billing-02-dashboard-approved")
        page.click("a:has-text('Go to billing')")
        expect(page).to_have_url(re.compile(r"/billing#new-order$"))
        page.check("label:has-text('Armazenamento Jornada 1 TB')")
        page.fill("#quantity", "2")
        page.click("#new-order button[type=submit]")
        expect(page.locator("#new-order [role=status]")).to_contain_text(
            "placed: 2 × Armazenamento"
        )
        order_row = page.locator("#orders tbody tr").first
        expect(order_row).to_contain_text("Waiting for payment")
        expect(order_row).to_contain_text("Clara Cliente")
        expect(order_row).to_contain_text("R$2,469.12")
        order_id = order_row.get_attribute("id").removeprefix("order-")
        check(page, output_path, "billing-03-customer-ordered")

        # --- staff mark it paid (with the PIX id), then fulfil it -----------------------
        staff.goto(f"{base}/admin/")
        expect(staff.locator("#stat-orders-pending")).not_to_have_text("0")
        staff.click("a:has-text('Review the orders')")
        expect(staff).to_have_url(re.compile(r"/admin/orders\?status=pending"))
        staff_row = staff.locator(f"#order-{order_id}")
        staff.evaluate("window.__noReload = 'still here'")
        staff_row.locator("input[name=reference]").fill("E18236120202611261200s0123456789")
        staff_row.locator("button:has-text('Mark paid')").click()
        expect(staff_row).to_contain_text("Paid on")
        expect(staff_row).to_contain_text("E18236120202611261200s0123456789")
        check(staff, output_path, "billing-04-staff-paid")
        staff_row.locator("button:has-text('Fulfil')").click()
        expect(staff_row.locator(".status")).to_have_text("Fulfilled")
        expect(staff_row).to_contain_text("subscribes to Armazenamento Jornada 1 TB")
        assert staff.evaluate("window.__noReload") == "still here"  # rows swapped in place
        check(staff, output_path, "billing-05-staff-fulfilled")
    finally:
        staff_context.close()

    # --- the customer: subscription, unread notification, active organization ----------
    page.goto(f"{account}/billing")
    subscription = page.locator("#subscriptions tbody tr").first
    expect(subscription).to_contain_text("Armazenamento Jornada 1 TB")
    expect(subscription).to_contain_text("R$2,469.12")
    expect(subscription.locator(".status")).to_have_text("Active")
    expect(page.locator(f"#order-{order_id} .status")).to_have_text("Fulfilled")
    check(page, output_path, "billing-06-customer-subscription")

    badge = page.locator("#notification-badge .badge")
    expect(badge).not_to_have_text("0")
    page.goto(f"{base}/notifications")
    unread = page.locator("#notification-list > li.is-unread")
    expect(unread.filter(has_text=f"Order #{order_id} is fulfilled")).to_have_count(1)
    expect(unread.filter(has_text="is now: Active")).to_have_count(1)
    check(page, output_path, "billing-07-notification")

    page.goto(f"{account}/")
    expect(page.locator("#status-heading")).to_contain_text("Active")
    expect(page.locator("#dashboard")).to_contain_text("Your organization is active")
    expect(page.locator("#next-step-heading")).to_have_count(0)
    check(page, output_path, "billing-08-dashboard-active")

    # --- the billing page on a phone: no sideways scrolling of the page ----------------
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{account}/billing")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    check(page, output_path, "billing-09-phone")
