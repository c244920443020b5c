"""A readable name for the browser and system a session was started from ("Firefox on
Linux"), from its User-Agent header. A handful of patterns cover the browsers people use;
anything else reads "Unknown browser" rather than a raw header."""

from __future__ import annotations

import re

from flask_babel import gettext

# Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
BROWSERS = (
    ("Edge", r"Edg(?:e|A|iOS)?/"),
    ("Opera", r"OPR/|Opera"),
    ("Samsung Internet", r"SamsungBrowser/"),
    ("Firefox", r"Firefox/|FxiOS/"),
    ("Chrome", r"Chrome/|CriOS/|Chromium/"),
    ("Safari", r"Safari/"),
)
SYSTEMS = (
    ("iOS", r"iPhone|iPad|iPod"),
    ("Android", r"Android"),
    ("ChromeOS", r"CrOS"),
    ("Windows", r"Windows"),
    ("macOS", r"Mac OS X|Macintosh"),
    ("Linux", r"Linux|X11"),
)


def _first(patterns, text: str) -> str | None:
    for name, pattern in patterns:
        if re.search(pattern, text):
            return name
    return None


def describe(user_agent: str | None) -> str:
    text = user_agent or ""
    browser = _first(BROWSERS, text)
    system = _first(SYSTEMS, text)
    if browser and system:
        return gettext("%(browser)s on %(system)s", browser=browser, system=system)
    if browser:
        return browser
    if system:
        return gettext("A browser on %(system)s", system=system)
    return gettext("Unknown browser")
