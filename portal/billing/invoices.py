"""Invoices: a month's drafts issued for every organization with something to bill, then
reviewed by staff and opened, marked paid or voided (``portal.states.INVOICE``; the
database enforces the same moves, numbers and per-state columns: migrations 0005, 0021).

Issuing (:func:`issue_period`) — one draft per organization with a subscription running in
the month or metered usage recorded in it:

- periods are calendar months in UTC, ``[first day, first day of the next month)``; a usage
  record belongs to the month its ``period_start`` falls in;
- a line per subscription, at the product's monthly price today. A subscription that started
  or ended inside the month is prorated by days: the days it ran are counted from the day
  it started (included) to the day it was cancelled (excluded), and its **unit price is
  ``price_monthly × days / days_in_month``, rounded to cents half up** (the line's amount is
  that unit price × its quantity: exactly the database's ``round(unit_price × quantity,
  2)``). A full month bills the monthly price itself;
- the metered charges of :func:`period_totals` rated by :func:`portal.usage.pricing.rate`
  (its own rounding rule, the same check);
- idempotent: the counter row of invoice numbers is locked first (``FOR UPDATE``), so two
  issuers take turns, and organizations that already have a live (non-void) invoice for
  the month are skipped. Numbers come from the database's trigger: gap-free. A voided
  month is issued again (a new number).

Moves (staff): open (issued now, due ``INVOICE_DUE_DAYS`` days later; owners and billing
members get a notification and an email with a link to the invoice), mark paid (the
payment's reference, required), void (the reason, required). Each is audited with
``events.emit`` in the caller's transaction. Locks: the organization's row, then the
invoice's, as :mod:`portal.billing.orders` does.

No request, flash, current_user or commit here: the caller owns the transaction."""

from __future__ import annotations

import calendar
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app, has_app_context
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select

from portal import clock, events, states
from portal.audit import Action
from portal.billing.labels import invoice_status_label
from portal.billing.notices import Fact, announce
from portal.errors import Invalid, NotFound
from portal.events import Target
from portal.extensions import db
from portal.models import (
    Account,
    Invoice,
    InvoiceLine,
    InvoiceNumberCounter,
    Product,
    Subscription,
    UsageDailyTotal,
    User,
)
from portal.pagination import Cursor, Key, Keyset, Page
from portal.permissions import (
    Permission,
    check_id,
    lock_staff_object,
    require,
    require_platform_admin,
)
from portal.text import one_line
from portal.usage import pricing
from portal.usage import services as usage_services

PAGE_SIZE = 25
ACCOUNT_PAGE_SIZE = 12
DUE_DAYS = 10
REFERENCE_MAX = 200
REASON_MAX = 1000
STATUSES = ("draft", "open", "paid", "void")
CUSTOMER_STATUSES = ("open", "paid", "void")  # drafts are staff's until opened
CENT = Decimal("0.01")

# Newest number first, everywhere (numbers are sequential: the newest invoices).
ORDER = Keyset(Key(Invoice.number, name="number"))

USAGE_DESCRIPTIONS = {
    "storage": "Armazenamento (GB-mês)",
    "egress": "Transferência de saída além da franquia (GB)",
    "requests_put": "Requisições PUT/POST/LIST (milhares)",
    "requests_get": "Requisições GET e demais (milhares)",
}
USAGE_LABELS = {
    "storage": _l("Storage (GB-months)"),
    "egress": _l("Egress beyond the free allowance (GB)"),
    "requests_put": _l("PUT, POST and LIST requests (thousands)"),
    "requests_get": _l("GET and other requests (thousands)"),
}


# ---------------------------------------------------------------------------- periods ---
_PERIOD = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")


