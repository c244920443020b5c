"""`flask seed-demo` fills every table through the database's rules, and is idempotent."""

from __future__ import annotations

import psycopg
import pytest

from portal import crypto
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
    from portal import seed
    from portal.models import AccessKey, User
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
