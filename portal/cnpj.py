"""CNPJ: the Brazilian company registration number that identifies an organization.

A CNPJ is 14 characters: 12 for the company and its branch, then 2 check digits. Since July
2026 the first 12 may also be upper-case letters (the alphanumeric CNPJ); the check digits
stay numeric. People type it with or without punctuation (``12.ABC.345/01DE-35``); we store
it normalized: 14 characters, no punctuation, upper case. python-stdnum's
``stdnum.br.cnpj`` does the arithmetic for both formats.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from stdnum.br import cnpj as stdnum_cnpj
from stdnum.exceptions import InvalidChecksum, InvalidFormat, ValidationError

LENGTH = 14

MESSAGES = {
    "required": _l("Enter the organization's CNPJ."),
    "format": _l("A CNPJ has only digits and letters, with or without . / - punctuation."),
    "length": _l("A CNPJ has 14 characters (for example 11.222.333/0001-81)."),
    "checksum": _l("This CNPJ is not valid: its check digits do not match. Check for typos."),
}


class InvalidCNPJ(ValueError):
    """``reason`` is one of MESSAGES' keys; ``message`` is the sentence to show."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason

    @property
    def message(self) -> str:
        return str(MESSAGES[self.reason])


def normalize(value: str | None) -> str:
    """Remove spaces and the usual punctuation (. / -) and upper-case the letters.

    No validation: ``normalize("12.abc.345/01de-35") == "12ABC34501DE35"``."""
    if not value:
        return ""
    return stdnum_cnpj.compact("".join(value.split()))


def validate(value: str | None) -> str:
    """The normalized CNPJ, or :class:`InvalidCNPJ` saying what is wrong with it."""
    number = normalize(value)
    if not number:
        raise InvalidCNPJ("required")
    if not (number.isascii() and number.isalnum()):
        raise InvalidCNPJ("format")
    if len(number) != LENGTH:
        raise InvalidCNPJ("length")
    try:
        return stdnum_cnpj.validate(number)
    except (InvalidChecksum, InvalidFormat, ValidationError):
        # Right characters, right length: what is left is a number no CNPJ can have
        # (wrong check digits, letters in the check digits, twelve zeros).
        raise InvalidCNPJ("checksum") from None
