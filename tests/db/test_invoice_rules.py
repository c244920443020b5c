"""Invoices as the database keeps them (migration 0021), tried with raw SQL: each state
carries what it needs (a paid one its reference, a void one its reason, an open one its
dates), what a line bills, lines and totals frozen once issued; and two issuers of the same
month at once (real threads, real commits): one creates the drafts, the other none, and the
numbers have no gap."""

from __future__ import annotations

import random
import threading
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from psycopg.errors import CheckViolation
from sqlalchemy import func, select, text

from portal.billing import invoices
from portal.extensions import db
from portal.models import Account, AccountMember, Invoice, InvoiceNumberCounter, UsageRecord, User
from portal.usage.services import DAILY_FROM_RECORDS
from tests.conftest import make_test_app, upgrade
from tests.db.conftest import libpq_url, new_cnpj, refused, unique

OPEN = "UPDATE invoices SET status = 'open', issued_at = now(), due_at = current_date + 10 "


def _line(conn, invoice_id, kind="other", subscription=None, metric=None):
    conn.execute(
        "INSERT INTO invoice_lines (invoice_id, description, quantity, unit_price, amount, kind, "
        "subscription_id, metric) VALUES (%s, 'Linha', 2, 10.00, 20.00, %s, %s, %s)",
        (invoice_id, kind, subscription, metric),
    )


def test_an_open_invoice_has_its_dates(conn, rows):
    invoice, _ = rows.invoice(rows.account())
    refused(
        conn,
        "UPDATE invoices SET status = 'open', issued_at = now() WHERE id = %s",
        (invoice,),
        match="ck_invoices_issued_when_open",
    )
    conn.execute(OPEN + "WHERE id = %s", (invoice,))


@pytest.mark.parametrize("reference", [None, "", "   "])
def test_a_paid_invoice_has_a_reference(conn, rows, reference):
    invoice, _ = rows.invoice(rows.account())
    conn.execute(OPEN + "WHERE id = %s", (invoice,))
    refused(
        conn,
        "UPDATE invoices SET status = 'paid', paid_at = now(), payment_reference = %s "
        "WHERE id = %s",
        (reference, invoice),
        match="ck_invoices_paid_has_reference",
    )
    refused(
        conn,
        "UPDATE invoices SET status = 'paid', payment_reference = 'E2E1' WHERE id = %s",
        (invoice,),
        match="ck_invoices_paid_has_reference",
    )
    conn.execute(
        "UPDATE invoices SET status = 'paid', paid_at = now(), payment_reference = 'E2E1' "
        "WHERE id = %s",
        (invoice,),
    )


def test_references_and_reasons_belong_to_their_state(conn, rows):
    invoice, _ = rows.invoice(rows.account())
    refused(
        conn,
        "UPDATE invoices SET payment_reference = 'E2E1' WHERE id = %s",
        (invoice,),
        match="ck_invoices_reference_only_when_paid",
    )
    refused(
        conn,
        "UPDATE invoices SET void_reason = 'x' WHERE id = %s",
        (invoice,),
        match="ck_invoices_reason_only_when_void",
    )


@pytest.mark.parametrize("reason", [None, " "])
def test_a_void_invoice_has_a_reason(conn, rows, reason):
    invoice, _ = rows.invoice(rows.account())
    refused(
        conn,
        "UPDATE invoices SET status = 'void', voided_at = now(), void_reason = %s WHERE id = %s",
        (reason, invoice),
        match="ck_invoices_void_has_reason",
    )


def test_lines_change_only_while_the_invoice_is_a_draft(conn, rows):
    invoice, _ = rows.invoice(rows.account())
    _line(conn, invoice)
    conn.execute("UPDATE invoices SET total = 20.00 WHERE id = %s", (invoice,))
    conn.execute(OPEN + "WHERE id = %s", (invoice,))
    for sql in (
        "INSERT INTO invoice_lines (invoice_id, description, quantity, unit_price, amount) "
        "VALUES (%s, 'Mais', 1, 1.00, 1.00)",
        "UPDATE invoice_lines SET description = 'Outra' WHERE invoice_id = %s",
        "DELETE FROM invoice_lines WHERE invoice_id = %s",
    ):
        refused(conn, sql, (invoice,), match="^invoice_lines_draft_only")
    for sql in (
        "UPDATE invoices SET total = 1.00 WHERE id = %s",
        "UPDATE invoices SET period_end = period_end + 1 WHERE id = %s",
    ):
        refused(conn, sql, (invoice,), match="_immutable")


