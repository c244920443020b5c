"""No page of the portal links to a 404 (or fails): the demo data, crawled as its people.

`flask seed-demo` fills a database of its own with every kind of object in every state;
each person below logs in through the login form and follows every same-site link of every
page they can reach (breadth first, every page once), in both languages. A link to a page
that does not exist, or one that answers 5xx, fails the test with the page it was on.
"""

from __future__ import annotations

import re
from collections import deque
from html import unescape
from urllib.parse import urldefrag, urlsplit

import pytest

from portal.extensions import db
from portal.seed import demo
from tests.conftest import make_test_app, upgrade

HREF = re.compile(r'<a\s[^>]*?href="([^"]+)"')
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
MAX_PAGES = 400  # per person: every page of the demo data, with room to spare

PEOPLE = [
    (demo.ADMIN_EMAIL, demo.ADMIN_PASSWORD, "/admin/"),
    (demo.OWNER_EMAIL, demo.OWNER_PASSWORD, "/"),
    ("diego@example.com.br", demo.PEOPLE_PASSWORD, "/"),  # billing
    ("elisa@example.com.br", demo.PEOPLE_PASSWORD, "/"),  # viewer, member
]
# Start pages besides "/": the person's own pages, reached from the navigation too.
OWN_PAGES = ["/notifications", "/sessions", "/profile"]


@pytest.fixture(scope="module")
def demo_app(databases, smtp_server):
    controller, _ = smtp_server
    app = make_test_app(
        databases.create("links"),
        controller.port,
        RATELIMIT_ENABLED=False,
        MAIL_DELIVER_AFTER_COMMIT=False,
    )
    upgrade(app)
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    yield app
    with app.app_context():
        db.engine.dispose()


def log_in(client, email: str, password: str) -> None:
    token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302, f"{email} could not log in"


def same_site(href: str) -> str | None:
    href = urldefrag(unescape(href))[0]
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not href.startswith("/") or href.startswith("//"):
        return None
    if href.startswith("/static/"):
        return None
    return href


def crawl(client, starts: list[str]) -> tuple[int, list[str]]:
    seen = set(starts)
    queue = deque((url, "(start)") for url in starts)
    problems = []
    visited = 0
    while queue and visited < MAX_PAGES:
        url, source = queue.popleft()
        response = client.get(url, buffered=True)
        visited += 1
        if response.status_code == 404 or response.status_code >= 500:
            problems.append(f"{url} → {response.status_code} (linked from {source})")
            continue
        if response.status_code in (301, 302, 303):
            target = same_site(response.headers["Location"])
            if target and target not in seen:
                seen.add(target)
                queue.append((target, url))
            continue
        if not response.mimetype.startswith("text/html"):
            continue
        for href in HREF.findall(response.get_data(as_text=True)):
            target = same_site(href)
            if target and target not in seen:
                seen.add(target)
                queue.append((target, url))
    return visited, problems


@pytest.mark.parametrize("language", ["pt-BR", "en"])
@pytest.mark.parametrize(("email", "password", "home"), PEOPLE, ids=[p[0] for p in PEOPLE])
def test_no_link_leads_to_a_404(demo_app, email, password, home, language):
    client = demo_app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    log_in(client, email, password)
    visited, problems = crawl(client, [home, *OWN_PAGES])
    assert problems == []
    # The crawl reached the portal, not only the start pages.
    assert visited > 15
