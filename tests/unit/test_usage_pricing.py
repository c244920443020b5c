"""Metered prices: units, the free egress allowance and rounding to cents, exactly."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from portal.config import ConfigError, usage_prices
from portal.usage.pricing import Prices, amount, billed_quantities, parse_prices, rate, total

PRICES = Prices(D("0.12"), D("0.08"), D("0.025"), D("0.002"))


def test_defaults_parse():
    assert parse_prices() == PRICES
    assert parse_prices("") == PRICES


def test_storage_is_billed_in_gb_months_of_730_hours():
    assert billed_quantities({"storage_gb_hours": D(730 * 100)})["storage"] == D("100.0000")
    assert billed_quantities({"storage_gb_hours": D(1)})["storage"] == D("0.0014")  # 1/730


def test_egress_up_to_the_gb_months_stored_is_free():
    stored = {"storage_gb_hours": D(730 * 100)}
    assert billed_quantities({**stored, "egress_gb": D(80)})["egress"] == D(0)
    assert billed_quantities({**stored, "egress_gb": D("150.5")})["egress"] == D("50.5000")
    assert billed_quantities({"egress_gb": D(3)})["egress"] == D("3.0000")


def test_rate_gives_exact_charges_and_leaves_zero_ones_out():
    charges = rate(
        {
            "storage_gb_hours": D(730 * 100),
            "egress_gb": D("150.5"),
            "requests_put": D(12_345),
            "requests_get": D(0),
        },
        PRICES,
    )
    assert [(c.metric, c.quantity, c.amount) for c in charges] == [
        ("storage", D("100.0000"), D("12.00")),
        ("egress", D("50.5000"), D("4.04")),
        ("requests_put", D("12.3450"), D("0.31")),  # 0.308625 → 0.31
    ]
    assert total(charges) == D("16.35")


@pytest.mark.parametrize(
    ("unit", "quantity", "expected"),
    [
        (D("0.025"), D("0.2"), D("0.01")),
        (D("0.0050"), D("1"), D("0.01")),
        (D("0.12"), D("0.0416"), D("0.00")),
    ],
)
def test_amounts_round_half_up_to_cents(unit, quantity, expected):
    # 0.005 → 0.01 (half up, as PostgreSQL's round() on numeric, which the database checks)
    assert amount(unit, quantity) == expected


@pytest.mark.parametrize(
    "value",
    [
        "storage_gb_month=0.12",
        "nope=1,storage_gb_month=1",
        "storage_gb_month=-1,egress_gb=0,requests_put_1000=0,requests_get_1000=0",
        "storage_gb_month=0.00001,egress_gb=0,requests_put_1000=0,requests_get_1000=0",
        "storage_gb_month=abc,egress_gb=0,requests_put_1000=0,requests_get_1000=0",
    ],
)
def test_bad_configuration_is_refused_with_its_reason(value):
    with pytest.raises(ConfigError, match="USAGE_PRICES"):
        usage_prices(value)
