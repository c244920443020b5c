"""A person signs up, logs out, logs back in and switches language, in Chromium."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import serious_violations, shot

PASSWORD = "uma senha longa e boa"


def current_language(page: Page):
    return page.locator(".language-form button[aria-current='true']")


@pytest.mark.browser
def test_signup_logout_login_and_language(live_server, page: Page, output_path):
    email = f"jornada-{uuid.uuid4().hex[:10]}@example.com"
    page.set_extra_http_headers({"Accept-Language": "pt-BR,pt;q=0.9"})

    # Sign up (pt-BR, the default language).
    page.goto(f"{live_server.url}/signup")
    expect(page.locator("html")).to_have_attribute("lang", "pt-BR")
    assert serious_violations(page) == []
    shot(page, output_path, "01-signup")

    # A bad password first: the message appears next to the field, nothing else changes.
    page.fill("input[name=name]", "Joana Jornada")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", "curta")
    page.click("form[action='/signup'] button[type=submit]")
    expect(page.locator("#password-error")).to_be_visible()
    expect(page.locator("input[name=password]")).to_have_attribute("aria-invalid", "true")
    shot(page, output_path, "02-signup-error")

    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/signup'] button[type=submit]")
    expect(page.locator("form[action='/logout']")).to_be_visible()
    shot(page, output_path, "03-signed-up")

    # Log out.
    page.click("form[action='/logout'] button[type=submit]")
    expect(page).to_have_url(f"{live_server.url}/login")
    expect(page.locator("form[action='/logout']")).to_have_count(0)
    expect(page.locator(".flash")).to_be_visible()
    assert serious_violations(page) == []
    shot(page, output_path, "04-login")

    # A wrong password: the form says so without saying which part.
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", "nao e a senha certa")
    page.click("form[action='/login'] button[type=submit]")
    expect(page.locator(".form-errors")).to_be_visible()
    assert serious_violations(page) == []
    shot(page, output_path, "05-login-failed")

    # Log in.
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.check("input[name=remember]")
    page.click("form[action='/login'] button[type=submit]")
    expect(page.locator("form[action='/logout']")).to_be_visible()
    remember = [c for c in page.context.cookies() if c["name"] == "remember_token"]
    assert remember and remember[0]["httpOnly"]
    shot(page, output_path, "06-logged-in")

    # Switch to English and back to Portuguese.
    expect(current_language(page)).to_have_attribute("value", "pt_BR")
    page.click(".language-form button[value=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(current_language(page)).to_have_attribute("value", "en")
    shot(page, output_path, "07-english")

    page.click(".language-form button[value=pt_BR]")
    expect(page.locator("html")).to_have_attribute("lang", "pt-BR")
    expect(current_language(page)).to_have_attribute("value", "pt_BR")
    shot(page, output_path, "08-portugues")


@pytest.mark.browser
@pytest.mark.parametrize("path", ["/signup", "/login", "/password/forgot"])
def test_auth_pages_have_no_serious_accessibility_violations(live_server, page: Page, path):
    page.goto(f"{live_server.url}{path}")
    expect(page.locator("main h1")).to_be_visible()
    assert serious_violations(page) == []
