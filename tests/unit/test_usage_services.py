"""The usage reads' pure parts: the export's month, month arithmetic, and the figures the
page shows (GB-months, egress, thousands of requests, costs from pricing.rate)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from portal.usage import pricing, services

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, date(2026, 11, 1)),
        ("", date(2026, 11, 1)),
        ("2026-11", date(2026, 11, 1)),
        ("2025-01", date(2025, 1, 1)),
        ("2026-12", None),  # the future
        ("2026-13", None),
        ("2026-00", None),
        ("1999-12", None),
        ("2026-1", None),
        ("2026/11", None),
        ("２０２６-11", None),  # full-width digits are not digits here
        ("2026-11-01", None),
    ],
)
def test_the_export_month(value, expected):
    assert services.parse_month(value, NOW) == expected


def test_months_add_across_years():
    assert services.add_months(date(2026, 11, 1), 2) == date(2027, 1, 1)
    assert services.add_months(date(2026, 1, 1), -12) == date(2025, 1, 1)
    assert services.month_start(NOW) == date(2026, 11, 1)


def test_figures_use_the_prices_of_configuration():
    prices = pricing.parse_prices()
    metered = {
        "storage_gb_hours": Decimal("730"),  # 1 GB-month
        "egress_gb": Decimal("0.5"),  # within the free allowance
        "requests_put": Decimal("1500"),
        "requests_get": Decimal("500"),
    }
    f = services.figures(metered)
    assert f.storage_gb_months == Decimal("1.0000") and f.egress_gb == Decimal("0.5")
    assert f.requests_thousands == Decimal("2.0000")
    assert f.storage_cost == prices.storage_gb_month.quantize(Decimal("0.01"))
    assert f.egress_cost == Decimal("0.00")
    assert f.total == sum((c.amount for c in pricing.rate(metered, prices)), Decimal(0))
    assert services.figures({}).empty and not f.empty
