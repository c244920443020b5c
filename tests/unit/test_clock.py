"""portal.clock: one "now" for every service, which the demo seed and tests move with
travel(); what is written while traveling carries the traveled time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal import audit, clock
from portal.audit import Action
from portal.extensions import db
from portal.notifications.services import notify


def test_now_is_aware_utc_and_not_traveling():
    before = datetime.now(UTC)
    now = clock.now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert before <= now <= datetime.now(UTC)
    assert not clock.traveling()


def test_travel_moves_now_and_comes_back():
    when = datetime(2024, 2, 29, 12, 0, tzinfo=UTC)
    with clock.travel(when):
        assert clock.traveling()
        first = clock.now()
        assert when <= first < when + timedelta(minutes=1)  # time keeps flowing from there
        assert clock.now() >= first
        with clock.travel(when - timedelta(days=30)):
            assert clock.now() < when - timedelta(days=29)
        assert when <= clock.now() < when + timedelta(minutes=1)
    assert not clock.traveling()
    assert clock.now() > when + timedelta(days=365)


def test_travel_ends_even_when_the_block_fails():
    with pytest.raises(RuntimeError), clock.travel(datetime(2024, 1, 1, tzinfo=UTC)):
        raise RuntimeError("boom")
    assert not clock.traveling()


def test_audit_rows_and_notifications_written_while_traveling_carry_that_time(app_ctx, dbs):
    from tests import factories

    person = factories.UserFactory()
    when = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)
    with clock.travel(when):
        row = audit.record(None, Action.USER_LOGGED_IN, target_type="user", target_id=person.id)
        note = notify(person.id, "member.joined", member_name="Ana")
        db.session.flush()
    outside = audit.record(None, Action.USER_LOGGED_OUT)
    db.session.flush()
    db.session.refresh(outside)
    assert when <= row.created_at < when + timedelta(minutes=1)
    assert when <= note.created_at < when + timedelta(minutes=1)
    assert outside.created_at > when + timedelta(days=365)  # the database's now()
