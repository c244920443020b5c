"""Browser-test fixtures."""

from __future__ import annotations

import pytest


@pytest.fixture
def new_context(browser):
    """``new_context(**options)``: a browser context that is closed after the test, even when
    the test fails — a page left open keeps polling the live server (the unread badge)."""
    opened = []

    def make(**options):
        context = browser.new_context(**options)
        opened.append(context)
        return context

    yield make
    for context in opened:
        context.close()