def parse_period(value: str | None) -> date:
    """'YYYY-MM' as the month's first day; Invalid on ``period`` otherwise."""
    match = _PERIOD.match((value or "").strip())
    if not match or not 2000 <= int(match.group(1)) <= 2999:
        raise Invalid(gettext("Enter a month as YYYY-MM, for example 2026-11."), field="period")
    return date(int(match.group(1)), int(match.group(2)), 1)


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def previous_month(day: date) -> date:
    return date(day.year - (day.month == 1), (day.month - 2) % 12 + 1, 1)


def period_label(start: date) -> str:
    return f"{start.year:04d}-{start.month:02d}"


def last_month() -> date:
    """The month before the current one (UTC): what the button issues by default."""
    today = clock.now().astimezone(UTC).date()
    return previous_month(today.replace(day=1))


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


# ---------------------------------------------------------------------------- rating ---
def prorated_unit_price(price_monthly: Decimal, days: int, days_in_month: int) -> Decimal:
    """``price_monthly × days / days_in_month``, to cents half up; the price itself for a
    whole month."""
    if days >= days_in_month:
        return price_monthly
    return (price_monthly * days / days_in_month).quantize(CENT, rounding=ROUND_HALF_UP)


def days_billed(
    started: datetime, cancelled: datetime | None, period_start: date, period_end: date
) -> int:
    """The days of the month a subscription ran: from the day it started (included) to the
    day it was cancelled (excluded), within the month (UTC dates)."""
    first = max(started.astimezone(UTC).date(), period_start)
    last = period_end if cancelled is None else min(cancelled.astimezone(UTC).date(), period_end)
    return max((last - first).days, 0)


def period_totals_statement(start: datetime, end: datetime) -> Select:
    first, last = usage_services.utc_day(start), usage_services.utc_day(end)
    return (
        select(
            UsageDailyTotal.account_id, UsageDailyTotal.metric, func.sum(UsageDailyTotal.quantity)
        )
        .where(usage_services.in_days(first, last))
        .group_by(UsageDailyTotal.account_id, UsageDailyTotal.metric)
    )


def period_totals(start: datetime, end: datetime) -> dict[int, dict[str, Decimal]]:
    """Every organization's metered totals for records starting in ``[start, end)`` (UTC
    midnights): ``{account_id: {metric: summed quantity}}``. One grouped query over the
    daily sums (``usage_daily_totals``, by ``ix_usage_daily_totals_day``), not the records."""
    totals: dict[int, dict[str, Decimal]] = defaultdict(dict)
    rows = db.session.execute(period_totals_statement(start, end))
    for account_id, metric, quantity in rows:
        totals[account_id][metric] = quantity
    return dict(totals)


@dataclass(frozen=True)
class DraftLine:
    kind: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    product_id: int | None = None
    subscription_id: int | None = None
    metric: str | None = None

    def row(self, invoice_id: int) -> InvoiceLine:
        return InvoiceLine(
            invoice_id=invoice_id,
            kind=self.kind,
            description=self.description,
            quantity=self.quantity,
            unit_price=self.unit_price,
            amount=self.amount,
            product_id=self.product_id,
            subscription_id=self.subscription_id,
            metric=self.metric,
        )


def subscription_lines(period_start: date, period_end: date) -> dict[int, list[DraftLine]]:
    """The subscription lines of every organization for the month. One query."""
    start, end = _midnight(period_start), _midnight(period_end)
    dim = calendar.monthrange(period_start.year, period_start.month)[1]
    rows = db.session.execute(
        select(
            Subscription.id,
            Subscription.account_id,
            Subscription.quantity,
            Subscription.started_at,
            Subscription.cancelled_at,
            Product.id,
            Product.name,
            Product.price_monthly,
        )
        .join(Product, Product.id == Subscription.product_id)
        .where(
            Subscription.started_at < end,
            (Subscription.cancelled_at.is_(None)) | (Subscription.cancelled_at > start),
        )
        .order_by(Subscription.account_id, Subscription.id)
    )
    lines: dict[int, list[DraftLine]] = defaultdict(list)
    for sid, account_id, quantity, started, cancelled, pid, name, price in rows:
        days = days_billed(started, cancelled, period_start, period_end)
        if days <= 0:
            continue
        unit = prorated_unit_price(price, days, dim)
        description = name if days >= dim else f"{name} — {days} de {dim} dias"
        lines[account_id].append(
            DraftLine(
                kind="subscription",
                description=description[:255],
                quantity=Decimal(quantity),
                unit_price=unit,
                amount=(unit * quantity).quantize(CENT),
                product_id=pid,
                subscription_id=sid,
            )
        )
    return dict(lines)


