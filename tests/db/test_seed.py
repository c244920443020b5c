"""`flask seed-demo` fills every table through the services and the database's rules, with
every date in the past and relative to now, and is idempotent."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from portal import crypto, states
from portal.extensions import db
from portal.models.base import Base
from tests.conftest import make_test_app, upgrade
from tests.db.conftest import libpq_url

EVERY_STATE = {
    "SELECT DISTINCT status FROM accounts": {"pending", "approved", "active", "suspended"},
    "SELECT DISTINCT role FROM account_members": {"owner", "admin", "member", "billing", "viewer"},
    "SELECT DISTINCT versioning FROM buckets": {"unversioned", "enabled", "suspended"},
    "SELECT DISTINCT status FROM access_keys": {"active", "inactive", "revoked"},
    "SELECT DISTINCT status FROM orders": {"pending", "paid", "fulfilled", "cancelled"},
    "SELECT DISTINCT status FROM subscriptions": {"active", "cancelled"},
    "SELECT DISTINCT status FROM invoices": {"draft", "open", "paid", "void"},
    "SELECT DISTINCT status FROM quota_requests": {"pending", "approved", "rejected"},
    "SELECT DISTINCT read::text FROM notifications": {"true", "false"},
    "SELECT DISTINCT CASE WHEN accepted_at IS NOT NULL THEN 'accepted' "
    "WHEN revoked_at IS NOT NULL THEN 'revoked' ELSE 'pending' END FROM invitations": {
        "pending",
        "accepted",
        "revoked",
    },
}


@pytest.fixture(scope="module")
def seeded(databases):
    url = databases.create("seed")
    app = make_test_app(url, smtp_port=1)
    upgrade(app)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    counts_after_first = _counts(url)
    second = runner.invoke(args=["seed-demo"])
    yield app, url, first, second, counts_after_first
    with app.app_context():
        db.engine.dispose()


def _counts(url: str) -> dict[str, int]:
    with psycopg.connect(libpq_url(url)) as connection:
        return {
            table: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            for table in sorted(Base.metadata.tables)
        }


def test_the_first_run_fills_every_table(seeded):
    _app, _url, first, _second, counts = seeded
    assert first.exit_code == 0, first.output
    assert [table for table, n in counts.items() if n == 0] == []
    assert "Demo logins: admin@primecloud.com.br / " in first.output
    assert "ana@example.com.br / " in first.output


def test_the_second_run_changes_nothing(seeded):
    _app, url, _first, second, counts = seeded
    assert second.exit_code == 0, second.output
    assert "nothing changed" in second.output
    assert "Demo logins:" in second.output
    assert _counts(url) == counts


@pytest.mark.parametrize("sql", list(EVERY_STATE), ids=lambda s: s.split("FROM ")[-1])
def test_every_state_is_represented(seeded, sql):
    _app, url, *_ = seeded
    with psycopg.connect(libpq_url(url)) as connection:
        found = {row[0] for row in connection.execute(sql)}
    assert EVERY_STATE[sql] <= found


def test_demo_logins_work_and_secrets_are_sealed(seeded):
    app, url, *_ = seeded
    from portal.models import AccessKey, User
    from portal.seed import demo as seed
    from portal.users.services import check_password

    with app.app_context():
        admin = db.session.scalar(db.select(User).filter_by(email=seed.ADMIN_EMAIL))
        owner = db.session.scalar(db.select(User).filter_by(email=seed.OWNER_EMAIL))
        assert admin.is_platform_admin and check_password(admin, seed.ADMIN_PASSWORD)
        assert not owner.is_platform_admin and check_password(owner, seed.OWNER_PASSWORD)
        for key in db.session.scalars(db.select(AccessKey)):
            secret = crypto.unseal(key.secret_ciphertext)
            assert len(secret) == 40 and secret not in key.secret_ciphertext
        db.session.remove()


def test_the_quota_approval_and_first_subscription_went_through_the_triggers(seeded):
    _app, url, *_ = seeded
    with psycopg.connect(libpq_url(url)) as connection:
        quota = connection.execute(
            "SELECT a.quota_buckets FROM accounts a JOIN quota_requests q ON q.account_id = a.id "
            "WHERE q.status = 'approved' AND q.resource = 'buckets'"
        ).fetchone()
        estrela = connection.execute(
            "SELECT status FROM accounts WHERE name = 'Estrela Mídia Digital Ltda'"
        ).fetchone()
    assert quota == (25,)
    assert estrela == ("active",)


# Times that may lie ahead (deadlines, not events): everything else happened already.
FUTURE_ALLOWED = {"expires_at", "current_period_end", "next_attempt_at"}


def _timestamp_columns() -> list[tuple[str, str]]:
    return [
        (table.name, column.name)
        for table in sorted(Base.metadata.tables.values(), key=lambda t: t.name)
        for column in table.columns
        if getattr(column.type, "timezone", False) and column.name not in FUTURE_ALLOWED
    ]


def test_nothing_is_dated_in_the_future(seeded):
    _app, url, *_ = seeded
    with psycopg.connect(libpq_url(url)) as connection:
        late = {
            f"{table}.{column}": n
            for table, column in _timestamp_columns()
            if (
                n := connection.execute(
                    f'SELECT count(*) FROM "{table}" WHERE "{column}" > now()'
                ).fetchone()[0]
            )
        }
    assert late == {}
    assert ("audit_logs", "created_at") in _timestamp_columns()
    assert ("notifications", "created_at") in _timestamp_columns()


def test_dates_are_counted_back_from_now(seeded):
    """The newest event is recent and the oldest organization months old, whenever the
    seed runs (nothing is fixed at import)."""
    _app, url, *_ = seeded
    with psycopg.connect(libpq_url(url)) as connection:
        newest, oldest = connection.execute(
            "SELECT max(created_at), min(created_at) FROM audit_logs"
        ).fetchone()
        accounts = connection.execute("SELECT min(created_at) FROM accounts").fetchone()[0]
    now = datetime.now(UTC)
    assert now - timedelta(days=2) < newest <= now
    assert oldest < now - timedelta(days=100)
    assert accounts < now - timedelta(days=100)


def test_every_account_status_was_reached_through_allowed_moves(seeded):
    """Each organization's audit trail starts with its creation, then replays moves of
    portal.states.ACCOUNT from 'pending' to the status it has, each dated with the column
    the move sets."""
    _app, url, *_ = seeded
    with psycopg.connect(libpq_url(url)) as connection:
        accounts = connection.execute(
            "SELECT id, status, created_at, approved_at, activated_at, suspended_at "
            "FROM accounts ORDER BY id"
        ).fetchall()
        trail = connection.execute(
            "SELECT target_id::bigint, action, details, created_at FROM audit_logs "
            "WHERE target_type = 'account' ORDER BY created_at, id"
        ).fetchall()
    assert len(accounts) == 5
    for account_id, status, created_at, *moved_at in accounts:
        rows = [r for r in trail if r[0] == account_id]
        assert rows[0][1] == "account.created"
        assert abs(rows[0][3] - created_at) < timedelta(seconds=5)
        state, dated = "pending", {}
        for _id, action, details, at in rows[1:]:
            assert action == "account.status_changed"
            assert details["from"] == state
            assert (state, details["to"]) in states.ACCOUNT.edges()
            state = details["to"]
            dated.setdefault(state, at)
        assert state == status
        for name, column_value in zip(("approved", "active", "suspended"), moved_at, strict=True):
            if name in dated:
                assert abs(dated[name] - column_value) < timedelta(seconds=5), name


def test_people_are_told_and_read_what_happened(seeded):
    """Every notification comes from an event (an audit row of its domain — a versioning
    change notifies "bucket.versioning_enabled" for "bucket.versioning_changed" —, at its
    moment); the old ones were read a day later, the recent ones wait."""
    _app, url, *_ = seeded
    with psycopg.connect(libpq_url(url)) as connection:
        rows = connection.execute(
            "SELECT n.read, n.read_at - n.created_at, n.created_at FROM notifications n"
        ).fetchall()
        from_events = connection.execute(
            "SELECT count(DISTINCT n.id) FROM notifications n JOIN audit_logs a "
            "ON split_part(a.action, '.', 1) = split_part(n.kind, '.', 1) "
            "AND a.account_id = n.account_id "
            "AND abs(extract(epoch FROM a.created_at - n.created_at)) < 1"
        ).fetchone()[0]
    assert from_events == len(rows)
    now = datetime.now(UTC)
    for read, delay, created_at in rows:
        if read:
            assert timedelta(days=1) <= delay < timedelta(days=1, seconds=5)
        else:
            assert created_at > now - timedelta(days=21)
    assert {read for read, *_ in rows} == {True, False}


def test_the_demo_emails_carry_working_links(seeded):
    """The invitation emails were queued by the invitations service: the link of the one
    still pending opens its landing page."""
    app, url, *_ = seeded
    with psycopg.connect(libpq_url(url)) as connection:
        body = connection.execute(
            "SELECT body_text FROM email_outbox WHERE to_address = 'joao@example.com.br'"
        ).fetchone()[0]
    path = re.search(r"/invitations/[A-Za-z0-9_-]+", body).group(0)
    response = app.test_client().get(path, headers={"Accept-Language": "pt-BR"})
    assert response.status_code == 200
    assert "Ana Tecnologia Ltda" in response.get_data(as_text=True)


def test_the_owner_lands_on_her_company(seeded):
    app, *_ = seeded
    from portal.accounts.services import home_account_id
    from portal.models import Account, User
    from portal.seed import demo

    with app.app_context():
        ana = db.session.scalar(db.select(User).filter_by(email=demo.OWNER_EMAIL))
        home = db.session.get(Account, home_account_id(ana))
        assert home.name == "Ana Tecnologia Ltda"
        assert ana.last_login_at is not None
        db.session.remove()


def test_a_demo_key_is_last_used_as_the_usage_import_says(seeded):
    """deploy-ci's "last used" comes from the demo usage file's events that name it: the
    end of yesterday's period (UTC midnight today)."""
    _app, url, *_ = seeded
    with psycopg.connect(libpq_url(url)) as connection:
        used = connection.execute(
            "SELECT last_used_at FROM access_keys WHERE name = 'deploy-ci'"
        ).fetchone()[0]
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    assert used is not None and today - timedelta(days=1) <= used <= today
