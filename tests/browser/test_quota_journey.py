"""A customer at the bucket limit asks for more; a platform admin approves a lower value with
a note; the customer sees the new limit, the note and an unread notification — in
Chromium, against the live server, each page checked with axe and photographed, and usable
at 390 px without sideways scrolling. (The buckets page is another domain's: the data is
set up directly, and the customer starts from the dashboard's meter.)"""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from portal.extensions import db
from tests.browser.helpers import serious_violations, shot

PASSWORD = "uma senha longa e boa"
ENGLISH = {"Accept-Language": "en"}
REASON = "Three new customers move their photo archives to us this month."
NOTE = "Five for now; ask again when they are live."


def setup(live_server) -> dict:
    """An owner of an active organization that uses 2 of its 2 buckets, and a platform
    admin; written through the live server's app (real commits)."""
    from portal.models import Account, AccountMember, Bucket, User
    from portal.users.services import hash_password
    from tests.factories import make_cnpj

    tag = uuid.uuid4().hex[:10]
    with live_server.app.app_context():
        password = hash_password(PASSWORD)
        owner = User(
            email=f"dona-{tag}@example.com", name="Olga Dona", password_hash=password, locale="en"
        )
        staff = User(
            email=f"staff-{tag}@primecloud.com.br",
            name="Sofia Staff",
            password_hash=password,
            locale="en",
            is_platform_admin=True,
        )
        db.session.add_all([owner, staff])
        db.session.flush()
        account = Account(name=f"Fotos Cheias {tag} Ltda", cnpj=make_cnpj(), quota_buckets=2)
        db.session.add(account)
        db.session.flush()
        db.session.add(AccountMember(account_id=account.id, user_id=owner.id, role="owner"))
        for status in ("approved", "active"):
            account.status = status
            db.session.flush()
        db.session.add_all(
            [Bucket(account_id=account.id, name=f"fotos-{i}-{tag}") for i in range(2)]
        )
        db.session.commit()
        ids = {
            "owner": owner.email,
            "staff": staff.email,
            "account": account.id,
            "name": account.name,
        }
        db.session.remove()
    return ids


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action^='/login'] button[type=submit]")
    expect(page.locator("form[action='/logout']")).to_be_visible()


def fits_390(page: Page) -> None:
    """The page scrolls only vertically at a phone's width (wide tables scroll inside)."""
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.mark.browser
def test_ask_for_more_buckets_and_get_a_lower_value_approved(
    live_server, page: Page, new_context, output_path
):
    base = live_server.url
    ids = setup(live_server)
    quotas_url = f"{base}/accounts/{ids['account']}/quotas"
    page.set_extra_http_headers(ENGLISH)

    # The customer sees the limit reached on the dashboard and follows the link.
    log_in(page, base, ids["owner"])
    page.goto(f"{base}/accounts/{ids['account']}/")
    meter = page.locator("#dash-buckets")
    expect(meter).to_contain_text("2 of 2")
    expect(meter).to_contain_text("Limit reached.")
    assert serious_violations(page) == []
    shot(page, output_path, "quota-01-dashboard-at-limit")
    page.click("#dash-buckets-more")
    expect(page).to_have_url(f"{quotas_url}#ask")
    expect(page.locator("#quota-buckets")).to_contain_text("2 of 2")
    assert serious_violations(page) == []
    fits_390(page)
    shot(page, output_path, "quota-02-quotas-page")

    # Asks for 10 buckets: htmx swaps the form and the history in place.
    page.evaluate("window.__noReload = 'still here'")
    page.select_option("select[name=resource]", "buckets")
    page.fill("input[name=value]", "10")
    page.fill("textarea[name=reason]", REASON)
    page.click("#ask button[type=submit]")
    expect(page.locator("#ask .flash-success")).to_contain_text(
        "Your request for 10 buckets was sent."
    )
    row = page.locator("#quota-history tbody tr").first
    expect(row).to_contain_text("Pending")
    expect(row).to_contain_text("10")
    assert page.evaluate("window.__noReload") == "still here"
    assert serious_violations(page) == []
    shot(page, output_path, "quota-03-request-sent")

    # A platform admin (another browser) opens the queue from the admin home's card.
    context = new_context(locale="en-US", extra_http_headers=ENGLISH)
    admin = context.new_page()
    try:
        log_in(admin, base, ids["staff"])
        admin.goto(f"{base}/admin/")
        admin.click("#stat-quota-pending")
        expect(admin).to_have_url(f"{base}/admin/quota-requests?status=pending")
        card = admin.locator("article.review", has_text=ids["name"])
        expect(card).to_contain_text(REASON)
        expect(card).to_contain_text("2 of 2")  # the usage now
        expect(card.locator("input[name=granted_value]")).to_have_value("10")
        assert serious_violations(admin) == []
        fits_390(admin)
        shot(admin, output_path, "quota-04-admin-queue")

        # Approves 5 (lower than asked) with a note: the card is swapped in place.
        card.locator("input[name=granted_value]").fill("5")
        card.locator("textarea[name=review_note]").first.fill(NOTE)
        card.locator("button", has_text="Approve").click()
        decided = admin.locator("article.review", has_text=ids["name"])
        expect(decided).to_contain_text("may now use 5 buckets")
        expect(decided.locator(".review-header .status")).to_contain_text("Approved")
        expect(decided.locator("form")).to_have_count(0)
        assert serious_violations(admin) == []
        shot(admin, output_path, "quota-05-admin-approved")

        # The admin's view of the organization shows the decision too.
        decided.locator("h2 a").click()
        expect(admin.locator("#quotas")).to_contain_text(NOTE)
        expect(admin.locator("#admin-quota-buckets")).to_contain_text("2 of 5")
        assert serious_violations(admin) == []
        fits_390(admin)
        shot(admin, output_path, "quota-06-admin-organization")
    finally:
        context.close()

    # The customer sees the new limit, the note and an unread notification.
    page.goto(quotas_url)
    expect(page.locator("#quota-buckets")).to_contain_text("2 of 5")
    row = page.locator("#quota-history tbody tr").first
    expect(row).to_contain_text("Approved")
    expect(row).to_contain_text(NOTE)
    expect(page.locator("#notification-badge .badge")).to_have_text("1")
    assert serious_violations(page) == []
    shot(page, output_path, "quota-07-customer-new-limit")
    page.goto(f"{base}/notifications")
    expect(page.locator("#notification-list > li.is-unread")).to_contain_text(
        "PrimeCloud approved the request for more buckets"
    )
    expect(page.locator("#notification-list > li.is-unread")).to_contain_text("the limit is now 5.")
    assert serious_violations(page) == []
    shot(page, output_path, "quota-08-notification")
