"""Invoices on the web: the billing page's list (issued invoices only, paged), the invoice
page (lines, organization and issuer, PIX for an open one, printable), who may see them,
a fixed number of queries; /admin/invoices (filters, issuing a month, the moves as row
swaps, refusals as 422) and the admin home's count of open invoices past due."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from portal.billing import invoices, pix
from portal.models import AuditLog, Invoice, Notification
from tests import factories

HTMX = {"HX-Request": "true"}

pytestmark = pytest.mark.usefixtures("english")


def make_invoice(account, status="open", total="179.80", period=None, lines=1):
    kwargs = {"period_start": period} if period else {}
    invoice = factories.InvoiceFactory(account=account, total=Decimal(total), **kwargs)
    for n in range(lines):
        factories.InvoiceLineFactory(
            invoice=invoice,
            description=f"Plano {n} — 10 de 30 dias",
            quantity=Decimal("2"),
            unit_price=Decimal("89.90"),
        )
    session = factories.current_session()
    path = {"draft": [], "open": ["open"], "paid": ["open", "paid"], "void": ["void"]}[status]
    for state in path:
        invoice.status = state
        if state == "open":
            invoice.issued_at = func.now()
            invoice.due_at = date.today() + timedelta(days=10)
        elif state == "paid":
            invoice.paid_at, invoice.payment_reference = func.now(), "E2E-PAGO-1"
        elif state == "void":
            invoice.voided_at, invoice.void_reason = func.now(), "Emitida por engano"
        session.flush()
    session.commit()
    return invoice


def page(account, number):
    return f"/accounts/{account.id}/billing/invoices/{number}"


# ------------------------------------------------------------------- customers ---
def test_the_billing_page_lists_issued_invoices_but_not_drafts(client, login, org):
    account, people = org
    opened = make_invoice(account, "open", period=date(2026, 10, 1))
    paid = make_invoice(account, "paid", period=date(2026, 9, 1))
    draft = make_invoice(account, "draft", period=date(2026, 11, 1))
    login(people["billing"])
    html = client.get(f"/accounts/{account.id}/billing").get_data(as_text=True)
    assert 'id="invoices"' in html
    assert f'href="{page(account, opened.number)}"' in html
    assert f'href="{page(account, paid.number)}"' in html
    assert page(account, draft.number) not in html
    assert "October 2026" in html and "R$179.80" in html
    # Newest number first.
    assert html.index(f'id="invoice-{paid.id}"') < html.index(f'id="invoice-{opened.id}"')


def test_the_invoice_list_pages_by_keyset(client, login, org, app, monkeypatch):
    account, people = org
    monkeypatch.setitem(app.config, "BILLING_INVOICES_PAGE_SIZE", 2)
    made = [make_invoice(account, "open", period=date(2025, m, 1)) for m in range(1, 6)]
    login(people["owner"])
    html = client.get(f"/accounts/{account.id}/billing").get_data(as_text=True)
    assert html.count('id="invoice-') == 2
    older = re.search(r'href="(/accounts/\d+/billing/invoices\?invoices_before=[^"]+)"', html)
    part = client.get(older.group(1).replace("&amp;", "&"), headers=HTMX).get_data(as_text=True)
    assert part.lstrip().startswith('<section id="invoices"')
    assert f"invoice-{made[2].id}" in part and f"invoice-{made[4].id}" not in part
    bad = client.get(f"/accounts/{account.id}/billing/invoices?invoices_before=zz")
    assert bad.status_code == 422


def test_the_invoice_page_is_a_complete_document_with_pix(client, login, org, app):
    account, people = org
    invoice = make_invoice(account, "open", total="359.60", lines=2)
    login(people["billing"])
    response = client.get(page(account, invoice.number))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"Invoice {invoice.number}" in html
    assert "Acme Ltda" in html and "12.ABC.345/01DE-35" in html  # the CNPJ formatted
    assert app.config["ISSUER_NAME"] in html and "40.718.592/0001-04" in html
    assert app.config["ISSUER_ADDRESS"] in html
    assert html.count("Plano ") >= 2 and "R$359.60" in html
    with app.app_context():
        code = pix.invoice_payload(invoice.number, Decimal("359.60"))
    assert f">{code}</textarea>" in html
    assert "5406359.60" in code and f"FAT{invoice.number}" in code
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html and 'class="pix-qr"' in html
    assert 'data-copy="#pix-code"' in html and "data-print" in html
    assert "Due date" in html


@pytest.mark.parametrize("status", ["paid", "void"])
def test_a_settled_invoice_shows_no_pix(client, login, org, status):
    account, people = org
    invoice = make_invoice(account, status)
    login(people["owner"])
    html = client.get(page(account, invoice.number)).get_data(as_text=True)
    assert "pix-code" not in html and "<svg" not in html.split("<main", 1)[1]
    assert ("E2E-PAGO-1" if status == "paid" else "Emitida por engano") in html


def test_drafts_and_other_organizations_invoices_are_404(client, login, org):
    account, people = org
    draft = make_invoice(account, "draft")
    other = make_invoice(factories.AccountFactory(), "open")
    login(people["owner"])
    assert client.get(page(account, draft.number)).status_code == 404
    assert client.get(page(account, other.number)).status_code == 404
    assert client.get(page(account, 2**62)).status_code == 404


@pytest.mark.parametrize(("role", "status"), [("member", 403), ("viewer", 403), ("admin", 200)])
def test_who_sees_an_invoice(client, login, org, role, status):
    account, people = org
    invoice = make_invoice(account, "open")
    login(people[role])
    assert client.get(page(account, invoice.number)).status_code == status


def test_the_print_stylesheet_makes_a_clean_a4_page(client):
    css = client.get("/static/css/app.css").get_data(as_text=True)
    printing = css[css.index("@media print") :]
    assert "size: A4" in printing
    for hidden in (".site-header", ".site-footer", ".tabs", ".no-print"):
        assert hidden in printing


def test_the_invoice_page_issues_a_fixed_number_of_queries(client, login, org, count_queries):
    account, people = org
    few = make_invoice(account, "open", lines=1, period=date(2026, 1, 1))
    many = make_invoice(account, "open", lines=12, period=date(2026, 2, 1))
    login(people["billing"])
    with count_queries() as one:
        assert client.get(page(account, few.number)).status_code == 200
    with count_queries() as twelve:
        html = client.get(page(account, many.number)).get_data(as_text=True)
    assert html.count("Plano ") >= 12
    assert len(one) == len(twelve) <= 6


def test_the_billing_page_queries_do_not_grow_with_invoices(client, login, org, count_queries):
    account, people = org
    login(people["billing"])
    with count_queries() as few:
        client.get(f"/accounts/{account.id}/billing")
    for m in range(1, 9):
        make_invoice(account, "open", period=date(2024, m, 1))
    with count_queries() as many:
        html = client.get(f"/accounts/{account.id}/billing").get_data(as_text=True)
    assert html.count('id="invoice-') == 8
    assert len(few) == len(many)


# ------------------------------------------------------------------------ staff ---
@pytest.fixture
def admin(login, dbs):
    return login(factories.AdminFactory(name="Staff Person"))


def test_staff_filter_by_period_and_status(client, admin, dbs):
    a, b = factories.AccountFactory(name="Alfa Ltda"), factories.AccountFactory(name="Beta Ltda")
    nov_a = make_invoice(a, "draft", period=date(2026, 11, 1))
    nov_b = make_invoice(b, "open", period=date(2026, 11, 1))
    oct_a = make_invoice(a, "paid", period=date(2026, 10, 1))
    html = client.get("/admin/invoices?period=2026-11").get_data(as_text=True)
    assert f"invoice-{nov_a.id}" in html and f"invoice-{nov_b.id}" in html
    assert f"invoice-{oct_a.id}" not in html
    html = client.get("/admin/invoices?period=2026-11&status=open").get_data(as_text=True)
    assert f"invoice-{nov_b.id}" in html and f"invoice-{nov_a.id}" not in html
    assert client.get("/admin/invoices?period=2026-13").status_code == 422
    assert client.get("/admin/invoices?status=bogus").status_code == 422


def test_staff_issue_a_month_after_confirming(client, admin, csrf_token, dbs):
    account = factories.AccountFactory(name="Medida Ltda")
    factories.UsageRecordFactory(
        account=account,
        metric="egress_gb",
        quantity=Decimal("10"),
        period_start=invoices._midnight(date(2026, 11, 5)),
        period_end=invoices._midnight(date(2026, 11, 6)),
    )
    form = {"csrf_token": csrf_token(), "issue-period": "2026-11"}
    ask = client.post("/admin/invoices/issue", data=form)
    assert ask.status_code == 200 and "Issue the invoices of 2026-11?" in ask.get_data(as_text=True)
    assert dbs.scalar(select(func.count()).select_from(Invoice)) == 0
    done = client.post("/admin/invoices/issue", data={**form, "confirmed": "1"})
    assert done.status_code == 302 and done.headers["Location"].endswith("period=2026-11")
    assert dbs.scalar(select(func.count()).select_from(Invoice)) == 1
    html = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "2026-11: 1 drafts created, 0 already existed." in html
    client.post("/admin/invoices/issue", data={**form, "confirmed": "1"})
    assert dbs.scalar(select(func.count()).select_from(Invoice)) == 1
    bad = client.post(
        "/admin/invoices/issue", data={**form, "issue-period": "nov", "confirmed": "1"}
    )
    assert bad.status_code == 422 and "YYYY-MM" in bad.get_data(as_text=True)


def test_staff_moves_swap_the_row_and_are_audited(client, admin, csrf_token, dbs):
    org = factories.every_role_org()
    invoice = make_invoice(org.account, "draft")
    token = csrf_token()
    response = client.post(
        f"/admin/invoices/{invoice.id}/open", data={"csrf_token": token}, headers=HTMX
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<tr id="invoice-{invoice.id}"')
    assert "is open" in html
    assert dbs.scalar(select(func.count()).select_from(Notification)) == 2  # owner, billing
    refused = client.post(
        f"/admin/invoices/{invoice.id}/pay",
        data={"csrf_token": token, "reference": " "},
        headers=HTMX,
    )
    assert refused.status_code == 422
    assert "Enter the payment&#39;s reference" in refused.get_data(as_text=True)
    paid = client.post(
        f"/admin/invoices/{invoice.id}/pay",
        data={"csrf_token": token, "reference": "E2E999"},
        headers=HTMX,
    )
    assert paid.status_code == 200 and "E2E999" in paid.get_data(as_text=True)
    actions = set(dbs.scalars(select(AuditLog.action).where(AuditLog.target_type == "invoice")))
    assert actions == {"invoice.issued", "invoice.paid"}


def test_the_admin_home_counts_open_invoices_past_due(client, admin, dbs):
    account = factories.AccountFactory()
    late = make_invoice(account, "open", period=date(2026, 1, 1))
    make_invoice(account, "open", period=date(2026, 2, 1))  # not due yet
    dbs.execute(
        update(Invoice).where(Invoice.id == late.id).values(due_at=date.today() - timedelta(days=3))
    )
    dbs.commit()
    html = client.get("/admin/").get_data(as_text=True)
    assert re.search(r'id="stat-invoices-past-due">1<', html)
    listed = client.get("/admin/invoices?status=open&past_due=y").get_data(as_text=True)
    assert f"invoice-{late.id}" in listed and listed.count('<tr id="invoice-') == 1


def test_staff_filter_by_organization_and_see_its_latest_invoices(client, admin, dbs):
    a, b = factories.AccountFactory(name="Alfa Ltda"), factories.AccountFactory(name="Beta Ltda")
    mine = make_invoice(a, "draft", period=date(2026, 11, 1))
    theirs = make_invoice(b, "open", period=date(2026, 11, 1))
    html = client.get(f"/admin/invoices?account={a.id}").get_data(as_text=True)
    assert f"invoice-{mine.id}" in html and f"invoice-{theirs.id}" not in html
    assert client.get("/admin/invoices?account=999999999").status_code == 422
    page_html = client.get(f"/admin/accounts/{a.id}").get_data(as_text=True)
    assert 'id="invoices"' in page_html and f"/admin/invoices?account={a.id}" in page_html


def test_the_staff_list_issues_a_fixed_number_of_queries(client, admin, dbs, count_queries):
    with count_queries() as few:
        assert client.get("/admin/invoices").status_code == 200
    for n in range(8):
        make_invoice(factories.AccountFactory(), "open", period=date(2023, n + 1, 1))
    with count_queries() as many:
        html = client.get("/admin/invoices").get_data(as_text=True)
    assert html.count('<tr id="invoice-') == 8
    assert len(few) == len(many) <= 5
