"""Access keys in Chromium: create a read-only key scoped to one bucket, copy its secret,
download the three credential files, reload (the secret is gone), rotate (a new secret under
the same key id), deactivate, reactivate and revoke — axe-clean, with screenshots."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from portal.extensions import db
from tests.browser.helpers import serious_violations, shot
from tests.unit.test_keys_services import _aws_cli_csv_import

PASSWORD = "uma senha longa e boa"
ENGLISH = {"Accept-Language": "en"}


def make_active_owner(live_server) -> tuple[str, int]:
    """An owner of an active organization with two buckets."""
    from portal.accounts.services import create_account, set_status
    from portal.models import Bucket, User
    from portal.users.services import hash_password
    from tests.factories import make_cnpj

    email = f"chaves-{uuid.uuid4().hex[:10]}@example.com"
    with live_server.app.app_context():
        owner = User(
            email=email, name="Olga Chaves", password_hash=hash_password(PASSWORD), locale="en"
        )
        db.session.add(owner)
        db.session.flush()
        account = create_account(owner, "Nuvem Chaves Ltda", make_cnpj(alphanumeric=True))
        for status in ("approved", "active"):
            set_status(account, status)
            db.session.flush()
        for name in ("fotos", "videos"):
            db.session.add(Bucket(account_id=account.id, name=name, created_by_id=owner.id))
        db.session.commit()
        account_id = account.id
        db.session.remove()
    return email, account_id


def clean(page: Page) -> None:
    assert serious_violations(page) == []


def download(page: Page, link_id: str, folder) -> str:
    with page.expect_download() as info:
        page.click(f"#{link_id}")
    path = folder / info.value.suggested_filename
    info.value.save_as(path)
    return path.read_bytes().decode("utf-8")


@pytest.mark.browser
def test_key_journey(live_server, new_context, output_path, tmp_path):
    base = live_server.url
    email, account_id = make_active_owner(live_server)
    keys = f"{base}/accounts/{account_id}/keys"
    context = new_context(
        accept_downloads=True,
        permissions=["clipboard-read", "clipboard-write"],
        extra_http_headers=ENGLISH,
    )
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action^='/login'] button[type=submit]")
    expect(page.locator("form[action='/logout']")).to_be_visible()

    # The page: the ceiling, the create form, no keys yet.
    page.goto(keys)
    expect(page.locator("#keys-quota")).to_contain_text("0 of 5")
    expect(page.get_by_text("There are no active or inactive access keys.")).to_be_visible()
    clean(page)
    shot(page, output_path, "01-keys-empty")

    # Create a read-only key that reaches the bucket "fotos" only.
    page.fill("#name", "backup-fotos")
    page.check("input[name=permission][value=read-only]")
    page.check("input[name=scope][value=buckets]")
    page.get_by_label("fotos", exact=True).check()
    page.click("#create-key button[type=submit]")
    panel = page.locator(".secret-panel")
    expect(panel).to_be_visible()
    key_id = page.locator("[id^=key-id-PC]").inner_text().strip()
    assert re.fullmatch(r"PC[A-Z0-9]{18}", key_id)
    secret = page.locator(".secret-value").input_value()
    assert len(secret) >= 40
    # The list and the ceiling were refreshed with it (the row never holds the secret).
    expect(page.locator("tr.key-row", has_text=key_id)).to_be_visible()
    expect(page.locator("#keys-quota")).to_contain_text("1 of 5")
    assert secret not in page.locator("#keys-list").inner_html()
    clean(page)
    shot(page, output_path, "02-secret-shown-once")

    # Copy it.
    copy = page.get_by_role("button", name="Copy secret")
    expect(copy).to_be_visible()
    copy.click()
    expect(panel.locator(".copy-done")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == secret

    # Download the three files: built in the browser from the text on the page.
    profile = download(page, f"download-profile-{key_id}", tmp_path)
    assert "[primecloud]" in profile
    assert f"aws_access_key_id = {key_id}" in profile
    assert f"aws_secret_access_key = {secret}" in profile
    assert "endpoint_url = http" in profile
    csv_text = download(page, f"download-csv-{key_id}", tmp_path)
    assert not csv_text.startswith("\ufeff")
    assert _aws_cli_csv_import(csv_text) == [("primecloud", key_id, secret)]
    env = download(page, f"download-env-{key_id}", tmp_path)
    assert f"export AWS_SECRET_ACCESS_KEY={secret}" in env

    # Back to the list, and a reload: the secret is never shown again.
    page.click("text=I saved it: back to the keys")
    expect(page.locator(".secret-panel")).to_have_count(0)
    page.reload()
    assert secret not in page.content()
    page.go_back()
    page.go_forward()
    assert secret not in page.content()
    row = page.locator("tr.key-row", has_text=key_id)
    expect(row).to_contain_text("Read-only")
    expect(row).to_contain_text("fotos")
    expect(row).not_to_contain_text("videos")
    expect(row).to_contain_text("never")  # never used
    expect(page.locator("#keys-quota")).to_contain_text("1 of 5")
    clean(page)
    shot(page, output_path, "03-list-after-reload")

    # Rotate: a new secret under the same key id, shown once in the row below it.
    row.get_by_role("button", name=re.compile("^Rotate")).click()
    rotated = page.locator(f"#secret-{key_id}")
    expect(rotated).to_be_visible()
    new_secret = rotated.locator(".secret-value").input_value()
    assert new_secret != secret and len(new_secret) >= 40
    expect(rotated.locator(f"#key-id-{key_id}")).to_have_text(key_id)
    expect(page.locator("tr.key-row", has_text=key_id)).to_contain_text("rotated")
    clean(page)
    shot(page, output_path, "04-rotated")
    page.reload()
    assert new_secret not in page.content() and secret not in page.content()

    # Deactivate, reactivate, revoke: each swaps the row.
    row = page.locator("tr.key-row", has_text=key_id)
    row.get_by_role("button", name=re.compile("^Deactivate")).click()
    expect(row.locator(".status")).to_have_text("Inactive")
    expect(page.locator("tr.key-row", has_text=key_id)).to_contain_text("is inactive")
    shot(page, output_path, "05-deactivated")
    row.get_by_role("button", name=re.compile("^Reactivate")).click()
    expect(row.locator(".status")).to_have_text("Active")
    # Edit in place: the row becomes its form, then the row again.
    row.get_by_role("link", name=re.compile("^Edit")).click()
    edit = page.locator("tr.key-edit-row")
    expect(edit).to_be_visible()
    clean(page)
    edit.get_by_label("videos", exact=True).check()
    edit.get_by_role("button", name="Save").click()
    expect(row).to_contain_text("fotos, videos")
    expect(row).to_contain_text("was saved")
    shot(page, output_path, "05b-edited")
    row.get_by_role("button", name=re.compile("^Revoke")).click()
    expect(row.locator(".status")).to_have_text("Revoked")
    expect(row.get_by_role("button")).to_have_count(0)
    clean(page)
    shot(page, output_path, "06-revoked")

    # After a reload the revoked key sits apart, collapsed.
    page.reload()
    expect(page.locator("#keys-table")).to_have_count(0)
    revoked = page.locator("#revoked-keys")
    revoked.locator("summary").click()
    expect(revoked.locator("tr.key-row", has_text=key_id)).to_be_visible()
    expect(page.locator("#keys-quota")).to_contain_text("0 of 5")
    clean(page)
    shot(page, output_path, "07-revoked-apart")
