"""Notification services: sentences, keyset pages, marking read, the unread count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from portal.errors import Invalid, NotFound
from portal.models import Notification
from portal.notifications import messages, services
from tests import factories

T0 = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)

PARAMS = {
    "account_name": "Acme Ltda",
    "actor_name": "Olga",
    "member_name": "Maria",
    "role": "billing",
    "status": "suspended",  # account.status_changed
    "resource": "storage_gb",  # quota.approved, quota.rejected
    "granted": 500,
    "bucket": "fotos",  # bucket.*
    "order": 12,  # order.*, subscription.cancelled
    "product": "Armazenamento 1 TB",
    "quantity": 2,
    "number": 1042,  # invoice.*
    "period": "2026-11",
    "threshold": 90,  # usage.threshold_reached
    "used_gb": "92.5",
    "quota_gb": 100,
    "key_name": "deploy-ci",  # key.*
    "key_id": "PC0123456789ABCDEFGH",
    "expires_on": "2026-12-31",
}


@pytest.mark.parametrize("kind", list(messages.KIND_MESSAGES))
def test_each_kind_reads_as_a_complete_sentence(app_ctx, kind):
    text = messages.render(kind, PARAMS)
    assert "…" not in text and "%(" not in text and text.endswith(".")
    assert "Acme Ltda" in text


def test_quota_sentences_name_the_resource_and_its_unit(app_ctx):
    assert messages.render("quota.approved", PARAMS) == (
        "PrimeCloud approved the request for more storage (GB) in Acme Ltda: the limit is now "
        "500 GB."
    )


def test_role_names_are_translated_labels(app_ctx):
    assert messages.render("member.joined", PARAMS) == "Maria joined Acme Ltda as Billing."


@pytest.mark.parametrize(
    ("kind", "params"),
    [("no.such.kind", PARAMS), ("member.removed", {}), ("member.left", None)],
)
def test_unknown_kinds_and_missing_params_never_fail(app_ctx, kind, params):
    text = messages.render(kind, params)
    assert text and "%(" not in text


def test_a_cursor_survives_the_url():
    cursor = services.ORDER.cursor_of(
        SimpleNamespace(
            read=False, created_at=datetime(2025, 3, 10, 12, 0, 0, 123456, tzinfo=UTC), id=42
        )
    )
    assert cursor.encode() == "0.1741608000123456.42"
    assert services.ORDER.decode(cursor.encode()) == cursor


@pytest.mark.parametrize("token", ["", "x", "0.1", "2.1.1", "0.a.1", "0.1.-1", "0.1.0", "0.1e99.1"])
def test_a_malformed_cursor_is_invalid(app_ctx, token):
    with pytest.raises(Invalid):
        services.ORDER.decode(token)


@pytest.fixture
def reader(dbs):
    return factories.UserFactory()


def make(user, read=False, at=T0):
    return factories.NotificationFactory(user=user, read=read, created_at=at)


def test_pages_cross_from_unread_to_read_in_order(app_ctx, dbs, reader):
    rows = [make(reader, read=i >= 3, at=T0 - timedelta(minutes=i % 3)) for i in range(7)]
    expected = [
        r.id for r in sorted(rows, key=lambda r: (r.read, -r.created_at.timestamp(), -r.id))
    ]
    seen, after = [], None
    while True:
        page = services.list_page(reader, after, limit=2)
        seen += [r.id for r in page.rows]
        if page.next_cursor is None:
            break
        after = page.next_cursor
    assert seen == expected


def test_mark_read_is_for_the_owner_only(app_ctx, dbs, reader):
    theirs = make(factories.UserFactory())
    with pytest.raises(NotFound):
        services.mark_read(reader, theirs.id)
    with pytest.raises(NotFound):
        services.mark_read(reader, 10**12)
    mine = make(reader)
    row = services.mark_read(reader, mine.id)
    assert row.read is True and row.read_at is not None
    assert services.mark_read(reader, mine.id).read_at == row.read_at  # idempotent


def test_unread_count_and_mark_all_read(app_ctx, dbs, reader):
    for i in range(4):
        make(reader, read=i == 0)
    other = make(factories.UserFactory())
    assert services.unread_count(reader) == 3
    assert services.mark_all_read(reader) == 3
    assert services.unread_count(reader) == 0
    from portal.extensions import db

    assert db.session.get(Notification, other.id).read is False


def test_notify_adds_a_row_to_the_callers_transaction(app_ctx, dbs, reader):
    from portal.extensions import db

    row = services.notify(reader.id, "member.left", link="/x", account_name="A", member_name="B")
    db.session.flush()
    assert row.id and row.params == {"account_name": "A", "member_name": "B"}
    assert services.unread_count(reader) == 1
