"""Usage on /accounts/<id>/billing: this month and the last 12 with costs at today's
prices, the daily chart (SVG, 30/90 days, htmx swap, 422 for another value), the
per-bucket breakdown, the streamed CSV export — by role, with fixed query counts."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from portal import clock
from portal.usage import services
from tests import factories
from tests.functional.conftest import HTMX, ROLES

pytestmark = pytest.mark.usefixtures("english")

BILLING = {"owner", "admin", "billing"}


def page(account, **args) -> str:
    query = "&".join(f"{k}={v}" for k, v in args.items())
    return f"/accounts/{account.id}/billing" + (f"?{query}" if query else "")


def add_usage(account, bucket=None, *, days=3, tag="a"):
    """``days`` days of usage ending yesterday: 240 GB-hours (10 GB stored), 2 GB egress
    and 1,500 GET requests a day."""
    today = clock.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for k in range(1, days + 1):
        start = today - timedelta(days=k)
        for metric, quantity in (
            ("storage_gb_hours", "240"),
            ("egress_gb", "2"),
            ("requests_get", "1500"),
        ):
            factories.UsageRecordFactory(
                account=account,
                bucket_id=bucket.id if bucket else None,
                metric=metric,
                quantity=Decimal(quantity),
                period_start=start,
                period_end=start + timedelta(days=1),
                source_event_id=f"{tag}-{account.id}-{metric}-{k}",
            )


@pytest.mark.parametrize("role", ROLES)
def test_who_sees_usage(client, login, org, role):
    account, people = org
    login(people[role])
    response = client.get(page(account))
    if role in BILLING:
        assert response.status_code == 200
        assert 'id="usage"' in response.get_data(as_text=True)
    else:
        assert response.status_code == 403
    export = client.get(f"/accounts/{account.id}/billing/usage.csv")
    assert export.status_code == (200 if role in BILLING else 403)
    assert client.get(f"/accounts/{account.id}/billing/usage").status_code == (
        200 if role in BILLING else 403
    )


def test_other_organizations_are_404(client, login, org, outsider):
    account, _ = org
    login(outsider)
    for url in (
        page(account),
        f"/accounts/{account.id}/billing/usage?days=90",
        f"/accounts/{account.id}/billing/usage.csv",
    ):
        assert client.get(url).status_code == 404


def test_the_page_shows_the_month_the_chart_and_the_buckets(client, login, dbs, org):
    account, people = org
    bucket = factories.BucketFactory(account=account, name="fotos")
    add_usage(account, bucket, days=2)
    login(people["billing"])
    html = client.get(page(account)).get_data(as_text=True)
    assert '<svg class="usage-chart"' in html and 'role="img"' in html
    assert "Daily storage and egress, last 30 days" in html
    assert 'aria-current="true">Last 30 days' in html
    assert "<polyline" in html and html.count('class="chart-egress"') == 2
    assert ">fotos</a>" in html
    assert "/billing/usage.csv?month=" in html


def test_the_breakdown_shows_the_buckets_that_stored_most(client, login, dbs, org):
    """An organization with many buckets sees the 20 largest this month (by storage), and
    is told the month's CSV has them all."""
    from portal.usage.services import BUCKETS_SHOWN

    account, people = org
    today = clock.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for i in range(BUCKETS_SHOWN + 2):
        bucket = factories.BucketFactory(account=account, name=f"dados-{i:02d}")
        factories.UsageRecordFactory(
            account=account,
            bucket_id=bucket.id,
            metric="storage_gb_hours",
            quantity=Decimal(100 + i),  # dados-00 and dados-01 stored the least
            period_start=today,
            period_end=today + timedelta(hours=1),
            source_event_id=f"top-{account.id}-{i}",
        )
    login(people["billing"])
    html = client.get(page(account)).get_data(as_text=True)
    breakdown = html.split('id="usage-buckets-heading"')[1].split('id="usage-export-heading"')[0]
    assert ">dados-21</a>" in breakdown and ">dados-02</a>" in breakdown
    assert ">dados-00</a>" not in breakdown and ">dados-01</a>" not in breakdown
    assert "The 20 buckets that stored the most this month" in breakdown


def test_figures_and_costs_at_todays_prices(app_ctx, dbs):
    account = factories.AccountFactory()
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    for metric, quantity in (
        ("storage_gb_hours", "73000"),  # 100 GB-months: R$ 12,00
        ("egress_gb", "150"),  # 100 free, 50 charged: R$ 4,00
        ("requests_put", "4000"),  # 4 thousand: R$ 0,10
        ("requests_get", "10000"),  # 10 thousand: R$ 0,02
    ):
        factories.UsageRecordFactory(
            account=account,
            metric=metric,
            quantity=Decimal(quantity),
            period_start=datetime(2026, 11, 2, tzinfo=UTC),
            period_end=datetime(2026, 11, 3, tzinfo=UTC),
        )
    factories.UsageRecordFactory(
        account=account,
        metric="egress_gb",
        quantity=Decimal("7"),
        period_start=datetime(2026, 10, 31, 23, tzinfo=UTC),
        period_end=datetime(2026, 11, 1, tzinfo=UTC),
    )
    summary = services.summary(account.id, now)
    f = summary.this_month.figures
    assert summary.this_month.month.isoformat() == "2026-11-01"
    assert (f.storage_gb_months, f.egress_gb, f.requests_thousands) == (
        Decimal("100.0000"),
        Decimal("150"),
        Decimal("14.0000"),
    )
    assert (f.storage_cost, f.egress_cost, f.requests_cost, f.total) == (
        Decimal("12.00"),
        Decimal("4.00"),
        Decimal("0.12"),
        Decimal("16.12"),
    )
    assert [m.month.isoformat() for m in summary.months][:2] == ["2026-10-01", "2026-09-01"]
    assert len(summary.months) == 12
    october = summary.months[0].figures
    assert october.egress_gb == Decimal("7") and october.egress_cost == Decimal("0.56")
    assert services.totals(
        account.id, datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
    ) == {
        "storage_gb_hours": Decimal("73000"),
        "egress_gb": Decimal("150"),
        "requests_put": Decimal("4000"),
        "requests_get": Decimal("10000"),
    }


