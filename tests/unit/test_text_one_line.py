"""text.one_line: short free text on one line (payment references, reasons)."""

from __future__ import annotations

import pytest

from portal.errors import Invalid
from portal.text import one_line


def test_spaces_and_newlines_collapse():
    assert one_line("  E2E 123 \n\t 456  ", field="reference", maximum=20) == "E2E 123 456"


def test_empty_is_none_or_refused_with_the_given_message():
    assert one_line("  \n ", field="reason", maximum=10) is None
    with pytest.raises(Invalid) as refused:
        one_line(None, field="reason", maximum=10, missing="Give the reason.")
    assert (refused.value.message, refused.value.field) == ("Give the reason.", "reason")


def test_too_long_is_refused_next_to_the_field(app_ctx):
    with pytest.raises(Invalid) as refused:
        one_line("x" * 11, field="reference", maximum=10)
    assert refused.value.field == "reference" and "10" in refused.value.message