def usage_lines(totals: dict[str, Decimal], prices: pricing.Prices | None = None):
    return [
        DraftLine(
            kind="usage",
            description=USAGE_DESCRIPTIONS[c.metric],
            quantity=c.quantity,
            unit_price=c.unit_price,
            amount=c.amount,
            metric=c.metric,
        )
        for c in pricing.rate(totals, prices)
    ]


# --------------------------------------------------------------------------- issuing ---
@dataclass(frozen=True)
class Issued:
    period: date
    created: int
    existing: int
    numbers: tuple[int, ...] = field(default_factory=tuple)


def issue_period(actor: User | None, period: str | date, *, ip: str | None = None) -> Issued:
    """One draft invoice per organization with something to bill in ``period`` ('YYYY-MM'),
    skipping those that already have a live invoice for it. Staff (or the CLI: ``actor``
    None). Idempotent; safe against a concurrent issuer (see the module's docstring)."""
    if actor is not None:
        require_platform_admin(actor)
    period_start = period if isinstance(period, date) else parse_period(period)
    period_end = next_month(period_start)
    # Issuers take turns on the counter row (the trigger would lock it at the first insert
    # anyway); after the wait this transaction sees the other's invoices.
    db.session.execute(
        select(InvoiceNumberCounter.id).where(InvoiceNumberCounter.id == 1).with_for_update()
    )
    existing = set(
        db.session.scalars(
            select(Invoice.account_id).where(
                Invoice.period_start == period_start, Invoice.status != "void"
            )
        )
    )
    subs = subscription_lines(period_start, period_end)
    usage = period_totals(_midnight(period_start), _midnight(period_end))
    prices = pricing.current()
    drafts: list[tuple[Invoice, list[DraftLine]]] = []
    skipped = 0
    for account_id in sorted(set(subs) | set(usage)):
        lines = subs.get(account_id, []) + usage_lines(usage.get(account_id, {}), prices)
        if not lines:
            continue
        if account_id in existing:
            skipped += 1
            continue
        invoice = Invoice(
            account_id=account_id,
            period_start=period_start,
            period_end=period_end,
            total=sum((line.amount for line in lines), Decimal("0.00")),
        )
        if clock.traveling():
            invoice.created_at = clock.now()
        drafts.append((invoice, lines))
    db.session.add_all(invoice for invoice, _ in drafts)
    db.session.flush()
    db.session.add_all(line.row(invoice.id) for invoice, lines in drafts for line in lines)
    db.session.flush()
    numbers = tuple(invoice.number for invoice, _ in drafts)
    label = period_label(period_start)
    events.emit(
        actor,
        Action.INVOICES_DRAFTED,
        Target("invoice_period", label, label),
        ip=ip,
        details={
            "period": label,
            "created": len(numbers),
            "existing": skipped,
            "first_number": numbers[0] if numbers else None,
            "last_number": numbers[-1] if numbers else None,
        },
    )
    db.session.flush()
    return Issued(period_start, len(numbers), skipped, numbers)