def test_daily_series_fills_missing_days(app_ctx, dbs):
    account = factories.AccountFactory()
    factories.UsageRecordFactory(
        account=account,
        metric="storage_gb_hours",
        quantity=Decimal("48"),
        period_start=datetime(2026, 11, 19, 10, tzinfo=UTC),
        period_end=datetime(2026, 11, 19, 11, tzinfo=UTC),
    )
    series = services.daily(account.id, 30, datetime(2026, 11, 20, 12, tzinfo=UTC))
    assert len(series) == 30 and series[-1].day.isoformat() == "2026-11-20"
    assert series[-2].storage_gb == Decimal("2.00") and series[-1].storage_gb == 0


def test_ninety_days_and_the_htmx_swap(client, login, dbs, org):
    account, people = org
    add_usage(account, days=2)
    login(people["owner"])
    html = client.get(page(account, days=90)).get_data(as_text=True)
    assert "last 90 days" in html and 'aria-current="true">Last 90 days' in html
    piece = client.get(f"/accounts/{account.id}/billing/usage?days=90", headers=HTMX)
    text = piece.get_data(as_text=True)
    assert piece.status_code == 200
    assert text.lstrip().startswith('<section id="usage"') and "<html" not in text
    full = client.get(f"/accounts/{account.id}/billing/usage?days=90")
    assert "<html" in full.get_data(as_text=True)


@pytest.mark.parametrize("days", ["7", "abc", "90.0", "-30"])
def test_another_number_of_days_is_a_422_with_the_message(client, login, org, days):
    account, people = org
    login(people["billing"])
    response = client.get(page(account, days=days))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Choose 30 or 90 days." in html
    assert "last 30 days" in html  # the chart is still drawn


def test_the_csv_export_streams_the_month(client, login, dbs, org):
    account, people = org
    bucket = factories.BucketFactory(account=account, name="fotos")
    add_usage(account, bucket, days=1)
    factories.UsageRecordFactory(
        account=account,
        metric="egress_gb",
        quantity=Decimal("1.25"),
        source_event_id="=cmd|' /C calc'!A0",
        period_start=datetime(2026, 10, 5, tzinfo=UTC),
        period_end=datetime(2026, 10, 5, 1, tzinfo=UTC),
    )
    other = factories.AccountFactory()
    add_usage(other, days=1, tag="other")
    login(people["billing"])
    yesterday = clock.now().astimezone(UTC) - timedelta(days=1)
    month = f"{yesterday:%Y-%m}"
    response = client.get(f"/accounts/{account.id}/billing/usage.csv?month={month}", buffered=False)
    assert response.status_code == 200 and response.is_streamed
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert f"primecloud-usage-{account.id}-{month}.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    response.close()
    assert rows[0] == list(services.CSV_HEADER)
    assert sorted(r[2] for r in rows[1:]) == ["egress_gb", "requests_get", "storage_gb_hours"]
    assert {r[1] for r in rows[1:]} == {"fotos"}
    assert all(r[0].startswith(f"a-{account.id}-") for r in rows[1:])

    october = client.get(f"/accounts/{account.id}/billing/usage.csv?month=2026-10")
    lines = list(csv.reader(io.StringIO(october.get_data(as_text=True))))
    assert lines[1][0] == "'=cmd|' /C calc'!A0"  # never a formula in a spreadsheet
    assert lines[1][3] == "1.25"


@pytest.mark.parametrize("month", ["2026-13", "26-11", "abcd-ef", "2999-01", "1999-12"])
def test_a_bad_month_is_a_422_on_the_page(client, login, org, month):
    account, people = org
    login(people["billing"])
    response = client.get(f"/accounts/{account.id}/billing/usage.csv?month={month}")
    assert response.status_code == 422
    assert "Choose a month from the list" in response.get_data(as_text=True)


def test_query_count_does_not_grow_with_usage(client, login, dbs, org, count_queries):
    account, people = org
    bucket = factories.BucketFactory(account=account, name="fotos")
    add_usage(account, bucket, days=1)
    login(people["billing"])
    with count_queries() as few:
        assert client.get(page(account, days=90)).status_code == 200
    for n in range(4):
        other = factories.BucketFactory(account=account, name=f"extra-{n}")
        add_usage(account, other, days=20, tag=f"b{n}")
    with count_queries() as many:
        html = client.get(page(account, days=90)).get_data(as_text=True)
    assert ">extra-3</a>" in html
    assert len(few) == len(many)


def test_months_and_days_read_in_the_readers_language(client, login, dbs, org):
    account, people = org
    add_usage(account, days=2)
    people["billing"].locale = "pt_BR"
    dbs.flush()
    login(people["billing"])
    html = client.get(page(account)).get_data(as_text=True)
    month = services.month_start(clock.now())
    assert f"de {month.year}" in html  # "novembro de 2026", Babel's Portuguese pattern
    assert " de " in html.split('class="chart-axis"', 5)[-1]  # the axis: "2 de dez."
