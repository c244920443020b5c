"""Two admins act on the same order at the same moment: real threads, each with its own
connection and transaction, on a database of their own (real commits). One move goes
through; the other waits for the first one's lock, then sees what happened and is refused
with a message (never a 500, never a second subscription change).

The first test makes the overlap certain: the second admin's transaction is observed
waiting on the first one's lock (pg_stat_activity) before the first commits. The second
lets both start together, many times over.
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import psycopg
import pytest
from sqlalchemy import func, select

from portal import states
from portal.accounts.services import set_status
from portal.billing import orders
from portal.errors import Invalid
from portal.extensions import db
from portal.models import Account, AccountMember, AuditLog, Order, Product, Subscription, User
from tests.conftest import make_test_app, upgrade
from tests.db.conftest import libpq_url, new_cnpj, unique


@pytest.fixture(scope="module")
def race(databases):
    url = databases.create("billing_race")
    app = make_test_app(url, smtp_port=1)  # nothing is delivered outside a request
    upgrade(app)
    yield app, libpq_url(url)
    with app.app_context():
        db.engine.dispose()


def _setup(app, *, account_status="approved", existing=0, quantity=2) -> dict:
    """Two admins, an organization with a paid order (and, if ``existing``, an active
    subscription of that many units to the same product). Committed."""
    with app.app_context():
        admins = [
            User(
                email=f"{unique('adm')}@example.com",
                name=f"Admin {i}",
                password_hash="x",
                is_platform_admin=True,
                locale="en",
            )
            for i in (1, 2)
        ]
        owner = User(email=f"{unique('own')}@example.com", name="Owner", password_hash="x")
        db.session.add_all([*admins, owner])
        db.session.flush()
        account = Account(name="Corrida Ltda", cnpj=new_cnpj())
        db.session.add(account)
        db.session.flush()
        db.session.add(AccountMember(account_id=account.id, user_id=owner.id, role="owner"))
        db.session.flush()
        for step in states.ACCOUNT.reach(account_status):
            set_status(account, step)
            db.session.flush()
        product = Product(
            sku=unique("RACE-").upper()[:40], name="Plano", price_monthly=Decimal("10")
        )
        db.session.add(product)
        db.session.flush()
        if existing:
            db.session.add(
                Subscription(account_id=account.id, product_id=product.id, quantity=existing)
            )
        order = Order(
            account_id=account.id,
            product_id=product.id,
            quantity=quantity,
            unit_price=product.price_monthly,
            total=product.price_monthly * quantity,
        )
        db.session.add(order)
        db.session.flush()
        order.status, order.paid_at, order.payment_reference = "paid", func.now(), "PIX"
        db.session.commit()
        return {
            "admins": [a.id for a in admins],
            "account_id": account.id,
            "order_id": order.id,
        }


def _outcome(app, ids: dict) -> dict:
    with app.app_context():
        subs = db.session.execute(
            select(Subscription.status, Subscription.quantity).where(
                Subscription.account_id == ids["account_id"]
            )
        ).all()
        fulfilled = db.session.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.action == "order.fulfilled", AuditLog.target_id == str(ids["order_id"]))
        )
        return {
            "subscriptions": [tuple(s) for s in subs],
            "fulfilled_rows": fulfilled,
            "order": db.session.get(Order, ids["order_id"]).status,
            "account": db.session.get(Account, ids["account_id"]).status,
        }


def _fulfil(app, admin_id: int, order_id: int, results: dict, key, before_commit=None):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        try:
            admin = db.session.get(User, admin_id)
            orders.fulfil(admin, order_id, ip="203.0.113.9")
            if before_commit is not None:
                before_commit()
            db.session.commit()
            results[key] = "fulfilled"
        except Invalid as exc:
            db.session.rollback()
            results[key] = exc.message
        except BaseException as exc:  # reported by the assertions
            db.session.rollback()
            results[key] = exc
        finally:
            db.session.remove()


def _someone_waits_for_a_lock(dsn: str, deadline: float = 15.0) -> bool:
    with psycopg.connect(dsn, autocommit=True) as conn:
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            waiting = conn.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchone()[0]
            if waiting:
                return True
            time.sleep(0.02)
    return False


@pytest.mark.parametrize(
    ("existing", "expected"),
    [(0, [("active", 2)]), (3, [("active", 5)])],
    ids=["creating", "extending"],
)
def test_the_second_admin_waits_then_is_told_the_order_is_fulfilled(race, existing, expected):
    app, dsn = race
    ids = _setup(app, existing=existing)
    results: dict = {}
    first_holds = threading.Event()
    release = threading.Event()

    def hold():
        first_holds.set()
        assert release.wait(20), "the test never released the first transaction"

    first = threading.Thread(
        target=_fulfil, args=(app, ids["admins"][0], ids["order_id"], results, 0, hold)
    )
    second = threading.Thread(
        target=_fulfil, args=(app, ids["admins"][1], ids["order_id"], results, 1)
    )
    first.start()
    assert first_holds.wait(20)
    second.start()
    try:
        # The second admin's transaction is blocked behind the first one's row lock.
        assert _someone_waits_for_a_lock(dsn)
    finally:
        release.set()
        first.join(30)
        second.join(30)
    assert results[0] == "fulfilled", results
    assert isinstance(results[1], str), results
    assert f"Order #{ids['order_id']} cannot be fulfilled: it is Fulfilled" in results[1]
    outcome = _outcome(app, ids)
    assert outcome == {
        "subscriptions": expected,
        "fulfilled_rows": 1,
        "order": "fulfilled",
        "account": "active",
    }


def test_simultaneous_fulfilments_change_the_subscription_once(race):
    app, _dsn = race
    for _ in range(8):
        ids = _setup(app, account_status="active", existing=1, quantity=4)
        results: dict = {}
        barrier = threading.Barrier(2, timeout=20)

        def go(index, ids=ids, results=results, barrier=barrier):
            barrier.wait()
            _fulfil(app, ids["admins"][index], ids["order_id"], results, index)

        threads = [threading.Thread(target=go, args=(i,)) for i in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(r == "fulfilled" for r in results.values()) == [False, True], results
        refused = next(r for r in results.values() if r != "fulfilled")
        assert isinstance(refused, str) and "cannot be fulfilled: it is Fulfilled" in refused
        outcome = _outcome(app, ids)
        assert outcome["subscriptions"] == [("active", 5)]
        assert outcome["fulfilled_rows"] == 1


def test_paying_and_cancelling_at_once_leave_one_of_them(race):
    """A customer cancels while staff mark the order paid: one wins, the other is told."""
    app, _dsn = race
    for _ in range(5):
        ids = _setup(app, account_status="active")
        with app.app_context():
            order = db.session.get(Order, ids["order_id"])
            # Back to a pending order: a fresh one of the same organization.
            fresh = Order(
                account_id=order.account_id,
                product_id=order.product_id,
                quantity=1,
                unit_price=order.unit_price,
                total=order.unit_price,
            )
            db.session.add(fresh)
            db.session.commit()
            fresh_id = fresh.id
            owner_id = db.session.scalar(
                select(AccountMember.user_id).where(AccountMember.account_id == order.account_id)
            )
        results: dict = {}
        barrier = threading.Barrier(2, timeout=20)

        def pay(results=results, barrier=barrier, fresh_id=fresh_id, ids=ids):
            with app.test_request_context(headers={"Accept-Language": "en"}):
                barrier.wait()
                try:
                    orders.mark_paid(db.session.get(User, ids["admins"][0]), fresh_id, "PIX")
                    db.session.commit()
                    results["pay"] = "done"
                except Invalid as exc:
                    db.session.rollback()
                    results["pay"] = exc.message
                finally:
                    db.session.remove()

        def cancel(results=results, barrier=barrier, fresh_id=fresh_id, owner_id=owner_id):
            with app.test_request_context(headers={"Accept-Language": "en"}):
                barrier.wait()
                try:
                    account_id = db.session.get(Order, fresh_id).account_id
                    orders.cancel_order(db.session.get(User, owner_id), account_id, fresh_id)
                    db.session.commit()
                    results["cancel"] = "done"
                except Invalid as exc:
                    db.session.rollback()
                    results["cancel"] = exc.message
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=pay), threading.Thread(target=cancel)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(results) == ["cancel", "pay"], results
        assert sorted(v == "done" for v in results.values()) == [False, True], results
        with app.app_context():
            status = db.session.get(Order, fresh_id).status
        assert status == ("paid" if results["pay"] == "done" else "cancelled")
        loser = results["cancel"] if results["pay"] == "done" else results["pay"]
        assert f"Order #{fresh_id} cannot be" in loser
