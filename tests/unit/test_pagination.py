"""portal.pagination: cursors that survive a URL, keyset pages that never skip nor repeat a
row at any depth (uniform and mixed orders), and the list form's links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select
from wtforms import HiddenField, StringField
from wtforms.validators import AnyOf, Optional

from portal.errors import Invalid
from portal.extensions import db
from portal.models import Account, AuditLog, Notification
from portal.pagination import Cursor, Key, Keyset, ListForm, Page
from tests import factories

T0 = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
NOT_VALID = "This page link is not valid."

# One key of each kind a cursor codes: time, boolean, text, id.
EVERY_KIND = Keyset(
    Key(AuditLog.created_at),
    Key(Notification.read, desc=False),
    Key(Account.name, desc=False),
    Key(AuditLog.id),
)


def values(created_at, read, name, row_id):
    return SimpleNamespace(created_at=created_at, read=read, name=name, id=row_id)


# ------------------------------------------------------------------------ cursors ---
@pytest.mark.parametrize(
    "row",
    [
        values(T0, False, "Acme Ltda", 1),
        values(T0 + timedelta(microseconds=123456), True, "", 2**63 - 1),
        values(datetime(1969, 12, 31, 23, 59, tzinfo=UTC), True, "Ação & Cia. Ltda", 7),
        values(T0, False, "a.b-c_d/e?f=g&h", 42),
        values(T0, False, "-", 3),
        values(T0, True, "名前 🙂", 4),
    ],
    ids=["plain", "empty-name-max-id", "before-1970-accents", "url-characters", "dash", "utf8"],
)
def test_a_cursor_survives_the_url(row):
    cursor = EVERY_KIND.cursor_of(row)
    token = cursor.encode()
    assert str(cursor) == token
    # Safe in a query string as it is: no character needs escaping.
    assert all(c.isalnum() or c in "-_." for c in token)
    assert token.count(".") == 3
    decoded = EVERY_KIND.decode(token)
    assert decoded == cursor
    assert decoded.values == (row.created_at, row.read, row.name, row.id)


def test_a_cursor_keeps_the_instant_to_the_microsecond():
    keyset = Keyset(Key(AuditLog.created_at), Key(AuditLog.id))
    at = datetime(2025, 3, 10, 12, 0, 0, 123456, tzinfo=UTC)
    assert keyset.cursor_of(SimpleNamespace(created_at=at, id=9)).encode() == "1741608000123456.9"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "x",
        "1.0.QQ",  # one part missing
        "1.0.QQ.5.6",  # one too many
        "a.0.QQ.5",  # the time is not a number
        "1e99.0.QQ.5",
        "1.2.QQ.5",  # a boolean is 0 or 1
        "1.true.QQ.5",
        "1.0.QQ.0",  # ids start at 1
        "1.0.QQ.-3",
        f"1.0.QQ.{2**63}",  # beyond bigint
        "1.0.QQ.x",
        "1.0.!!.5",  # not base64
        "1.0._w.5",  # base64 of a byte that is not UTF-8
        f"{10**20}.0.QQ.5",  # a time beyond any calendar
    ],
)
def test_a_malformed_cursor_is_invalid_on_its_field(app_ctx, token):
    with pytest.raises(Invalid) as caught:
        EVERY_KIND.decode(token, field="after")
    assert caught.value.message == NOT_VALID
    assert caught.value.field == "after"


def test_a_column_the_cursor_cannot_code_is_refused_early():
    from portal.models import Bucket

    with pytest.raises(TypeError, match="no cursor coding"):
        Keyset(Key(Bucket.lifecycle_rules))
    with pytest.raises(ValueError, match="at least one column"):
        Keyset()


# -------------------------------------------------------------------------- pages ---
def walk(keyset: Keyset, stmt, limit: int) -> list[Page]:
    """Every page of ``stmt``, following next cursors as a browser would (through the
    URL: encoded, then decoded)."""
    pages, cursor = [], None
    while True:
        page = keyset.page(stmt, cursor, limit)
        pages.append(page)
        assert len(pages) < 1000, "the pages never end"
        if page.next_cursor is None:
            return pages
        cursor = keyset.decode(page.next_cursor.encode())


def ids_of(rows) -> list[int]:
    return [row.id for row in rows]


def assert_pages_cover(keyset: Keyset, stmt, limit: int) -> None:
    everything = ids_of(db.session.execute(stmt.order_by(*keyset.order_by())).scalars())
    pages = walk(keyset, stmt, limit)
    seen = [row_id for page in pages for row_id in ids_of(page)]
    assert seen == everything  # in order, none skipped, none repeated
    assert all(len(page) == limit for page in pages[:-1])
    assert 0 < len(pages[-1]) <= limit or everything == []
    assert pages[-1].next_cursor is None
    assert all(page.next_cursor is not None for page in pages[:-1])


@pytest.fixture
def audit_rows(app_ctx, dbs):
    """25 rows of one account at 4 instants (ties broken by id), and another account's."""
    account = factories.AccountFactory()
    for i in range(25):
        factories.AuditLogFactory(account=account, created_at=T0 - timedelta(hours=i % 4))
    factories.AuditLogFactory(account=factories.AccountFactory(), created_at=T0)
    return select(AuditLog).where(AuditLog.account_id == account.id)


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 24, 25, 26, 100])
def test_a_uniform_order_pages_through_every_row_once(audit_rows, limit):
    keyset = Keyset(Key(AuditLog.created_at), Key(AuditLog.id))
    assert_pages_cover(keyset, audit_rows, limit)