# ----------------------------------------------------------------------------- views ---
@dataclass(frozen=True)
class InvoiceRow:
    """One invoice as the lists show it."""

    id: int
    number: int
    account_id: int
    account_name: str
    account_cnpj: str
    period_start: date
    period_end: date
    total: Decimal
    status: str
    issued_at: datetime | None
    due_at: date | None
    paid_at: datetime | None
    voided_at: datetime | None
    payment_reference: str | None
    void_reason: str | None
    created_at: datetime

    @property
    def dom_id(self) -> str:
        return f"invoice-{self.id}"

    @property
    def period(self) -> str:
        return period_label(self.period_start)

    @property
    def last_day(self) -> date:
        """The period's last day (``period_end`` is the next month's first)."""
        return self.period_end - timedelta(days=1)

    @property
    def status_label(self) -> str:
        return invoice_status_label(self.status)

    @property
    def staff_actions(self) -> list[str]:
        """The moves staff may make from this state ("open", "pay", "void")."""
        return states.INVOICE.actions_from(self.status)

    @property
    def past_due(self) -> bool:
        return self.status == "open" and self.due_at is not None and self.due_at < today()


def rows_statement() -> Select:
    return select(
        Invoice.id,
        Invoice.number,
        Invoice.account_id,
        Account.name.label("account_name"),
        Account.cnpj.label("account_cnpj"),
        Invoice.period_start,
        Invoice.period_end,
        Invoice.total,
        Invoice.status,
        Invoice.issued_at,
        Invoice.due_at,
        Invoice.paid_at,
        Invoice.voided_at,
        Invoice.payment_reference,
        Invoice.void_reason,
        Invoice.created_at,
    ).join(Account, Account.id == Invoice.account_id)


def today() -> date:
    """Today in the portal's time zone (due dates are calendar days in Brazil)."""
    from zoneinfo import ZoneInfo

    zone = "America/Sao_Paulo"
    if has_app_context():
        zone = current_app.config.get("BABEL_DEFAULT_TIMEZONE", zone)
    return clock.now().astimezone(ZoneInfo(zone)).date()


def _check_status(status: str | None) -> str | None:
    if status and status not in STATUSES:
        raise Invalid(gettext("Choose one of the statuses in the list."), field="status")
    return status or None


def list_invoices(
    actor: User,
    *,
    period: date | None = None,
    status: str | None = None,
    past_due: bool = False,
    account_id: int | None = None,
    before: Cursor | None = None,
    limit: int = PAGE_SIZE,
) -> Page[InvoiceRow]:
    """A page of every organization's invoices (staff), newest number first. One query."""
    require_platform_admin(actor)
    status = _check_status(status)
    stmt = rows_statement()
    if account_id is not None:
        stmt = stmt.where(Invoice.account_id == account_id)
    if period is not None:
        stmt = stmt.where(Invoice.period_start == period)
    if status:
        stmt = stmt.where(Invoice.status == status)
    if past_due:
        stmt = stmt.where(Invoice.status == "open", Invoice.due_at < today())
    page = ORDER.page(stmt, before, limit)
    page.rows = [InvoiceRow(*r) for r in page.rows]
    return page


def invoice_row(actor: User, invoice_id: int) -> InvoiceRow | None:
    require_platform_admin(actor)
    row = db.session.execute(rows_statement().where(Invoice.id == check_id(invoice_id))).first()
    return InvoiceRow(*row) if row is not None else None


def account_invoices(
    account: Account, before: Cursor | None = None, limit: int = ACCOUNT_PAGE_SIZE
) -> Page[InvoiceRow]:
    """A page of an organization's invoices as its billing page lists them (no drafts),
    newest first (the caller checked ``Permission.BILLING``). One query."""
    stmt = rows_statement().where(
        Invoice.account_id == account.id, Invoice.status.in_(CUSTOMER_STATUSES)
    )
    page = ORDER.page(stmt, before, limit)
    page.rows = [InvoiceRow(*r) for r in page.rows]
    return page


@dataclass(frozen=True)
class InvoiceView:
    """One invoice as its page shows it."""

    account: Account
    membership: object
    invoice: InvoiceRow
    lines: list[InvoiceLine]