def test_what_a_line_bills(conn, rows):
    account = rows.account()
    invoice, _ = rows.invoice(account)
    subscription = rows.subscription(account)
    wrong = [
        ({"kind": "subscription"}, "ck_invoice_lines_subscription_line"),
        (
            {"kind": "usage", "subscription": subscription, "metric": "storage"},
            "ck_invoice_lines_subscription_line",
        ),
        ({"kind": "usage"}, "ck_invoice_lines_usage_line"),
        ({"kind": "usage", "metric": "bananas"}, "ck_invoice_lines_metric_known"),
        ({"kind": "fee"}, "ck_invoice_lines_kind_known"),
    ]
    for values, rule in wrong:
        with pytest.raises(CheckViolation, match=rule), conn.transaction():
            _line(conn, invoice, **values)
    _line(conn, invoice, kind="subscription", subscription=subscription)
    _line(conn, invoice, kind="usage", metric="egress")


# ------------------------------------------------------------- concurrent issuers ---
@pytest.fixture(scope="module")
def race(databases):
    url = databases.create("invoice_race")
    app = make_test_app(url, smtp_port=1)
    upgrade(app)
    yield app, libpq_url(url)
    with app.app_context():
        db.engine.dispose()


def _organizations_with_usage(app, count: int, period: date) -> list[int]:
    with app.app_context():
        owner = User(email=f"{unique('own')}@example.com", name="Owner", password_hash="x")
        db.session.add(owner)
        db.session.flush()
        ids = []
        for n in range(count):
            account = Account(name=f"Medida {n} Ltda", cnpj=new_cnpj())
            db.session.add(account)
            db.session.flush()
            db.session.add(AccountMember(account_id=account.id, user_id=owner.id, role="owner"))
            start = datetime(period.year, period.month, 2, tzinfo=UTC)
            db.session.add(
                UsageRecord(
                    account_id=account.id,
                    metric="egress_gb",
                    quantity=Decimal("10"),
                    period_start=start,
                    period_end=start.replace(day=3),
                    source_event_id=unique("evt"),
                )
            )
            ids.append(account.id)
        db.session.flush()
        # usage_daily, as the importer would keep it (invoices read the daily sums)
        for statement in DAILY_FROM_RECORDS:
            db.session.execute(
                text(statement.format(where="WHERE account_id = ANY(:ids)")), {"ids": ids}
            )
        db.session.commit()
        return ids


def _issue(app, period: date, results: dict, key, before_commit=None):
    with app.app_context():
        try:
            result = invoices.issue_period(None, period)
            if before_commit is not None:
                before_commit()
            db.session.commit()
            results[key] = result
        except BaseException as exc:  # reported by the assertions
            db.session.rollback()
            results[key] = exc
        finally:
            db.session.remove()


def _no_gaps(app, period: date, accounts: list[int]) -> None:
    with app.app_context():
        numbers = sorted(
            db.session.scalars(select(Invoice.number).where(Invoice.period_start == period))
        )
        assert len(numbers) == len(accounts)
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
        everything = db.session.execute(select(func.count(), func.max(Invoice.number))).one()
        counter = db.session.scalar(select(InvoiceNumberCounter.last_number))
        assert everything[0] == everything[1] == counter  # 1…counter, none skipped


def test_the_second_issuer_waits_and_creates_nothing(race):
    app, _dsn = race
    period = date(2300 + random.randrange(500), random.randrange(1, 13), 1)
    accounts = _organizations_with_usage(app, 5, period)
    results: dict = {}
    first_holds, release = threading.Event(), threading.Event()

    def hold():
        first_holds.set()
        assert release.wait(20)

    first = threading.Thread(target=_issue, args=(app, period, results, 0, hold))
    second = threading.Thread(target=_issue, args=(app, period, results, 1))
    first.start()
    assert first_holds.wait(20)
    second.start()
    second.join(0.5)
    assert second.is_alive()  # waiting for the counter row the first one holds
    release.set()
    first.join(30)
    second.join(30)
    assert (results[0].created, results[0].existing) == (5, 0), results
    assert (results[1].created, results[1].existing) == (0, 5), results
    _no_gaps(app, period, accounts)


def test_simultaneous_issuers_never_duplicate_or_skip_a_number(race):
    app, _dsn = race
    for _ in range(5):
        period = date(2300 + random.randrange(500), random.randrange(1, 13), 1)
        accounts = _organizations_with_usage(app, 3, period)
        results: dict = {}
        barrier = threading.Barrier(2, timeout=20)

        def go(index, period=period, results=results, barrier=barrier):
            barrier.wait()
            _issue(app, period, results, index)

        threads = [threading.Thread(target=go, args=(i,)) for i in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(r.created for r in results.values()) == [0, 3], results
        _no_gaps(app, period, accounts)
