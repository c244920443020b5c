"""The storage console in Chromium: create a bucket with the name checked as it is typed,
enable versioning, add a rule from a preset, edit it, disable it, export the rules and
import them back, try to delete a bucket that holds objects (refused) and delete an empty
one by typing its name — axe-clean, with screenshots, and usable 390 px wide."""

from __future__ import annotations

import json
import uuid

import pytest
from playwright.sync_api import Page, expect

from portal.buckets.rules import dom_id_of
from portal.extensions import db
from tests.browser.helpers import serious_violations, shot

PASSWORD = "uma senha longa e boa"
ENGLISH = {"Accept-Language": "en"}
PHONE = {"width": 390, "height": 844}


def make_active_owner(live_server) -> tuple[str, int]:
    """An owner, an active organization and a bucket that holds objects."""
    from portal.accounts.services import create_account, set_status
    from portal.models import Bucket, User
    from portal.users.services import hash_password
    from tests.factories import make_cnpj

    email = f"dona-{uuid.uuid4().hex[:10]}@example.com"
    with live_server.app.app_context():
        owner = User(
            email=email, name="Olga Dona", password_hash=hash_password(PASSWORD), locale="en"
        )
        db.session.add(owner)
        db.session.flush()
        account = create_account(owner, "Nuvem Buckets Ltda", make_cnpj(alphanumeric=True))
        for status in ("approved", "active"):
            set_status(account, status)
            db.session.flush()
        db.session.add(
            Bucket(
                account_id=account.id,
                name="arquivo-cheio",
                object_count=5,
                size_bytes=3 * 1024**2,
                created_by_id=owner.id,
            )
        )
        db.session.commit()
        account_id = account.id
        db.session.remove()
    return email, account_id


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action^='/login'] button[type=submit]")
    expect(page.locator("form[action='/logout']")).to_be_visible()


def fits(page: Page, width: int = PHONE["width"]) -> None:
    """No sideways scrolling of the page at ``width``."""
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the page is {scroll}px wide at {width}px"


