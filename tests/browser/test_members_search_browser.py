"""The members page at 60 members (two pages, a live search) and the audit log's person
filter (suggestions as you type; the URL keeps the person's id). In Chromium, against the
live server."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from portal.extensions import db
from tests.browser.helpers import log_in, serious_violations, shot

PASSWORD = "uma senha longa e boa"
ENGLISH = {"Accept-Language": "en"}


def make_crowd(live_server) -> tuple[str, int, dict]:
    """An owner, their organization with 59 more members, and one audit row by Rita."""
    from portal.accounts.services import create_account
    from portal.models import AccountMember, AuditLog, User
    from portal.users.services import hash_password
    from tests.factories import make_cnpj

    tag = uuid.uuid4().hex[:8]
    email = f"dona-{tag}@example.com"
    with live_server.app.app_context():
        owner = User(
            email=email, name="Olga Dona", password_hash=hash_password(PASSWORD), locale="en"
        )
        db.session.add(owner)
        db.session.flush()
        account = create_account(owner, "Multidão Ltda", make_cnpj(alphanumeric=True))
        people = {}
        for i in range(1, 60):
            name = "Rita Rastreável" if i == 42 else f"Pessoa {i:02d}"
            person = User(email=f"p{i:02d}-{tag}@example.com", name=name, password_hash="x")
            db.session.add(person)
            db.session.flush()
            db.session.add(AccountMember(account_id=account.id, user_id=person.id, role="viewer"))
            people[name] = person
        rita = people["Rita Rastreável"]
        db.session.add(AuditLog(account_id=account.id, actor_id=rita.id, action="bucket.created"))
        db.session.commit()
        ids = {"account": account.id, "rita": rita.id, "rita_email": rita.email}
        db.session.remove()
    return email, ids["account"], ids


@pytest.mark.browser
def test_members_pages_live_search_and_audit_person_filter(live_server, page: Page, output_path):
    base = live_server.url
    owner_email, account_id, ids = make_crowd(live_server)
    page.set_extra_http_headers(ENGLISH)
    log_in(page, base, owner_email, PASSWORD)

    # Fifty members, then the next page.
    page.goto(f"{base}/accounts/{account_id}/members")
    expect(page.locator("#members-results tbody tr")).to_have_count(50)
    assert serious_violations(page) == []
    shot(page, output_path, "01-members-page-1")
    page.click("#members-results a[rel=next]")
    expect(page.locator("#members-results tbody tr")).to_have_count(10)
    expect(page).to_have_url(re.compile(r"before="))

    # The search answers as one types, keeps the field focused and goes into the URL.
    page.goto(f"{base}/accounts/{account_id}/members")
    search = page.locator("input[name=q]")
    search.press_sequentially("rastre", delay=30)
    expect(page.locator("#members-results tbody tr")).to_have_count(1)
    expect(page.locator("#members-results")).to_contain_text("Rita Rastreável")
    expect(search).to_be_focused()
    expect(page).to_have_url(re.compile(r"q=rastre"))
    shot(page, output_path, "02-members-search")

    # The audit log's person filter: suggestions as you type, then the chosen person's id
    # in the URL and their name in the field.
    page.goto(f"{base}/accounts/{account_id}/audit")
    who = page.locator("input[name=who]")
    who.press_sequentially("rita", delay=30)
    option = page.locator("#who-suggestions option")
    expect(option).to_have_count(1)
    label = option.get_attribute("value")
    assert label == f"Rita Rastreável <{ids['rita_email']}>"
    who.fill(label)
    page.click("#audit-log form[role=search] button[type=submit]")
    expect(page).to_have_url(re.compile(rf"actor={ids['rita']}"))
    expect(page.locator("input[name=who]")).to_have_value(label)
    expect(page.locator("#audit-log tbody tr")).to_have_count(1)
    assert serious_violations(page) == []
    shot(page, output_path, "03-audit-person-filter")
