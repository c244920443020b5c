"""/notifications: unread first, keyset pages, mark read (one, all), the badge."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select

from portal.models import Notification
from tests import factories

T0 = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
ROW_ID = re.compile(r'id="notification-(\d+)"')
NEXT = re.compile(r'href="(/notifications\?after=[^"]+)"')


def ids_in(html: str) -> list[int]:
    return [int(i) for i in ROW_ID.findall(html)]


def next_link(html: str) -> str | None:
    match = NEXT.search(html)
    return match.group(1).replace("&amp;", "&") if match else None


@pytest.fixture
def me(dbs, login):
    return login(factories.UserFactory())


def make(user, *, read=False, at=T0, **kw):
    return factories.NotificationFactory(user=user, read=read, created_at=at, **kw)


# ----------------------------------------------------------------------- ordering ---
def test_unread_come_first_then_read_newest_first_within_each(client, me, dbs):
    old_unread = make(me, at=T0 - timedelta(days=3))
    new_read = make(me, read=True, at=T0)
    new_unread = make(me, at=T0 - timedelta(hours=1))
    old_read = make(me, read=True, at=T0 - timedelta(days=5))
    make(factories.UserFactory(), at=T0)  # someone else's: never shown

    html = client.get("/notifications").get_data(as_text=True)

    assert ids_in(html) == [new_unread.id, old_unread.id, new_read.id, old_read.id]
    assert next_link(html) is None


def test_the_sentence_says_what_happened_escaped_with_its_link(client, me, dbs):
    make(
        me,
        kind="member.role_changed",
        params={"account_name": "<b>Acme</b>", "role": "admin", "actor_name": "Ana"},
        link="/accounts/1/",
    )
    html = client.get("/notifications").get_data(as_text=True)
    assert "&lt;b&gt;Acme&lt;/b&gt;" in html and "<b>Acme</b>" not in html
    assert "Ana changed your role in &lt;b&gt;Acme&lt;/b&gt; to Admin." in html
    assert 'href="/accounts/1/"' in html


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "https://evil.example/",
        "//evil.example",
        # Browsers drop tabs and newlines inside a URL and read "\\" as "/": "//evil.example".
        "/\t/evil.example",
        "/\n/evil.example",
        "/\\evil.example",
    ],
)
def test_a_link_that_is_not_a_site_path_is_not_rendered(client, me, dbs, link):
    make(me, link=link)
    html = client.get("/notifications").get_data(as_text=True)
    assert link not in html
    assert "evil.example" not in html


def test_unknown_kinds_read_as_a_generic_sentence(client, me, dbs):
    make(me, kind="something.new", params={"x": 1})
    html = client.get("/notifications").get_data(as_text=True)
    assert "You have a new notification." in html


# --------------------------------------------------------------------- pagination ---
def walk(client, first="/notifications", headers=None):
    """Follow "Load more" to the end; the ids of every page, in order."""
    pages, url = [], first
    while url:
        response = client.get(url, headers=headers or {})
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        pages.append(ids_in(html))
        url = next_link(html)
        assert len(pages) < 50
    return pages


def test_pages_with_identical_timestamps_neither_skip_nor_repeat(client, me, dbs, app, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFICATIONS_PAGE_SIZE", 3)
    # Five unread and six read rows, most of them sharing one timestamp: only the id
    # tells them apart, and page boundaries fall inside the ties and across read/unread.
    unread = [make(me, at=T0) for _ in range(4)] + [make(me, at=T0 - timedelta(seconds=1))]
    read = [make(me, read=True, at=T0) for _ in range(5)] + [
        make(me, read=True, at=T0 + timedelta(seconds=1))
    ]
    expected = (
        sorted((n.id for n in unread[:4]), reverse=True)
        + [unread[4].id]
        + [read[5].id]
        + sorted((n.id for n in read[:5]), reverse=True)
    )

    pages = walk(client)

    assert [len(p) for p in pages] == [3, 3, 3, 2]
    assert [i for p in pages for i in p] == expected


@pytest.mark.parametrize("total", [3, 4, 6])
def test_the_last_page_has_no_load_more(client, me, dbs, app, monkeypatch, total):
    monkeypatch.setitem(app.config, "NOTIFICATIONS_PAGE_SIZE", 3)
    for i in range(total):
        make(me, read=i % 2 == 0, at=T0 - timedelta(minutes=i))
    pages = walk(client)
    assert sum(len(p) for p in pages) == total
    assert len(pages) == (total + 2) // 3


def test_rows_deleted_between_page_loads_skip_nothing(client, me, dbs, app, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFICATIONS_PAGE_SIZE", 3)
    rows = [make(me, at=T0 - timedelta(minutes=i)) for i in range(8)]
    first = client.get("/notifications").get_data(as_text=True)
    assert ids_in(first) == [r.id for r in rows[:3]]
    # The row the cursor points at, and one of the next page, disappear meanwhile.
    dbs.execute(delete(Notification).where(Notification.id.in_([rows[2].id, rows[4].id])))
    dbs.commit()

    rest = walk(client, next_link(first))

    assert [i for p in rest for i in p] == [rows[3].id] + [r.id for r in rows[5:]]


def test_load_more_with_htmx_returns_only_the_next_rows(client, me, dbs, app, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFICATIONS_PAGE_SIZE", 2)
    rows = [make(me, at=T0 - timedelta(minutes=i)) for i in range(5)]
    url = next_link(client.get("/notifications").get_data(as_text=True))

    partial = client.get(url, headers={"HX-Request": "true"})
    full = client.get(url)

    html = partial.get_data(as_text=True)
    assert "<html" not in html and html.lstrip().startswith("<li")
    assert ids_in(html) == [rows[2].id, rows[3].id]
    assert 'hx-target="closest li"' in html  # the next "Load more" replaces itself
    assert "<html" in full.get_data(as_text=True)
    assert ids_in(full.get_data(as_text=True)) == [rows[2].id, rows[3].id]


@pytest.mark.parametrize(
    "after", ["nonsense", "2.1.1", "0.x.1", "1.5.0", "1.99999999999999999999.1"]
)
def test_a_broken_cursor_is_422_not_500(client, me, after):
    response = client.get(f"/notifications?after={after}")
    assert response.status_code == 422


def test_the_list_issues_a_fixed_number_of_queries(client, me, dbs, count_queries):
    def count(n):
        dbs.execute(delete(Notification).where(Notification.user_id == me.id))
        dbs.commit()
        for i in range(n):
            make(me, read=i % 3 == 0, at=T0 - timedelta(minutes=i))
        with count_queries() as queries:
            assert client.get("/notifications").status_code == 200
        return len(queries)

    assert count(3) == count(18)


# ---------------------------------------------------------------------- mark read ---
def test_mark_one_read_without_js_redirects(client, me, dbs, csrf_token):
    row = make(me)
    response = client.post(f"/notifications/{row.id}/read", data={"csrf_token": csrf_token()})
    assert response.status_code == 302
    dbs.expire_all()
    stored = dbs.get(Notification, row.id)
    assert stored.read is True and stored.read_at is not None


def test_mark_one_read_with_htmx_swaps_the_row_and_announces_the_change(
    client, me, dbs, csrf_token
):
    row = make(me)
    response = client.post(
        f"/notifications/{row.id}/read",
        data={"csrf_token": csrf_token()},
        headers={"HX-Request": "true"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "notifications-changed"
    assert html.lstrip().startswith(f'<li id="notification-{row.id}"')
    assert "is-unread" not in html and "/read" not in html


def test_someone_elses_notification_is_404_and_untouched(client, me, dbs, csrf_token):
    other = make(factories.UserFactory())
    response = client.post(f"/notifications/{other.id}/read", data={"csrf_token": csrf_token()})
    assert response.status_code == 404
    dbs.expire_all()
    assert dbs.get(Notification, other.id).read is False


@pytest.mark.parametrize("notification_id", [10**12, 2**63, 10**30])
def test_a_notification_number_out_of_range_is_404(client, me, csrf_token, notification_id):
    response = client.post(
        f"/notifications/{notification_id}/read", data={"csrf_token": csrf_token()}
    )
    assert response.status_code == 404


def test_mark_read_needs_a_csrf_token(client, me, dbs):
    row = make(me)
    assert client.post(f"/notifications/{row.id}/read").status_code == 400
    dbs.expire_all()
    assert dbs.get(Notification, row.id).read is False


@pytest.mark.parametrize("htmx", [False, True])
def test_mark_all_read_touches_only_mine(client, me, dbs, csrf_token, htmx):
    mine = [make(me, at=T0 - timedelta(minutes=i)) for i in range(3)]
    theirs = make(factories.UserFactory())
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.post(
        "/notifications/read-all", data={"csrf_token": csrf_token()}, headers=headers
    )
    dbs.expire_all()
    assert all(dbs.get(Notification, n.id).read for n in mine)
    assert dbs.get(Notification, theirs.id).read is False
    if htmx:
        assert response.status_code == 200
        assert response.headers["HX-Trigger"] == "notifications-changed"
        html = response.get_data(as_text=True)
        assert html.lstrip().startswith('<section id="notifications"')
        assert "is-unread" not in html
    else:
        assert response.status_code == 302


def test_mark_all_read_needs_a_csrf_token(client, me, dbs):
    row = make(me)
    assert client.post("/notifications/read-all").status_code == 400
    dbs.expire_all()
    assert dbs.get(Notification, row.id).read is False


# -------------------------------------------------------------------------- badge ---
def test_the_badge_counts_my_unread_notifications(client, me, dbs):
    for _ in range(3):
        make(me)
    make(me, read=True)
    make(factories.UserFactory())
    html = client.get("/notifications/badge").get_data(as_text=True)
    assert 'id="notification-badge"' in html
    assert 'href="/notifications"' in html
    assert 'hx-trigger="every 45s, notifications-changed from:body"' in html
    assert re.search(r'<span class="badge">\s*3\s*</span>', html)


def test_the_badge_after_marking_one_read(client, me, dbs, csrf_token):
    rows = [make(me) for _ in range(2)]
    client.post(f"/notifications/{rows[0].id}/read", data={"csrf_token": csrf_token()})
    html = client.get("/notifications/badge").get_data(as_text=True)
    assert re.search(r'<span class="badge">\s*1\s*</span>', html)
    assert dbs.scalar(select(Notification.read).where(Notification.id == rows[1].id)) is False
