"""Two people creating buckets at the same moment, through the service, each on its own
connection and thread with real commits: the same name gives one bucket and one clear
message; the last bucket the quota allows goes to one of them only."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import func, select

from portal.accounts.services import create_account, set_status
from portal.buckets import services
from portal.errors import Invalid
from portal.extensions import db
from portal.models import Account, AccountMember, Bucket, User
from tests.conftest import make_test_app, upgrade
from tests.factories import make_cnpj

RACES = 8


@pytest.fixture(scope="module")
def race_app(databases, smtp_server):
    controller, _ = smtp_server
    app = make_test_app(databases.create("bucket_race"), controller.port)
    upgrade(app)
    yield app
    with app.app_context():
        db.engine.dispose()


def _organization(app, quota: int = 10) -> tuple[int, list[int]]:
    """An active organization with two members who may create buckets."""
    with app.app_context():
        people = [
            User(email=f"p{i}-{uuid.uuid4().hex[:8]}@example.com", name=f"P{i}", password_hash="x")
            for i in range(2)
        ]
        db.session.add_all(people)
        db.session.flush()
        account = create_account(people[0], "Corrida Ltda", make_cnpj(uuid.uuid4().int % 10**8))
        db.session.add(AccountMember(account_id=account.id, user_id=people[1].id, role="member"))
        for status in ("approved", "active"):
            set_status(account, status)
            db.session.flush()
        account.quota_buckets = quota
        db.session.commit()
        ids = account.id, [p.id for p in people]
        db.session.remove()
    return ids


def _race(app, account_id: int, user_ids: list[int], names: list[str]) -> list[str]:
    """Each person creates ``names[i]`` at the same moment; returns each outcome."""
    barrier = threading.Barrier(len(user_ids), timeout=10)
    outcomes: dict[int, str] = {}

    def work(index: int) -> None:
        with app.test_request_context(headers={"Accept-Language": "en"}):
            try:
                user = db.session.get(User, user_ids[index])
                barrier.wait()
                services.create_bucket(user, account_id, names[index])
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


def _count(app, account_id: int) -> int:
    with app.app_context():
        count = db.session.scalar(
            select(func.count()).select_from(Bucket).where(Bucket.account_id == account_id)
        )
        db.session.remove()
    return count


def test_the_same_name_at_once_makes_one_bucket_and_one_clear_message(race_app):
    for _ in range(RACES):
        account_id, people = _organization(race_app)
        outcomes = _race(race_app, account_id, people, ["fotos", "fotos"])
        assert sorted(outcomes) == [
            "This name is already used by a bucket of this organization.",
            "created",
        ]
        assert _count(race_app, account_id) == 1


def test_the_last_bucket_of_the_quota_goes_to_one_person(race_app):
    for _ in range(RACES):
        account_id, people = _organization(race_app, quota=1)
        outcomes = _race(race_app, account_id, people, ["fotos", "videos"])
        assert sorted(outcomes) == [
            "This organization has reached its quota of 1 bucket.",
            "created",
        ]
        assert _count(race_app, account_id) == 1
    with race_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Account)) == 2 * RACES
        db.session.remove()
