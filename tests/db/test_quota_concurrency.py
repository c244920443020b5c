"""Two platform admins decide the same quota request at the same moment, through the real
services on real, separate database connections (each thread its own app context, session
and transaction, committing for real): one decision wins, the other gets a clear message
saying who decided what, and the quota rises once."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from sqlalchemy import func, select, text

from portal.errors import Invalid
from portal.extensions import db
from portal.models import Account, AccountMember, AuditLog, QuotaRequest, User
from portal.quotas import review, services
from tests.conftest import make_test_app, upgrade
from tests.db.conftest import libpq_url
from tests.factories.accounts import make_cnpj

REASON = "Projeto novo de backup para três clientes grandes."


@pytest.fixture(scope="module")
def race_app(databases, smtp_server):
    controller, _ = smtp_server
    url = databases.create("quotarace")
    app = make_test_app(url, controller.port)
    upgrade(app)
    yield app, libpq_url(url)
    with app.app_context():
        db.engine.dispose()


def _setup(app) -> dict:
    """An active organization with an owner who asks for 50 buckets, and two admins."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        stamp = time.monotonic_ns()
        owner = User(email=f"owner{stamp}@example.com", name="Olga Owner", password_hash="x")
        first = User(
            email=f"ana{stamp}@example.com",
            name="Ana Admin",
            password_hash="x",
            is_platform_admin=True,
        )
        second = User(
            email=f"bia{stamp}@example.com",
            name="Bia Admin",
            password_hash="x",
            is_platform_admin=True,
        )
        db.session.add_all([owner, first, second])
        db.session.flush()
        account = Account(name="Corrida Ltda", cnpj=make_cnpj())
        db.session.add(account)
        db.session.flush()
        db.session.add(AccountMember(account_id=account.id, user_id=owner.id, role="owner"))
        db.session.flush()
        for status in ("approved", "active"):
            account.status = status
            db.session.flush()
        request = services.request_increase(owner, account.id, "buckets", 50, REASON)
        db.session.commit()
        return {"account": account.id, "request": request.id, "admins": (first.id, second.id)}


def _decide(app, admin_id, call, started: threading.Event, release: threading.Event, out: dict):
    """In a thread: its own request context (its own session and connection)."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        try:
            out["pid"] = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
            started.set()
            admin = db.session.get(User, admin_id)
            row = call(admin)
            out["locked"] = True
            release.wait(timeout=30)  # hold the lock until the main thread says so
            db.session.commit()
            out["result"] = row.status
        except Invalid as exc:
            db.session.rollback()
            out["error"] = exc.message
        finally:
            started.set()
            db.session.remove()


def _wait_until_blocked(libpq: str, pid: int, thread: threading.Thread) -> None:
    with psycopg.connect(libpq, autocommit=True) as watcher:
        while thread.is_alive():
            waiting = watcher.execute(
                "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s", (pid,)
            ).fetchone()
            if waiting and waiting[0]:
                return
            time.sleep(0.01)


@pytest.mark.parametrize(
    ("first_call", "second_call", "message"),
    [
        (
            lambda rid: lambda admin: review.approve(admin, rid, 30, "Por ora 30."),
            lambda rid: lambda admin: review.approve(admin, rid, 40),
            "This request was already approved by Ana Admin, granting 30: nothing was changed.",
        ),
        (
            lambda rid: lambda admin: review.approve(admin, rid, 30),
            lambda rid: lambda admin: review.reject(admin, rid, "Não."),
            "This request was already approved by Ana Admin, granting 30: nothing was changed.",
        ),
        (
            lambda rid: lambda admin: review.reject(admin, rid, "Não agora."),
            lambda rid: lambda admin: review.approve(admin, rid),
            "This request was already rejected by Ana Admin: nothing was changed.",
        ),
    ],
    ids=["approve-approve", "approve-reject", "reject-approve"],
)
def test_two_admins_decide_at_once_one_wins_and_the_quota_rises_once(
    race_app, first_call, second_call, message
):
    app, libpq = race_app
    ids = _setup(app)
    first_out, second_out = {}, {}
    release_first, release_second = threading.Event(), threading.Event()
    release_second.set()  # the second commits as soon as it may
    first_started, second_started = threading.Event(), threading.Event()

    first = threading.Thread(
        target=_decide,
        args=(
            app,
            ids["admins"][0],
            first_call(ids["request"]),
            first_started,
            release_first,
            first_out,
        ),
    )
    first.start()
    # The first holds the request's lock (decided, not committed) before the second starts.
    while first.is_alive() and not first_out.get("locked"):
        time.sleep(0.01)
    second = threading.Thread(
        target=_decide,
        args=(
            app,
            ids["admins"][1],
            second_call(ids["request"]),
            second_started,
            release_second,
            second_out,
        ),
    )
    second.start()
    second_started.wait(timeout=30)
    _wait_until_blocked(libpq, second_out["pid"], second)  # it waits for the first's lock
    release_first.set()
    first.join(timeout=30)
    second.join(timeout=30)

    assert "result" in first_out and "error" not in first_out, first_out
    assert second_out.get("error", "").startswith(message), second_out
    with app.app_context():
        quota = db.session.scalar(select(Account.quota_buckets).where(Account.id == ids["account"]))
        request = db.session.get(QuotaRequest, ids["request"])
        decisions = db.session.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(
                AuditLog.account_id == ids["account"],
                AuditLog.action.in_(("quota.approved", "quota.rejected")),
            )
        )
        db.session.remove()
    assert decisions == 1
    assert request.reviewed_by_id == ids["admins"][0]
    assert quota == (30 if request.status == "approved" else 10)
