"""Someone reads their notifications in Chromium: marking one read swaps that row and the
badge drops from 3 to 2 without a reload; "mark all as read" brings it to 0. The
notifications page and the audit log pass axe without serious or critical violations."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from portal.extensions import db
from portal.models import Account, AccountMember, AuditLog, Notification, User
from tests import factories
from tests.browser.helpers import log_in, serious_violations, shot
from tests.factories.accounts import make_cnpj


@pytest.fixture
def reader(live_server):
    """A person with 3 unread notifications (and 1 read), owner of an organization with a
    few audit entries; committed for real on the live server's database."""
    app = live_server.app
    email = f"leitora-{uuid.uuid4().hex[:10]}@example.com"
    now = datetime.now(UTC)
    with app.app_context():
        user = User(
            email=email, name="Lia Leitora", password_hash=factories.password_hash(), locale="en"
        )
        db.session.add(user)
        db.session.flush()
        account = Account(name="Leitura Armazenamento Ltda", cnpj=make_cnpj())
        db.session.add(account)
        db.session.flush()
        db.session.add(AccountMember(account_id=account.id, user_id=user.id, role="owner"))
        kinds = [
            (
                "member.joined",
                {"account_name": account.name, "member_name": "Rui", "role": "member"},
            ),
            ("member.left", {"account_name": account.name, "member_name": "Sara"}),
            ("invitation.accepted", {"account_name": account.name, "member_name": "Teo"}),
        ]
        for i, (kind, params) in enumerate(kinds):
            db.session.add(
                Notification(
                    user_id=user.id,
                    account_id=account.id,
                    kind=kind,
                    params=params,
                    link=f"/accounts/{account.id}/members",
                    created_at=now - timedelta(minutes=i),
                )
            )
        db.session.add(
            Notification(
                user_id=user.id,
                kind="member.role_changed",
                params={"account_name": account.name, "role": "admin", "actor_name": "Ana"},
                read=True,
                read_at=now,
                created_at=now - timedelta(days=1),
            )
        )
        for i, action in enumerate(["account.created", "member.joined", "bucket.created"]):
            db.session.add(
                AuditLog(
                    account_id=account.id,
                    actor_id=user.id if i != 2 else None,
                    action=action,
                    target_type="account" if i == 0 else "bucket",
                    target_id=str(account.id) if i == 0 else "fotos",
                    target_label=account.name if i == 0 else "fotos",
                    ip="203.0.113.5",
                    details={"step": i},
                    created_at=now - timedelta(hours=i),
                )
            )
        db.session.commit()
        yield {"email": email, "account_id": account.id}


@pytest.mark.browser
def test_mark_one_then_all_read_updates_the_badge_in_place(
    live_server, reader, page: Page, output_path
):
    log_in(page, live_server.url, reader["email"], factories.PASSWORD)
    page.goto(f"{live_server.url}/notifications")
    badge = page.locator("#notification-badge .badge")
    expect(badge).to_have_text("3")
    rows = page.locator("#notification-list > li.notification")
    expect(rows).to_have_count(4)
    expect(page.locator("#notification-list > li.is-unread")).to_have_count(3)
    assert serious_violations(page) == []
    shot(page, output_path, "notifications-01-three-unread")

    # A marker on window survives only if the page is not reloaded.
    page.evaluate("window.__noReload = 'still here'")
    first = rows.first
    first_id = first.get_attribute("id")
    first.locator("button", has_text="Mark as read").click()

    row = page.locator(f"#{first_id}")
    expect(row).not_to_have_class("notification is-unread")
    expect(row.locator("button")).to_have_count(0)
    expect(badge).to_have_text("2")
    assert page.evaluate("window.__noReload") == "still here"
    shot(page, output_path, "notifications-02-one-read")

    page.locator("button", has_text="Mark all as read").click()
    expect(badge).to_have_text("0")
    expect(page.locator("#notification-list > li.is-unread")).to_have_count(0)
    assert page.evaluate("window.__noReload") == "still here"
    assert serious_violations(page) == []
    shot(page, output_path, "notifications-03-all-read")


@pytest.mark.browser
def test_the_audit_log_filters_in_place_and_is_accessible(
    live_server, reader, page: Page, output_path
):
    log_in(page, live_server.url, reader["email"], factories.PASSWORD)
    page.goto(f"{live_server.url}/accounts/{reader['account_id']}/audit")
    expect(page.locator("#audit-log tbody tr")).to_have_count(3)
    assert serious_violations(page) == []
    shot(page, output_path, "audit-01-log")

    page.evaluate("window.__noReload = 'still here'")
    page.fill("input[name=who]", "System")  # the person filter takes "System" too
    page.click("#audit-log form button[type=submit]")
    expect(page.locator("#audit-log tbody tr")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"/audit\?.*actor=system"))  # bookmarkable
    assert page.evaluate("window.__noReload") == "still here"

    # A bad date: the message next to the field, swapped in place (422).
    page.fill("input[name=from]", "2025-03-10")
    page.fill("input[name=to]", "2025-03-01")
    page.click("#audit-log form button[type=submit]")
    expect(page.locator("#to-error")).to_be_visible()
    assert serious_violations(page) == []
    shot(page, output_path, "audit-02-filter-error")