@pytest.fixture
def notification_rows(app_ctx, dbs):
    """30 notifications of one person, read and unread, with equal times."""
    reader = factories.UserFactory()
    for i in range(30):
        factories.NotificationFactory(
            user=reader, read=i % 3 == 0, created_at=T0 - timedelta(minutes=i % 5)
        )
    factories.NotificationFactory(user=factories.UserFactory(), created_at=T0)
    return select(Notification).where(Notification.user_id == reader.id)


@pytest.mark.parametrize("limit", [1, 2, 4, 9, 10, 11, 29, 30, 50])
def test_a_mixed_order_pages_through_every_row_once(notification_rows, limit):
    """Unread first (read ascending), then newest first: a UNION ALL per page."""
    keyset = Keyset(
        Key(Notification.read, desc=False), Key(Notification.created_at), Key(Notification.id)
    )
    assert len(keyset.segments(notification_rows, None, limit)) == 1
    cursor = keyset.cursor_of(SimpleNamespace(read=False, created_at=T0, id=1))
    assert len(keyset.segments(notification_rows, cursor, limit)) == 2
    assert_pages_cover(keyset, notification_rows, limit)


@pytest.mark.parametrize("limit", [1, 3, 5])
def test_a_text_key_pages_in_the_databases_order(app_ctx, dbs, limit):
    names = ["Ação Ltda", "acme Ltda", "Acme Ltda", "Zeta S.A.", "Beta-2 Eireli", "Ômega Ltda"]
    for name in names:
        factories.AccountFactory(name=f"Páginas {name}")
    stmt = select(Account).where(Account.name.startswith("Páginas "))
    keyset = Keyset(Key(Account.name, desc=False), Key(Account.id, desc=False))
    assert_pages_cover(keyset, stmt, limit)


def test_rows_that_are_not_objects_page_too(audit_rows, app_ctx):
    """A statement of columns (the audit log's) pages the same."""
    keyset = Keyset(Key(AuditLog.created_at), Key(AuditLog.id))
    columns = select(AuditLog.id, AuditLog.created_at).where(audit_rows.whereclause)
    first = keyset.page(columns, None, 10)
    second = keyset.page(columns, first.next_cursor, 10)
    assert len(first) == len(second) == 10
    assert not set(ids_of(first)) & set(ids_of(second))
    assert ids_of(first) + ids_of(second) == ids_of(keyset.page(columns, None, 20))


def test_an_empty_list_is_one_empty_page(app_ctx, dbs):
    keyset = Keyset(Key(AuditLog.created_at), Key(AuditLog.id))
    page = keyset.page(select(AuditLog).where(AuditLog.id < 0), None, 10)
    assert page.rows == [] and page.next_cursor is None
    assert bool(page) and len(page) == 0


def test_iterate_reads_every_row_in_batches(audit_rows, count_queries):
    keyset = Keyset(Key(AuditLog.created_at), Key(AuditLog.id))
    with count_queries() as queries:
        rows = list(keyset.iterate(audit_rows, batch=10))
    assert ids_of(rows) == ids_of(keyset.page(audit_rows, None, 100))
    assert len(queries) == 3  # 10 + 10 + 5


# ---------------------------------------------------------------------- the form ---
class Filters(ListForm):
    q = StringField()
    status = StringField(validators=[Optional(), AnyOf(["active", "suspended"])])
    keyset = Keyset(Key(AuditLog.created_at), Key(AuditLog.id))


class AfterFilters(Filters):
    before = HiddenField(name="after")


CURSOR = Cursor((T0, 7), ("ts", "int"))


def form_for(app, query: str, form_class=Filters):
    with app.test_request_context(f"/list?{query}", headers={"Accept-Language": "en"}):
        from flask import request

        form = form_class(formdata=request.args)
        ok, cursor = form.parse()
        return form, ok, cursor


def test_the_form_gives_its_filters_and_cursor(app):
    form, ok, cursor = form_for(app, f"q=+acme+&status=active&before={CURSOR.encode()}")
    assert ok and cursor == CURSOR
    assert form.query_args() == {"q": "acme", "status": "active"}
    links = form.links("/list", Page([], Cursor((T0, 3), ("ts", "int"))))
    assert links.next_url == f"/list?q=acme&status=active&before={T0_TOKEN}.3"
    assert links.newest_url == "/list?q=acme&status=active"
    assert links.filtered and links.paged
    assert links.with_args("/list.csv") == "/list.csv?q=acme&status=active"


T0_TOKEN = "1741608000000000"


def test_an_unfiltered_first_page(app):
    form, ok, cursor = form_for(app, "")
    assert ok and cursor is None
    assert form.query_args() == {}
    last = form.links("/list", Page([], None))
    assert last.next_url is None and last.newest_url == "/list"
    assert not last.filtered and not last.paged
    assert last.with_args("/list.csv") == "/list.csv"
    assert form.links("/list", None).next_url is None  # the form did not validate


def test_a_malformed_cursor_is_an_error_on_its_field(app):
    form, ok, cursor = form_for(app, "q=acme&before=nonsense")
    assert not ok and cursor is None
    assert form.before.errors == [NOT_VALID]


def test_a_list_may_call_its_cursor_something_else(app):
    form, ok, cursor = form_for(app, f"after={CURSOR.encode()}", AfterFilters)
    assert ok and cursor == CURSOR
    links = form.links("/list", Page([], CURSOR))
    assert links.next_url == f"/list?after={CURSOR.encode()}"
    bad, ok, _ = form_for(app, "after=x", AfterFilters)
    assert not ok and bad.before.errors == [NOT_VALID]


def test_a_bad_filter_fails_the_form_but_not_the_cursor(app):
    form, ok, cursor = form_for(app, f"status=nope&before={CURSOR.encode()}")
    assert not ok and cursor == CURSOR
    assert form.status.errors