@pytest.mark.browser
def test_bucket_journey(live_server, page: Page, output_path, tmp_path):
    base = live_server.url
    email, account_id = make_active_owner(live_server)
    buckets = f"{base}/accounts/{account_id}/buckets"
    page.set_extra_http_headers(ENGLISH)
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, base, email)

    # The list, with the quota meters and the create form.
    page.goto(buckets)
    expect(page.locator("#buckets-quota")).to_contain_text("1 of 10")
    expect(page.locator("#buckets-list")).to_contain_text("arquivo-cheio")
    assert serious_violations(page) == []
    shot(page, output_path, "01-buckets")

    # Live validation as the person types: a reason per broken rule.
    name = page.locator("#name")
    name.press_sequentially("-Meu_Bucket..", delay=20)
    feedback = page.locator("#bucket-name-feedback")
    expect(feedback.locator("li.error")).to_have_count(5)
    expect(feedback).to_contain_text("Use lower-case letters only.")
    assert serious_violations(page) == []
    shot(page, output_path, "02-live-validation")
    name.fill("")
    name.press_sequentially("arquivo-cheio", delay=20)
    expect(feedback).to_contain_text("already used by a bucket of this organization")
    name.fill("")
    name.press_sequentially("fotos-2026", delay=20)
    expect(feedback.locator(".valid")).to_contain_text("fotos-2026 is a valid name")
    shot(page, output_path, "03-name-valid")
    page.click("#create-bucket button[type=submit]")
    expect(page).to_have_url(f"{buckets}/fotos-2026")
    expect(page.locator(".flash-success")).to_contain_text("The bucket fotos-2026 was created.")
    expect(page.locator("#cli-line")).to_have_value(
        "aws s3 ls s3://fotos-2026 --endpoint-url https://s3.sa-east-sp1.primecloud.com.br "
        "--region sa-east-sp1"
    )
    assert serious_violations(page) == []
    shot(page, output_path, "04-bucket")

    # Versioning, enabled in place.
    page.click("#versioning button:has-text('Enable versioning')")
    expect(page.locator("#versioning")).to_contain_text("Versioning of fotos-2026: Enabled.")
    expect(page.locator("#versioning button")).to_have_text("Suspend versioning")
    expect(page.locator("#overview-versioning")).to_have_text("Enabled")
    shot(page, output_path, "05-versioning-enabled")

    # A rule from a preset; the abort-uploads rule offered at creation is already there.
    page.click("#rule-add a:has-text('Keep only the last version')")
    expect(page.locator("#add-rule_id")).to_have_value("keep-only-the-last-version")
    expect(page.locator("#add-noncurrent_days")).to_have_value("1")
    page.click("#rule-add button[type=submit]")
    row = page.locator(f"#{dom_id_of('keep-only-the-last-version')}")
    expect(row).to_contain_text("Delete noncurrent versions 1 day after they become noncurrent")
    # The rule offered at creation overlaps it (both cover the whole bucket): its row says so.
    expect(page.locator(f"#{dom_id_of('abort-incomplete-multipart-uploads')}")).to_contain_text(
        "overlaps the rule “keep-only-the-last-version”"
    )
    expect(page.locator("#rule-add .flash-success")).to_contain_text("was added")
    expect(page.locator("#add-rule_id")).to_have_value("")
    assert serious_violations(page) == []
    shot(page, output_path, "06-rule-from-preset")

    # Edit it in place: 3 days instead of 1.
    row.locator("a:has-text('Edit')").click()
    editing = page.locator("#rules-body tr.rule-editing")
    expect(editing).to_be_visible()
    editing.locator("input[name=noncurrent_days]").fill("0")
    editing.locator("button:has-text('Save rule')").click()
    expect(editing.locator(".error")).to_contain_text("Enter a whole number of days, at least 1.")
    shot(page, output_path, "07-edit-refused")
    editing.locator("input[name=noncurrent_days]").fill("3")
    editing.locator("button:has-text('Save rule')").click()
    expect(row).to_contain_text("Delete noncurrent versions 3 days after they become noncurrent")
    expect(row).to_contain_text("was saved")
    shot(page, output_path, "08-rule-edited")

    # Disable it: kept, doing nothing.
    row.locator("button:has-text('Disable')").click()
    expect(row.locator(".status")).to_have_text("Disabled")
    expect(row).to_contain_text("is disabled: it is kept")
    assert serious_violations(page) == []
    shot(page, output_path, "09-rule-disabled")

    # Export the rules, delete one, import the file back: the same rules again.
    with page.expect_download() as download:
        page.click("#export-link")
    exported = tmp_path / "fotos-2026-lifecycle.json"
    download.value.save_as(exported)
    document = json.loads(exported.read_text())
    assert [r["ID"] for r in document["Rules"]] == [
        "abort-incomplete-multipart-uploads",
        "keep-only-the-last-version",
    ]
    assert document["Rules"][1] == {
        "ID": "keep-only-the-last-version",
        "Filter": {"Prefix": ""},
        "Status": "Disabled",
        "NoncurrentVersionExpiration": {"NoncurrentDays": 3},
    }
    row.locator("button:has-text('Delete')").click()
    expect(page.locator("#rules-body")).to_contain_text("was deleted")
    page.set_input_files("#file", str(exported))
    page.click("#lifecycle .import-form button[type=submit]")
    expect(page.locator("#lifecycle > .flash-success")).to_contain_text(
        "2 rules replace the 1 there were"
    )
    expect(row.locator(".status")).to_have_text("Disabled")
    assert serious_violations(page) == []
    shot(page, output_path, "10-reimported")

    # A malformed paste is refused with the problem named, nothing changes.
    page.fill("#document", '{"Rules": [{"ID": "x", "Status": "On"}]}')
    page.click("#lifecycle .import-form button[type=submit]")
    expect(page.locator("#import-error")).to_contain_text('Rule #1 "x": Status must be')
    expect(page.locator("#rules-body tr.rule-row")).to_have_count(2)
    shot(page, output_path, "11-import-refused")

    # On a phone: no sideways scrolling.
    page.set_viewport_size(PHONE)
    page.reload()
    fits(page)
    shot(page, output_path, "12-bucket-390px")
    page.locator("#rules").screenshot(path=f"{output_path}/12b-rules-390px.png")
    page.locator("#overview").screenshot(path=f"{output_path}/12c-overview-390px.png")
    page.goto(buckets)
    fits(page)
    shot(page, output_path, "13-buckets-390px")
    page.set_viewport_size({"width": 1280, "height": 900})

    # A bucket that holds objects cannot be deleted.
    page.goto(f"{buckets}/arquivo-cheio")
    expect(page.locator("#delete-bucket")).to_contain_text("Empty it first")
    page.fill("#confirm_name", "arquivo-cheio")
    page.click("#delete-bucket button[type=submit]")
    expect(page.locator("#delete-bucket .error")).to_contain_text("still holds 5 objects")
    assert serious_violations(page) == []
    shot(page, output_path, "14-delete-refused")

    # The empty one goes, once its name is typed.
    page.goto(f"{buckets}/fotos-2026")
    page.fill("#confirm_name", "fotos")
    page.click("#delete-bucket button[type=submit]")
    expect(page.locator("#delete-bucket .error")).to_contain_text("Type the bucket's name")
    page.fill("#confirm_name", "fotos-2026")
    page.click("#delete-bucket button[type=submit]")
    expect(page).to_have_url(buckets)
    expect(page.locator(".flash-success")).to_contain_text("The bucket fotos-2026 was deleted.")
    expect(page.locator("#buckets-list")).not_to_contain_text("fotos-2026")
    assert serious_violations(page) == []
    shot(page, output_path, "15-deleted")
