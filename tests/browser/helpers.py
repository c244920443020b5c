"""What every browser test uses: logging in, an axe check and full-page screenshots."""

from __future__ import annotations

import os

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical accessibility violations on the current page."""
    results = Axe().run(page)
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} node(s))"
        for v in results.response["violations"]
        if v.get("impact") in {"serious", "critical"}
    ]


def shot(page: Page, output_path: str, name: str) -> None:
    """A full-page screenshot under the test's output folder."""
    os.makedirs(output_path, exist_ok=True)
    page.screenshot(path=os.path.join(output_path, f"{name}.png"), full_page=True)


def log_in(page: Page, base: str, email: str, password: str) -> None:
    """Log in through the login form and wait for the signed-in page."""
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("form[action^='/login'] button[type=submit]")
    expect(page.locator("form[action='/logout']")).to_be_visible()
