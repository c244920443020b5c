"""Invoices: the proration and rounding rule (exact Decimals), a month's drafts (one per
organization with a subscription or usage, idempotent, a voided month issued again), the
staff moves (open, mark paid, void: required reference and reason, refusals write nothing,
audit rows, notifications and emails to owners and billing members)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from portal.audit import Action
from portal.billing import invoices
from portal.errors import Invalid, NotAllowed
from portal.extensions import db
from portal.models import (
    AuditLog,
    EmailOutbox,
    Invoice,
    InvoiceLine,
    InvoiceNumberCounter,
    Notification,
    Subscription,
)
from portal.usage import pricing
from tests import factories
from tests.unit.conftest import ours

NOV = date(2026, 11, 1)
DEC = date(2026, 12, 1)


def at(day: int, hour: int = 12, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture
def admin(app_ctx, dbs):
    return ours(factories.AdminFactory(name="Staff"))


# ---------------------------------------------------------------- proration rule ---
@pytest.mark.parametrize(
    ("price", "days", "month_days", "expected"),
    [
        ("49.90", 10, 31, "16.10"),  # 16.096774… → 16.10
        ("99.90", 15, 30, "49.95"),  # exact
        ("10.00", 1, 31, "0.32"),  # 0.322580… → 0.32
        ("0.05", 15, 30, "0.03"),  # 0.025 → half up
        ("0.05", 9, 30, "0.02"),  # 0.015 → half up
        ("89.90", 28, 28, "89.90"),  # a whole month is the price itself
        ("89.90", 14, 28, "44.95"),
        ("1234.56", 29, 30, "1193.41"),  # 1193.408 → 1193.41
    ],
)
def test_the_prorated_unit_price_is_price_times_days_over_month_to_cents_half_up(
    price, days, month_days, expected
):
    assert invoices.prorated_unit_price(Decimal(price), days, month_days) == Decimal(expected)


@pytest.mark.parametrize(
    ("started", "cancelled", "days"),
    [
        (at(1, 0, month=10), None, 30),  # ran the whole month
        (at(21, 9), None, 10),  # started on the 21st: 21…30
        (at(15, 0, month=10), at(11, 8), 10),  # cancelled on the 11th: 1…10
        (at(5), at(7), 2),  # 5th and 6th
        (at(5), at(5, 23), 0),  # same day: nothing
        (at(1, 0, month=12), None, 0),  # after the month
        (at(1, 0, month=10), at(31, 23, month=10), 0),  # cancelled before
    ],
)
def test_days_billed(started, cancelled, days):
    assert invoices.days_billed(started, cancelled, NOV, DEC) == days


@pytest.mark.parametrize("value", ["", "2026-13", "2026-1", "26-11", "november", "2026-11-01"])
def test_a_period_is_a_month_as_yyyy_mm(value):
    with pytest.raises(Invalid) as error:
        invoices.parse_period(value)
    assert error.value.field == "period"


def test_period_helpers():
    assert invoices.parse_period("2026-11") == NOV
    assert invoices.next_month(date(2026, 12, 1)) == date(2027, 1, 1)
    assert invoices.previous_month(date(2026, 1, 1)) == date(2025, 12, 1)
    assert invoices.period_label(NOV) == "2026-11"


# ---------------------------------------------------------------------- issuing ---
def subscription(dbs, account, product, started, cancelled=None, quantity=1):
    sub = factories.SubscriptionFactory(
        account=account,
        product=product,
        quantity=quantity,
        started_at=started,
        status="cancelled" if cancelled else "active",
    )
    if cancelled:
        dbs.execute(
            update(Subscription).where(Subscription.id == sub.id).values(cancelled_at=cancelled)
        )
        dbs.commit()
    return sub


def usage(account, metric, quantity, when=None):
    return factories.UsageRecordFactory(
        account=account,
        metric=metric,
        quantity=Decimal(quantity),
        period_start=when or at(3),
        period_end=(when or at(3)) + timedelta(hours=1),
    )


@pytest.fixture
def month(dbs):
    """Four organizations: a whole month of 2 × 89.90; a plan started on the 21st (10 of
    30 days of 49.90); usage only; nothing in November (usage in October, a plan cancelled
    in October)."""
    plan = factories.ProductFactory(name="Plano 1 TB", price_monthly=Decimal("89.90"))
    small = factories.ProductFactory(name="Plano 500 GB", price_monthly=Decimal("49.90"))
    whole = factories.AccountFactory(name="Inteira Ltda")
    subscription(dbs, whole, plan, at(15, month=10), quantity=2)
    late = factories.AccountFactory(name="Tardia Ltda")
    subscription(dbs, late, small, at(21, 9))
    usage(late, "egress_gb", "0.5")  # within the free allowance? no storage: 0.5 GB billed
    metered = factories.AccountFactory(name="Medida Ltda")
    usage(metered, "storage_gb_hours", "365000")  # 500 GB-months
    usage(metered, "storage_gb_hours", "365000", when=at(20))  # another 500
    usage(metered, "egress_gb", "1200.5")
    usage(metered, "requests_put", "123456")
    usage(metered, "requests_get", "1000")
    idle = factories.AccountFactory(name="Parada Ltda")
    usage(idle, "egress_gb", "50", when=at(30, 23, month=10))
    subscription(dbs, idle, plan, at(1, month=9), cancelled=at(20, month=10))
    return {"whole": whole, "late": late, "metered": metered, "idle": idle}


def drafted(account) -> Invoice | None:
    return db.session.scalar(
        select(Invoice).where(Invoice.account_id == account.id, Invoice.period_start == NOV)
    )


def lines_of(invoice: Invoice) -> list[tuple]:
    return [
        (line.kind, line.metric, line.quantity, line.unit_price, line.amount)
        for line in db.session.scalars(
            select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id).order_by(InvoiceLine.id)
        )
    ]


def test_period_totals_sums_each_organizations_metrics_in_one_query(app_ctx, month, count_queries):
    with count_queries() as queries:
        totals = invoices.period_totals(at(1, 0), at(1, 0, month=12))
    assert len(queries) == 1
    assert totals[month["metered"].id] == {
        "storage_gb_hours": Decimal("730000.000000"),
        "egress_gb": Decimal("1200.500000"),
        "requests_put": Decimal("123456.000000"),
        "requests_get": Decimal("1000.000000"),
    }
    assert totals[month["late"].id] == {"egress_gb": Decimal("0.500000")}
    assert month["idle"].id not in totals


def test_issuing_a_month_drafts_one_invoice_per_organization_with_exact_lines(admin, month):
    result = invoices.issue_period(admin, "2026-11")
    assert (result.created, result.existing) == (3, 0)
    assert drafted(month["idle"]) is None

    whole = drafted(month["whole"])
    assert whole.status == "draft" and whole.period_end == DEC
    assert lines_of(whole) == [
        ("subscription", None, Decimal("2.0000"), Decimal("89.9000"), Decimal("179.80"))
    ]
    assert whole.total == Decimal("179.80")

    late = drafted(month["late"])
    # 49.90 × 10 / 30 = 16.6333… → 16.63; egress 0.5 GB × 0.08 = 0.04.
    assert lines_of(late) == [
        ("subscription", None, Decimal("1.0000"), Decimal("16.6300"), Decimal("16.63")),
        ("usage", "egress", Decimal("0.5000"), Decimal("0.0800"), Decimal("0.04")),
    ]
    assert late.total == Decimal("16.67")
    description = db.session.scalar(
        select(InvoiceLine.description).where(
            InvoiceLine.invoice_id == late.id, InvoiceLine.kind == "subscription"
        )
    )
    assert description == "Plano 500 GB — 10 de 30 dias"

    metered = drafted(month["metered"])
    # 1000 GB-months × 0.12 = 120.00; egress beyond 1000 GB: 200.5 × 0.08 = 16.04;
    # 123.456 thousand PUT × 0.025 = 3.0864 → 3.09; 1 thousand GET × 0.002 = 0.002 → 0.00.
    assert lines_of(metered) == [
        ("usage", "storage", Decimal("1000.0000"), Decimal("0.1200"), Decimal("120.00")),
        ("usage", "egress", Decimal("200.5000"), Decimal("0.0800"), Decimal("16.04")),
        ("usage", "requests_put", Decimal("123.4560"), Decimal("0.0250"), Decimal("3.09")),
        ("usage", "requests_get", Decimal("1.0000"), Decimal("0.0020"), Decimal("0.00")),
    ]
    assert metered.total == Decimal("139.13")
    # The same charges as the pricing module rates them (one price function).
    charges = pricing.rate(invoices.period_totals(at(1, 0), at(1, 0, month=12))[metered.account_id])
    assert pricing.total(charges) == metered.total

    # Sequential numbers, in organization order; one platform audit row for the run.
    numbers = sorted(i.number for i in (whole, late, metered))
    assert list(result.numbers) == numbers == list(range(numbers[0], numbers[0] + 3))
    row = db.session.scalar(select(AuditLog).where(AuditLog.action == "invoice.drafted"))
    assert row.account_id is None and row.target_id == "2026-11"
    assert row.details["created"] == 3


def test_issuing_twice_changes_nothing(admin, month):
    invoices.issue_period(admin, "2026-11")
    counter = db.session.scalar(select(InvoiceNumberCounter.last_number))
    before = db.session.execute(select(Invoice.id, Invoice.number, Invoice.total)).all()
    again = invoices.issue_period(admin, "2026-11")
    assert (again.created, again.existing, again.numbers) == (0, 3, ())
    assert db.session.execute(select(Invoice.id, Invoice.number, Invoice.total)).all() == before
    assert db.session.scalar(select(InvoiceNumberCounter.last_number)) == counter


def test_a_voided_month_is_issued_again_with_the_next_number(admin, month):
    invoices.issue_period(admin, "2026-11")
    first = drafted(month["whole"])
    invoices.void_invoice(admin, first.id, "Quantidade errada")
    counter = db.session.scalar(select(InvoiceNumberCounter.last_number))
    again = invoices.issue_period(admin, date(2026, 11, 1))
    assert (again.created, again.existing) == (1, 2)
    assert again.numbers == (counter + 1,)


def test_only_staff_issue(app_ctx, dbs, month):
    customer = ours(factories.UserFactory())
    with pytest.raises(NotAllowed):
        invoices.issue_period(customer, "2026-11")


def test_the_command_line_issues_and_says_how_many(app, runner, dbs, month):
    result = runner.invoke(args=["invoices", "issue", "--period", "2026-11"])
    assert result.exit_code == 0, result.output
    assert "2026-11: 3 drafts created, 0 already existed" in result.output
    result = runner.invoke(args=["invoices", "issue", "--period", "2026-11"])
    assert "2026-11: 0 drafts created, 3 already existed" in result.output
    bad = runner.invoke(args=["invoices", "issue", "--period", "2026-13"])
    assert bad.exit_code != 0 and "--period" in bad.output and "2026-11." in bad.output


# ------------------------------------------------------------------------ moves ---
@pytest.fixture
def draft(admin, dbs):
    org = factories.every_role_org(status="active")
    invoice = factories.InvoiceFactory(account=org.account, total=Decimal("179.80"))
    factories.InvoiceLineFactory(invoice=invoice)
    return ours(invoice), org


def tally():
    db.session.expire_all()
    return tuple(
        db.session.scalar(select(func.count()).select_from(m))
        for m in (AuditLog, Notification, EmailOutbox)
    ) + (tuple(db.session.execute(select(Invoice.id, Invoice.status).order_by(Invoice.id))),)


def test_opening_sets_dates_audits_and_tells_owners_and_billing(admin, draft):
    invoice, org = draft
    row = invoices.open_invoice(admin, invoice.id, ip="203.0.113.9")
    assert row.status == "open"
    assert row.issued_at is not None
    assert row.due_at == invoices.today() + timedelta(days=10)
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == Action.INVOICE_ISSUED))
    assert audit.account_id == org.account.id and str(audit.ip) == "203.0.113.9"
    told = set(db.session.scalars(select(Notification.user_id)))
    assert told == {org.people["owner"].id, org.people["billing"].id}
    link = db.session.scalar(select(Notification.link))
    assert link == f"/accounts/{org.account.id}/billing/invoices/{invoice.number}"
    emails = db.session.scalars(select(EmailOutbox)).all()
    assert {e.to_address for e in emails} == {
        org.people["owner"].email,
        org.people["billing"].email,
    }
    assert all(f"/billing/invoices/{invoice.number}" in e.body_text for e in emails)


def test_marking_paid_needs_a_reference(admin, draft):
    invoice, _ = draft
    invoices.open_invoice(admin, invoice.id)
    before = tally()
    for reference in (None, "", "   "):
        with pytest.raises(Invalid) as error:
            invoices.mark_paid(admin, invoice.id, reference)
        assert error.value.field == "reference"
    assert tally() == before
    row = invoices.mark_paid(admin, invoice.id, "  E2E12345678901234567890123456789  ")
    assert row.status == "paid" and row.payment_reference == "E2E12345678901234567890123456789"
    assert row.paid_at is not None


def test_voiding_needs_a_reason_and_tells_customers_only_of_an_open_one(admin, draft):
    invoice, _ = draft
    with pytest.raises(Invalid) as error:
        invoices.void_invoice(admin, invoice.id, " ")
    assert error.value.field == "reason"
    row = invoices.void_invoice(admin, invoice.id, "Emitida em duplicidade")
    assert row.status == "void" and row.void_reason == "Emitida em duplicidade"
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0
    assert db.session.scalar(
        select(func.count()).select_from(AuditLog).where(AuditLog.action == "invoice.voided")
    )


@pytest.mark.parametrize(
    ("status", "action"),
    [("draft", "pay"), ("paid", "open"), ("paid", "void"), ("void", "open"), ("open", "open")],
)
def test_a_refused_move_is_invalid_and_writes_nothing(admin, dbs, status, action):
    invoice = ours(factories.InvoiceFactory(status=status))
    before = tally()
    call = {
        "open": lambda: invoices.open_invoice(admin, invoice.id),
        "pay": lambda: invoices.mark_paid(admin, invoice.id, "E2E-1"),
        "void": lambda: invoices.void_invoice(admin, invoice.id, "Motivo"),
    }[action]
    with pytest.raises(Invalid) as error:
        call()
    assert str(invoice.number) in error.value.message
    assert tally() == before


def test_customers_never_move_invoices(app_ctx, dbs, draft):
    invoice, org = draft
    with pytest.raises(NotAllowed):
        invoices.open_invoice(ours(org.people["owner"]), invoice.id)


def test_a_subscription_cancelled_inside_the_month_bills_its_days(admin, dbs):
    plan = factories.ProductFactory(name="Plano 2 TB", price_monthly=Decimal("159.90"))
    account = factories.AccountFactory(name="Saiu Ltda")
    # Started in October, cancelled on 11 November: 1…10 November, 10 of 30 days, 3 units.
    subscription(dbs, account, plan, at(3, month=10), cancelled=at(11, 15), quantity=3)
    result = invoices.issue_period(admin, "2026-11")
    assert result.created == 1
    invoice = drafted(account)
    # 159.90 × 10 / 30 = 53.30 exactly; × 3 = 159.90.
    assert lines_of(invoice) == [
        ("subscription", None, Decimal("3.0000"), Decimal("53.3000"), Decimal("159.90"))
    ]
    assert invoice.total == Decimal("159.90")
