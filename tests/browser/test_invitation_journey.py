"""An owner invites someone by email; the person follows the link, signs up, joins; the
owner makes them Billing; they leave. In Chromium, against the live server."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from portal.extensions import db
from tests.browser.helpers import log_in, serious_violations, shot

PASSWORD = "uma senha longa e boa"
ENGLISH = {"Accept-Language": "en"}


def make_owner(live_server) -> tuple[str, int]:
    """An owner and their organization, written through the live server's app."""
    from portal.accounts.services import create_account
    from portal.models import User
    from portal.users.services import hash_password
    from tests.factories import make_cnpj

    email = f"dona-{uuid.uuid4().hex[:10]}@example.com"
    with live_server.app.app_context():
        owner = User(
            email=email, name="Olga Dona", password_hash=hash_password(PASSWORD), locale="en"
        )
        db.session.add(owner)
        db.session.flush()
        account = create_account(owner, "Nuvem Jornada Ltda", make_cnpj(alphanumeric=True))
        db.session.commit()
        account_id = account.id
        db.session.remove()
    return email, account_id


def membership_role(live_server, account_id: int, email: str) -> str | None:
    from sqlalchemy import func, select

    from portal.models import AccountMember, User

    with live_server.app.app_context():
        role = db.session.scalar(
            select(AccountMember.role)
            .join(User, User.id == AccountMember.user_id)
            .where(AccountMember.account_id == account_id, func.lower(User.email) == email)
        )
        db.session.remove()
    return role


@pytest.mark.browser
def test_invite_join_change_role_leave(live_server, page: Page, new_context, mailbox, output_path):
    base = live_server.url
    owner_email, account_id = make_owner(live_server)
    invitee = f"convidada-{uuid.uuid4().hex[:10]}@example.com"
    page.set_extra_http_headers(ENGLISH)

    # The owner invites someone.
    log_in(page, base, owner_email, PASSWORD)
    page.goto(f"{base}/accounts/{account_id}/")
    expect(page.locator("h1")).to_have_text("Nuvem Jornada Ltda")
    shot(page, output_path, "01-dashboard")
    page.goto(f"{base}/accounts/{account_id}/invitations")
    assert serious_violations(page) == []
    page.fill("input[name=email]", invitee)
    page.select_option("select[name=role]", "member")
    page.click("#invitations form button[type=submit]")
    expect(page.locator("#invitations .flash-success")).to_contain_text(invitee)
    expect(page.locator("#invitations tbody tr")).to_contain_text(invitee)
    assert serious_violations(page) == []
    shot(page, output_path, "02-invitation-sent")

    # The email arrives with the link.
    (message,) = mailbox.wait_for(1)
    assert message["To"] == invitee
    body = message.get_body(("plain",)).get_content()
    link = re.search(r"http://\S+/invitations/[A-Za-z0-9_-]+", body).group(0)
    assert link.startswith(base)

    # A new person (another browser context) follows it, signs up and joins.
    context = new_context(locale="en-US", extra_http_headers=ENGLISH)
    guest = context.new_page()
    try:
        guest.goto(link)
        expect(guest.locator("h1")).to_contain_text("Nuvem Jornada Ltda")
        assert serious_violations(guest) == []
        shot(guest, output_path, "03-invitation-landing")
        guest.click(".invitation-landing a[href^='/signup']")
        expect(guest.locator("input[name=email]")).to_have_value(invitee)
        expect(guest.locator("input[name=email]")).to_have_attribute("readonly", "")
        guest.fill("input[name=name]", "Clara Convidada")
        guest.fill("input[name=password]", PASSWORD)
        shot(guest, output_path, "04-signup-invited")
        guest.click("form[action='/signup'] button[type=submit]")
        # Back on the invitation page, logged in: one click on Join.
        expect(guest).to_have_url(link.replace("http://localhost", base))
        join = guest.locator("form[action^='/invitations/'] button[type=submit]")
        expect(join).to_contain_text("Join")
        shot(guest, output_path, "05-invitation-join")
        join.click()
        expect(guest).to_have_url(f"{base}/accounts/{account_id}/")
        expect(guest.locator(".flash-success")).to_contain_text("You joined Nuvem Jornada Ltda")
        shot(guest, output_path, "06-joined")
        assert membership_role(live_server, account_id, invitee) == "member"

        # The owner makes the new member Billing (htmx swaps the row).
        page.goto(f"{base}/accounts/{account_id}/members")
        assert serious_violations(page) == []
        row = page.locator("tr", has_text=invitee)
        row.locator("select[name=role]").select_option("billing")
        row.locator("button", has_text="Change role").click()
        expect(page.locator("tr", has_text=invitee)).to_contain_text("is now Billing")
        shot(page, output_path, "07-role-changed")
        assert membership_role(live_server, account_id, invitee) == "billing"

        # The member leaves.
        guest.goto(f"{base}/accounts/{account_id}/members")
        assert serious_violations(guest) == []
        shot(guest, output_path, "08-members-as-billing")
        guest.on("dialog", lambda dialog: dialog.accept())
        guest.click("#leave button[type=submit]")
        expect(guest).to_have_url(f"{base}/accounts/new")
        expect(guest.locator(".flash-success")).to_contain_text("You left Nuvem Jornada Ltda")
        shot(guest, output_path, "09-left")
        assert membership_role(live_server, account_id, invitee) is None
    finally:
        context.close()