def account_invoice(user: User, account_id: int, number: int) -> InvoiceView:
    """An organization's invoice by number, for its owners, admins and billing members;
    404 for a draft (not issued yet) or another organization's. Three queries."""
    account, membership = require(user, account_id, Permission.BILLING)
    row = db.session.execute(
        rows_statement().where(
            Invoice.number == check_id(number),
            Invoice.account_id == account.id,
            Invoice.status.in_(CUSTOMER_STATUSES),
        )
    ).first()
    if row is None:
        raise NotFound()
    lines = list(
        db.session.scalars(
            select(InvoiceLine).where(InvoiceLine.invoice_id == row.id).order_by(InvoiceLine.id)
        )
    )
    return InvoiceView(account, membership, InvoiceRow(*row), lines)


ADMIN_SECTION_INVOICES = 6


@dataclass(frozen=True)
class AdminInvoices:
    account_id: int
    invoices: list[InvoiceRow]


def admin_section(actor: User, account: Account) -> AdminInvoices:
    """The staff page of one organization: its latest invoices, drafts included. One
    query."""
    require_platform_admin(actor)
    page = list_invoices(actor, account_id=account.id, limit=ADMIN_SECTION_INVOICES)
    return AdminInvoices(account.id, page.rows)


def past_due_count_statement() -> Select:
    """Open invoices past their due date (the admin home): ix_invoices_open_due_at."""
    return (
        select(func.count())
        .select_from(Invoice)
        .where(Invoice.status == "open", Invoice.due_at < today())
    )


# ----------------------------------------------------------------------------- moves ---
REFUSALS = {
    "open": _l(
        "Invoice %(number)s cannot be opened: it is %(status)s, and only drafts can be. "
        "Reload the page to see its current state."
    ),
    "pay": _l(
        "Invoice %(number)s cannot be marked paid: it is %(status)s, and only open invoices "
        "can be. Reload the page to see its current state."
    ),
    "void": _l(
        "Invoice %(number)s cannot be voided: it is %(status)s, and only drafts and open "
        "invoices can be. Reload the page to see its current state."
    ),
}


def _lock(invoice_id: int) -> tuple[Invoice, Account]:
    return lock_staff_object(Invoice, invoice_id)


def _check_move(invoice: Invoice, action: str) -> None:
    if not states.INVOICE.allows(action, invoice.status):
        raise Invalid(
            str(REFUSALS[action])
            % {"number": invoice.number, "status": invoice_status_label(invoice.status)},
            field="status",
        )


def _details(invoice: Invoice, **extra) -> dict:
    return {
        "number": invoice.number,
        "period": period_label(invoice.period_start),
        "total": f"{invoice.total:.2f}",
        **extra,
    }


def _facts(invoice: Invoice) -> list[Fact]:
    facts = [
        Fact(_l("Invoice"), str(invoice.number)),
        Fact(_l("Period"), period_label(invoice.period_start)),
        Fact(_l("Total"), invoice.total, "money"),
        Fact(_l("Status"), invoice_status_label(invoice.status)),
    ]
    if invoice.due_at is not None and invoice.status == "open":
        facts.append(Fact(_l("Due date"), invoice.due_at.isoformat()))
    if invoice.payment_reference:
        facts.append(Fact(_l("Payment reference"), invoice.payment_reference))
    if invoice.void_reason:
        facts.append(Fact(_l("Reason"), invoice.void_reason))
    return facts


def _announce(actor, action, invoice, account, ip, details, subject, headline):
    announce(
        actor,
        action,
        Target.of(invoice),
        account=account,
        ip=ip,
        details=details,
        params={"number": invoice.number, "period": period_label(invoice.period_start)},
        subject=subject,
        headline=headline,
        facts=_facts(invoice),
        page=("billing.invoice", {"account_id": account.id, "number": invoice.number}),
    )


