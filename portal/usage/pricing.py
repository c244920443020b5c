"""What metered usage costs: the one place that turns usage totals into charges, for the
billing page ("what this month will cost at today's prices") and for invoices alike.

Prices come from configuration (``USAGE_PRICES``), not from a table: they are a tariff
set by finance per deployment, they change rarely and together, and an invoice line keeps
the unit price it was issued with, so a past invoice never changes when they do. Defaults
(BRL): storage R$ 0,12 per GB-month, egress R$ 0,08 per GB beyond a free allowance equal to
the GB-months stored (as Wasabi does), PUT requests R$ 0,025 and GET requests R$ 0,002 per
1,000.

Units: storage is metered in GB-hours and billed in GB-months of 730 hours (the average
month, as AWS bills); egress in GB; requests one by one, billed per 1,000.

Rounding, stated once: quantities are rounded to 4 decimal places (``invoice_lines.quantity``
is numeric(14,4)) and each amount to cents, half up, as ``round(unit_price * quantity, 2)`` —
exactly the rule the database checks on every invoice line (``amount_matches``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask import current_app, has_app_context

HOURS_PER_MONTH = Decimal(730)
QUANTITY = Decimal("0.0001")
CENT = Decimal("0.01")
METRICS = ("storage_gb_hours", "egress_gb", "requests_put", "requests_get")

DEFAULT_PRICES = (
    "storage_gb_month=0.12,egress_gb=0.08,requests_put_1000=0.025,requests_get_1000=0.002"
)


class PricesError(ValueError):
    """``USAGE_PRICES`` cannot be read."""


@dataclass(frozen=True)
class Prices:
    storage_gb_month: Decimal
    egress_gb: Decimal
    requests_put_1000: Decimal
    requests_get_1000: Decimal


def parse_prices(value: str | None = None) -> Prices:
    """``USAGE_PRICES`` ("name=price,…"; every name of :class:`Prices`, prices ≥ 0 with at
    most 4 decimal places, as ``invoice_lines.unit_price`` holds them)."""
    text = value if value and value.strip() else DEFAULT_PRICES
    found: dict[str, Decimal] = {}
    for part in text.split(","):
        name, _, price = part.partition("=")
        name = name.strip()
        if name not in Prices.__dataclass_fields__:
            raise PricesError(f"USAGE_PRICES: {name!r} is not a price name.")
        try:
            amount = Decimal(price.strip())
        except InvalidOperation:
            raise PricesError(f"USAGE_PRICES: {price.strip()!r} is not a price.") from None
        if not amount.is_finite() or amount < 0 or amount != amount.quantize(QUANTITY):
            raise PricesError(f"USAGE_PRICES: {name} must be ≥ 0 with at most 4 decimal places.")
        found[name] = amount
    missing = set(Prices.__dataclass_fields__) - set(found)
    if missing:
        raise PricesError(f"USAGE_PRICES: missing {', '.join(sorted(missing))}.")
    return Prices(**found)


def current() -> Prices:
    """Today's prices (the app's configuration; the defaults outside an app)."""
    if has_app_context():
        return current_app.config["USAGE_PRICES"]
    return parse_prices()


@dataclass(frozen=True)
class Charge:
    """One metered charge: ``quantity`` in the billed unit times ``unit_price``."""

    metric: str  # storage | egress | requests_put | requests_get
    quantity: Decimal  # GB-months, GB beyond the allowance, thousands of requests
    unit_price: Decimal
    amount: Decimal


def amount(unit_price: Decimal, quantity: Decimal) -> Decimal:
    """``round(unit_price * quantity, 2)``, half up: the database's own rule."""
    return (unit_price * quantity).quantize(CENT, rounding=ROUND_HALF_UP)


def _q(value: Decimal) -> Decimal:
    return Decimal(value).quantize(QUANTITY, rounding=ROUND_HALF_UP)


def billed_quantities(totals: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Metered totals (``METRICS`` → summed quantity) in billed units, rounded to 4 places:
    storage in GB-months; egress in GB beyond the free allowance (the GB-months stored);
    requests in thousands."""
    zero = Decimal(0)
    gb_months = _q(Decimal(totals.get("storage_gb_hours", zero)) / HOURS_PER_MONTH)
    egress = Decimal(totals.get("egress_gb", zero))
    return {
        "storage": gb_months,
        "egress": _q(max(egress - gb_months, zero)),
        "requests_put": _q(Decimal(totals.get("requests_put", zero)) / 1000),
        "requests_get": _q(Decimal(totals.get("requests_get", zero)) / 1000),
    }


def rate(totals: Mapping[str, Decimal], prices: Prices | None = None) -> list[Charge]:
    """The charges for metered totals, in a fixed order (storage, egress, PUT, GET); a
    charge whose quantity is zero is left out."""
    prices = prices or current()
    unit = {
        "storage": prices.storage_gb_month,
        "egress": prices.egress_gb,
        "requests_put": prices.requests_put_1000,
        "requests_get": prices.requests_get_1000,
    }
    charges = []
    for metric, quantity in billed_quantities(totals).items():
        if quantity > 0:
            charges.append(Charge(metric, quantity, unit[metric], amount(unit[metric], quantity)))
    return charges


def total(charges: list[Charge]) -> Decimal:
    return sum((c.amount for c in charges), Decimal("0.00"))
