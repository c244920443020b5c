"""Two people creating access keys at the same moment, through the service, each on its own
connection and thread with real commits: the last key the ceiling allows goes to one of
them only (the service locks the account row before counting), and the other is told
why."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import func, select

from portal.accounts.services import create_account, set_status
from portal.errors import Invalid
from portal.extensions import db
from portal.keys import services
from portal.models import AccessKey, AccountMember, User
from tests.conftest import make_test_app, upgrade
from tests.factories import make_cnpj

RACES = 8


@pytest.fixture(scope="module")
def race_app(databases, smtp_server):
    controller, _ = smtp_server
    app = make_test_app(databases.create("key_race"), controller.port)
    upgrade(app)
    yield app
    with app.app_context():
        db.engine.dispose()


def _organization(app, ceiling: int, people: int = 2) -> tuple[int, list[int]]:
    """An active organization whose ``people`` members may create keys."""
    with app.app_context():
        users = [
            User(email=f"k{i}-{uuid.uuid4().hex[:8]}@example.com", name=f"K{i}", password_hash="x")
            for i in range(people)
        ]
        db.session.add_all(users)
        db.session.flush()
        account = create_account(users[0], "Chaves Ltda", make_cnpj(uuid.uuid4().int % 10**8))
        for user in users[1:]:
            db.session.add(AccountMember(account_id=account.id, user_id=user.id, role="member"))
        for status in ("approved", "active"):
            set_status(account, status)
            db.session.flush()
        account.quota_access_keys = ceiling
        db.session.commit()
        ids = account.id, [u.id for u in users]
        db.session.remove()
    return ids


def _race(app, account_id: int, user_ids: list[int]) -> list[str]:
    barrier = threading.Barrier(len(user_ids), timeout=10)
    outcomes: dict[int, str] = {}

    def work(index: int) -> None:
        with app.test_request_context(headers={"Accept-Language": "en"}):
            try:
                user = db.session.get(User, user_ids[index])
                barrier.wait()
                services.create_key(user, account_id, f"chave {index}")
                db.session.commit()
                outcomes[index] = "created"
            except Invalid as exc:
                db.session.rollback()
                outcomes[index] = exc.message
            finally:
                db.session.remove()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(user_ids))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return [outcomes.get(i, "no outcome") for i in range(len(user_ids))]


def _active_keys(app, account_id: int) -> int:
    with app.app_context():
        count = db.session.scalar(
            select(func.count())
            .select_from(AccessKey)
            .where(AccessKey.account_id == account_id, AccessKey.status == "active")
        )
        db.session.remove()
    return count


def test_the_last_key_the_ceiling_allows_goes_to_one_person(race_app):
    for _ in range(RACES):
        account_id, people = _organization(race_app, ceiling=1)
        outcomes = _race(race_app, account_id, people)
        assert sorted(outcomes) == [
            "This organization has reached its limit of 1 active access key.",
            "created",
        ]
        assert _active_keys(race_app, account_id) == 1


def test_many_at_once_never_exceed_the_ceiling(race_app):
    account_id, people = _organization(race_app, ceiling=3, people=6)
    outcomes = _race(race_app, account_id, people)
    assert outcomes.count("created") == 3
    assert _active_keys(race_app, account_id) == 3