def due_days() -> int:
    if has_app_context():
        return int(current_app.config.get("INVOICE_DUE_DAYS", DUE_DAYS))
    return DUE_DAYS


def open_invoice(actor: User, invoice_id: int, *, ip: str | None = None) -> InvoiceRow:
    """Staff open a draft: issued now, due ``INVOICE_DUE_DAYS`` days from today; the
    organization's owners and billing members are told (notification and email)."""
    require_platform_admin(actor)
    invoice, account = _lock(invoice_id)
    _check_move(invoice, "open")
    invoice.status = states.INVOICE.target("open")
    invoice.issued_at = clock.now()
    invoice.due_at = today() + timedelta(days=due_days())
    db.session.flush()
    _announce(
        actor,
        Action.INVOICE_ISSUED,
        invoice,
        account,
        ip,
        _details(invoice, due=invoice.due_at.isoformat()),
        _l(
            "Invoice %(number)s (%(period)s) · %(account)s",
            number=invoice.number,
            period=period_label(invoice.period_start),
            account=account.name,
        ),
        _l(
            "The invoice %(number)s of %(account)s for %(period)s is issued. You can pay it "
            "by PIX from its page.",
            number=invoice.number,
            account=account.name,
            period=period_label(invoice.period_start),
        ),
    )
    db.session.flush()
    return invoice_row(actor, invoice.id)


def mark_paid(
    actor: User, invoice_id: int, reference: str | None, *, ip: str | None = None
) -> InvoiceRow:
    """Staff record the payment of an open invoice, with its reference (required)."""
    require_platform_admin(actor)
    invoice, account = _lock(invoice_id)
    _check_move(invoice, "pay")
    reference = one_line(
        reference,
        field="reference",
        maximum=REFERENCE_MAX,
        missing=gettext(
            "Enter the payment's reference: the PIX end-to-end id or the bank transfer's details."
        ),
    )
    invoice.status = states.INVOICE.target("pay")
    invoice.paid_at = clock.now()
    invoice.payment_reference = reference
    db.session.flush()
    _announce(
        actor,
        Action.INVOICE_PAID,
        invoice,
        account,
        ip,
        _details(invoice, reference=reference),
        _l(
            "Invoice %(number)s: payment confirmed · %(account)s",
            number=invoice.number,
            account=account.name,
        ),
        _l(
            "We confirmed the payment of the invoice %(number)s of %(account)s. Thank you.",
            number=invoice.number,
            account=account.name,
        ),
    )
    db.session.flush()
    return invoice_row(actor, invoice.id)


def void_invoice(
    actor: User, invoice_id: int, reason: str | None, *, ip: str | None = None
) -> InvoiceRow:
    """Staff void a draft or an open invoice, saying why (required). Its number stays
    used; the month can be issued again. Customers are told only of an open one."""
    require_platform_admin(actor)
    invoice, account = _lock(invoice_id)
    _check_move(invoice, "void")
    reason = one_line(
        reason,
        field="reason",
        maximum=REASON_MAX,
        missing=gettext("Give the reason for voiding the invoice."),
    )
    was = invoice.status
    invoice.status = states.INVOICE.target("void")
    invoice.voided_at = clock.now()
    invoice.void_reason = reason
    db.session.flush()
    details = _details(invoice, reason=reason, was=was)
    if was == "open":
        _announce(
            actor,
            Action.INVOICE_VOIDED,
            invoice,
            account,
            ip,
            details,
            _l(
                "Invoice %(number)s voided · %(account)s",
                number=invoice.number,
                account=account.name,
            ),
            _l(
                "The invoice %(number)s of %(account)s was voided: nothing is due on it.",
                number=invoice.number,
                account=account.name,
            ),
        )
    else:
        events.emit(actor, Action.INVOICE_VOIDED, invoice, account=account, ip=ip, details=details)
    db.session.flush()
    return invoice_row(actor, invoice.id)
