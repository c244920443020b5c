"""Usage, end to end in Chromium against the live server: the metering pipeline's file is
imported with ``flask usage import`` (bucket snapshot included), then a billing member opens
the billing page, sees the month's figures, the SVG chart and its table, switches between
30 and 90 days (htmx swaps the section and the address follows), and downloads the month's
CSV. Each view passes axe without serious or critical violations; the page fits a 390 px
phone without sideways scrolling."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from portal.extensions import db
from tests.browser.helpers import serious_violations, shot

PASSWORD = "uma senha longa e boa"


@pytest.fixture
def org(live_server):
    """An active organization with an owner, a billing member and a bucket (committed)."""
    from portal import states
    from portal.accounts.services import create_account, set_status
    from portal.models import AccountMember, Bucket, User
    from portal.users.services import hash_password
    from tests.factories import make_cnpj

    tag = uuid.uuid4().hex[:8]
    with live_server.app.app_context():
        owner = User(
            email=f"dona-{tag}@example.com",
            name="Dora Dona",
            password_hash=hash_password(PASSWORD),
            locale="en",
        )
        billing = User(
            email=f"financeiro-{tag}@example.com",
            name="Fábio Financeiro",
            password_hash=hash_password(PASSWORD),
            locale="en",
        )
        db.session.add_all([owner, billing])
        db.session.flush()
        account = create_account(owner, f"Uso Jornada {tag} Ltda", make_cnpj())
        for step in states.ACCOUNT.reach("active"):
            set_status(account, step)
            db.session.flush()  # one move at a time, as the database's trigger demands
        db.session.add(AccountMember(account_id=account.id, user_id=billing.id, role="billing"))
        db.session.add(Bucket(account_id=account.id, name=f"fotos-{tag}"))
        db.session.commit()
        result = {
            "billing": billing.email,
            "account_id": account.id,
            "cnpj": account.cnpj,
            "bucket": f"fotos-{tag}",
            "tag": tag,
        }
        db.session.remove()
    return result


def usage_file(path, org) -> str:
    """40 days of daily usage up to today, and a snapshot of the bucket (10 GiB)."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    lines = []
    for k in range(40, -1, -1):
        start = today - timedelta(days=k)
        for metric, quantity in (
            ("storage_gb_hours", 24 * (5 + k % 7)),
            ("egress_gb", 1 + k % 4),
            ("requests_get", 12_000),
        ):
            lines.append(
                {
                    "event_id": f"jornada-{org['tag']}-{metric}-{k}",
                    "organization": org["cnpj"],
                    "bucket": org["bucket"],
                    "metric": metric,
                    "quantity": str(quantity),
                    "period_start": start.isoformat(),
                    "period_end": (start + timedelta(hours=1)).isoformat(),
                }
            )
    lines.append(
        {
            "organization": org["account_id"],
            "bucket": org["bucket"],
            "objects": 1234,
            "bytes": 10 * 1024**3,
            "measured_at": datetime.now(UTC).isoformat(),
        }
    )
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return str(path)


def check(page: Page, output_path: str, name: str) -> None:
    assert serious_violations(page) == [], name
    shot(page, output_path, name)


@pytest.mark.browser
def test_imported_usage_on_the_billing_page(live_server, org, page: Page, output_path, tmp_path):
    # --- the metering pipeline's file, through the command ------------------------------
    runner = live_server.app.test_cli_runner()
    path = usage_file(tmp_path / "usage.jsonl", org)
    result = runner.invoke(args=["usage", "import", path])
    assert result.exit_code == 0, result.output
    assert "inserted 123, duplicate 0, rejected 0" in result.output
    again = runner.invoke(args=["usage", "import", path])
    assert "inserted 0, duplicate 123, rejected 0" in again.output

    # --- a billing member opens the billing page ----------------------------------------
    base = live_server.url
    billing_url = f"{base}/accounts/{org['account_id']}/billing"
    page.goto(f"{base}/login")
    page.fill("input[name=email]", org["billing"])
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action^='/login'] button[type=submit]")
    expect(page.locator("form[action='/logout']")).to_be_visible()
    page.goto(billing_url)
    usage = page.locator("#usage")
    expect(usage.locator("h2")).to_have_text("Usage")
    chart = usage.locator("svg.usage-chart")
    expect(chart).to_be_visible()
    expect(chart.locator("title")).to_have_text("Daily storage and egress, last 30 days")
    assert chart.locator("rect.chart-egress").count() == 30
    expect(usage.locator(f"a:has-text('{org['bucket']}')")).to_be_visible()
    usage.locator("summary").click()
    expect(usage.locator("details table tbody tr")).to_have_count(30)
    usage.scroll_into_view_if_needed()
    check(page, output_path, "usage-01-billing-30-days")

    # --- 90 days: htmx swaps the section, the address follows ---------------------------
    usage.locator("a:has-text('Last 90 days')").click()
    expect(page.locator("#usage svg title")).to_have_text("Daily storage and egress, last 90 days")
    expect(page).to_have_url(re.compile(r"/billing/usage\?days=90$"))
    expect(page.locator("#usage a[aria-current=true]")).to_have_text("Last 90 days")
    check(page, output_path, "usage-02-billing-90-days")
    page.locator("#usage a:has-text('Last 30 days')").click()
    expect(page.locator("#usage svg title")).to_have_text("Daily storage and egress, last 30 days")

    # --- the bucket's size came from the snapshot ----------------------------------------
    page.goto(f"{base}/accounts/{org['account_id']}/buckets")
    expect(page.locator("main")).to_contain_text("10")

    # --- the month's CSV ------------------------------------------------------------------
    page.goto(billing_url)
    with page.expect_download() as info:
        page.locator('#usage a:has-text("This month\'s usage (CSV)")').click()
    download = info.value
    month = datetime.now(UTC).strftime("%Y-%m")
    assert download.suggested_filename == f"primecloud-usage-{org['account_id']}-{month}.csv"
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert rows[0][:3] == ["event_id", "bucket", "metric"]
    assert len(rows) > 1 and {r[1] for r in rows[1:]} == {org["bucket"]}

    # --- a phone: no sideways scrolling ---------------------------------------------------
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(billing_url + "#usage")
    expect(page.locator("#usage svg")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    check(page, output_path, "usage-03-billing-phone")
    page.locator("#usage svg").screenshot(path=f"{output_path}/usage-04-chart-phone.png")
