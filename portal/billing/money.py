"""Prices as people type them: the Brazilian way (``1.234,56``) or plain (``1234.56``).

Amounts are ``numeric(12, 2)`` in BRL: at most two decimal places, at most
9.999.999.999,99. They are shown with the ``money`` filter (pt-BR: ``R$ 1.234,56``).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask_babel import gettext

from portal.errors import Invalid

MAX_AMOUNT = Decimal("9999999999.99")
CENT = Decimal("0.01")

_DIGITS = re.compile(r"^[0-9]+$")
_GROUPED = re.compile(r"^[0-9]{1,3}(?:[.,][0-9]{3})+$")


def _integer_part(text: str, separator: str | None) -> str | None:
    """The integer part without its thousands separators, or None if they are misplaced."""
    if separator is None or separator not in text:
        return text if _DIGITS.match(text) else None
    if not _GROUPED.match(text) or any(c in text for c in ".," if c != separator):
        return None
    return text.replace(separator, "")


def parse_amount(value: str | None) -> Decimal | None:
    """``value`` as a Decimal with two places, or None if it is not an amount.

    The last separator followed by one or two digits is the decimal one; the other
    separator may group thousands (``1.234,56``, ``1,234.56``). Without decimals, dots group
    thousands (``1.234`` is one thousand two hundred and thirty-four: a price never has
    three decimal places). ``R$`` and spaces are ignored."""
    text = (value or "").strip()
    text = re.sub(r"^R\$", "", text).strip()
    text = re.sub(r"[\s\u00a0]", "", text)
    if not text or len(text) > 32:
        return None
    match = re.match(r"^(.*?)([.,])([0-9]{1,2})$", text)
    if match:
        head, decimal_separator, cents = match.groups()
        thousands = "," if decimal_separator == "." else "."
        integer = _integer_part(head, thousands) if head else "0"
        if integer is None:
            return None
        number = f"{integer}.{cents}"
    else:
        # Without decimals only the dot groups thousands ("1.234"); "1,234" could be
        # either reading, so it is refused rather than guessed.
        integer = _integer_part(text, ".")
        if integer is None:
            return None
        number = integer
    try:
        return Decimal(number).quantize(CENT)
    except InvalidOperation:
        return None


def parse_price(value: str | None, field: str = "price") -> Decimal:
    """A monthly price: an amount from 0 to 9.999.999.999,99, else Invalid on ``field``."""
    if not (value or "").strip():
        raise Invalid(gettext("Enter the monthly price."), field=field)
    amount = parse_amount(value)
    if amount is None:
        raise Invalid(
            gettext("Enter a price such as 1.234,56 or 1234.56 (at most two decimal places)."),
            field=field,
        )
    if amount > MAX_AMOUNT:
        raise Invalid(gettext("The price must be at most R$ 9.999.999.999,99."), field=field)
    return amount
