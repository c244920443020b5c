"""A month of usage becomes a payable invoice, in Chromium against the live server: an
organization's usage of a month arrives as a file (``flask usage import``), staff issue
that month's invoices from /admin/invoices (after confirming), open the organization's draft, and its billing member
sees the invoice in the billing page's list, then the invoice page with its lines, the
organization's CNPJ, the PIX copy-and-paste code and its QR code — and the page printed
(print media) keeps only the document. Every page passes axe without serious or critical
violations; screenshots of each step."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from portal.extensions import db
from tests.browser.helpers import serious_violations, shot

PASSWORD = "uma senha longa e boa"


@pytest.fixture
def month(live_server, tmp_path):
    """Staff, an active organization with a billing member, and its usage in a month no
    other test uses (committed for real)."""
    from portal import states
    from portal.accounts.services import create_account, set_status
    from portal.models import AccountMember, User
    from portal.users.services import hash_password
    from tests.factories import make_cnpj

    tag = uuid.uuid4().hex[:8]
    period = date(random.randrange(2000, 2020), random.randrange(1, 13), 1)
    with live_server.app.app_context():
        people = [
            User(
                email=f"{who}-{tag}@example.com",
                name=name,
                password_hash=hash_password(PASSWORD),
                locale="en",
                is_platform_admin=who == "equipe",
            )
            for who, name in (
                ("equipe", "Estela Equipe"),
                ("dona", "Olga Dona"),
                ("fin", "Fábio Financeiro"),
            )
        ]
        db.session.add_all(people)
        db.session.flush()
        staff, owner, billing = people
        account = create_account(owner, f"Fatura Jornada {tag} Ltda", make_cnpj())
        for step in states.ACCOUNT.reach("active"):
            set_status(account, step)
            db.session.flush()
        db.session.add(AccountMember(account_id=account.id, user_id=billing.id, role="billing"))
        db.session.commit()
        # The month's usage arrives as the metering pipeline's file, through the command.
        start = datetime(period.year, period.month, 1, tzinfo=UTC)
        path = tmp_path / "usage.jsonl"
        path.write_text(
            "".join(
                json.dumps(
                    {
                        "event_id": f"jornada-{tag}-{metric}-{day}",
                        "organization": account.cnpj,
                        "metric": metric,
                        "quantity": quantity,
                        "period_start": (start + timedelta(days=day)).isoformat(),
                        "period_end": (start + timedelta(days=day + 1)).isoformat(),
                    }
                )
                + "\n"
                for day in range(10)
                for metric, quantity in (("storage_gb_hours", "7300"), ("egress_gb", "15.5"))
            )
        )
        imported = live_server.app.test_cli_runner().invoke(args=["usage", "import", str(path)])
        assert imported.exit_code == 0, imported.output
        assert "inserted 20," in imported.output, imported.output
        db.session.commit()
        result = {
            "staff": staff.email,
            "billing": billing.email,
            "account_id": account.id,
            "account_name": account.name,
            "cnpj": account.cnpj,
            "period": f"{period.year:04d}-{period.month:02d}",
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
def test_staff_issue_a_month_and_the_customer_pays_by_pix(
    live_server, month, new_context, page: Page, output_path
):
    base = live_server.url
    period = month["period"]

    # --- staff issue the month's invoices (a confirmation first) ----------------------
    staff_context = new_context(extra_http_headers={"Accept-Language": "en"})
    staff = staff_context.new_page()
    try:
        log_in(staff, base, month["staff"])
        staff.goto(f"{base}/admin/invoices")
        check(staff, output_path, "invoices-01-staff-list")
        staff.fill("#issue-period", period)
        staff.click("#issue-invoices button[type=submit]")
        expect(staff.locator("#confirm-heading")).to_be_visible()
        expect(staff.locator(".confirm")).to_contain_text(f"Issue the invoices of {period}?")
        staff.click(".confirm button[type=submit]")
        expect(staff.locator(".flash")).to_contain_text(
            f"{period}: 1 drafts created, 0 already existed."
        )
        row = staff.locator("#invoices-list tbody tr", has_text=month["account_name"])
        expect(row).to_contain_text("Draft")
        # 100 GB-months × 0.12 = 12.00; egress 155 GB − 100 GB free = 55 × 0.08 = 4.40.
        expect(row).to_contain_text("R$16.40")
        check(staff, output_path, "invoices-02-staff-drafted")

        # --- open it: the row swaps in place (htmx) -----------------------------------
        row.get_by_role("button", name="Open and send").click()
        expect(row).to_contain_text("Open")
        expect(row.locator("[role=status]")).to_contain_text("is open")
        number = row.locator("td").first.inner_text().split()[0]
        check(staff, output_path, "invoices-03-staff-opened")
    finally:
        staff_context.close()

    # --- the billing member sees it, opens it, finds the PIX code and QR -----------------
    log_in(page, base, month["billing"])
    page.goto(f"{base}/accounts/{month['account_id']}/billing")
    listed = page.locator("#invoices tbody tr").first
    expect(listed).to_contain_text(f"Invoice {number}")
    expect(listed).to_contain_text("R$16.40")
    expect(listed).to_contain_text("Open")
    check(page, output_path, "invoices-04-customer-list")

    listed.get_by_role("link", name=f"Invoice {number}").click()
    expect(page.locator("#invoice-title")).to_have_text(f"Invoice {number}")
    document = page.locator("#invoice")
    expect(document).to_contain_text(month["account_name"])
    cnpj = month["cnpj"]
    expect(document).to_contain_text(f"{cnpj[:2]}.{cnpj[2:5]}.{cnpj[5:8]}/{cnpj[8:12]}-{cnpj[12:]}")
    expect(document).to_contain_text("Storage (GB-months)")
    expect(document).to_contain_text("Egress beyond the free allowance (GB)")
    expect(document.locator(".invoice-total")).to_have_text("R$16.40")
    code = page.locator("#pix-code").input_value()
    assert code.startswith("000201010212")
    assert "br.gov.bcb.pix" in code and "540516.40" in code and f"FAT{number}" in code
    expect(page.locator("svg.pix-qr")).to_be_visible()
    expect(page.get_by_role("button", name="Copy the code")).to_be_visible()
    check(page, output_path, "invoices-05-customer-invoice")

    # --- printed: only the document, on A4 ----------------------------------------------
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator(".tabs")).to_be_hidden()
    expect(page.get_by_role("button", name="Copy the code")).to_be_hidden()
    expect(document).to_be_visible()
    shot(page, output_path, "invoices-06-customer-invoice-print")
    page.emulate_media(media="screen")
