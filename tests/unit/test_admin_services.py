"""The organizations page's services: the list (member counts, filters, keyset pages) and
the platform admin's status moves (audit row, owners notified, refusals write nothing)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from portal import states
from portal.admin import services
from portal.errors import Invalid, NotAllowed, NotFound
from portal.extensions import db
from portal.models import Account, AuditLog, Notification
from portal.notifications import messages
from portal.pagination import Cursor
from tests import factories
from tests.conftest import snapshot
from tests.unit.conftest import ours

T0 = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)


@pytest.fixture
def admin(app_ctx, dbs):
    return ours(factories.AdminFactory())


def make_org(status, name=None, owners=1, others=("admin", "viewer")):
    owner = factories.UserFactory()
    kwargs = {"name": name} if name else {}
    account = factories.AccountFactory(owner=owner, status=status, **kwargs)
    people = {"owner": [owner], "other": []}
    for _ in range(owners - 1):
        user = factories.UserFactory()
        factories.MemberFactory(account=account, user=user, role="owner")
        people["owner"].append(user)
    for role in others:
        user = factories.UserFactory()
        factories.MemberFactory(account=account, user=user, role=role)
        people["other"].append(user)
    return account, people


def account_row(account_id):
    db.session.expire_all()
    return db.session.get(Account, account_id)


def audit_rows(account_id):
    return db.session.scalars(
        select(AuditLog).where(AuditLog.account_id == account_id).order_by(AuditLog.id)
    ).all()


def notifications_for(account_id):
    return db.session.scalars(
        select(Notification).where(Notification.account_id == account_id)
    ).all()


def assert_nothing_pending():
    """The refused call left no change in the session (the next query would flush it)."""
    assert not db.session.new and not db.session.dirty and not db.session.deleted


def written(account_id):
    """Everything a status move of the account could write."""
    return snapshot(
        db.session,
        select(
            Account.status,
            Account.approved_at,
            Account.activated_at,
            Account.suspended_at,
            Account.suspension_reason,
        ).where(Account.id == account_id),
        select(AuditLog.id).where(AuditLog.account_id == account_id),
        select(Notification.id).where(Notification.account_id == account_id),
    )


# ------------------------------------------------------------------------------ moves ---
@pytest.mark.parametrize(
    ("start", "action", "reason", "end"),
    [
        ("pending", "approve", None, "approved"),
        ("approved", "activate", None, "active"),
        ("approved", "suspend", "Fraud check", "suspended"),
        ("active", "suspend", "Unpaid invoices", "suspended"),
        ("suspended", "reactivate", None, "active"),
    ],
)
def test_each_allowed_move_writes_status_audit_and_owner_notifications(
    admin, dbs, start, action, reason, end
):
    account, people = make_org(start, owners=2)
    before = account_row(account.id)
    activated_before = before.activated_at
    audits_before = len(audit_rows(account.id))

    moved = services.change_status(admin, account.id, action, reason)
    db.session.flush()

    a = account_row(account.id)
    assert moved.id == a.id and a.status == end
    if end == "approved":
        assert a.approved_at is not None
    if end == "active":
        assert a.activated_at is not None
        if activated_before is not None:  # a reactivation keeps the first activation
            assert a.activated_at == activated_before
        assert a.suspended_at is None and a.suspension_reason is None
    if end == "suspended":
        assert a.suspended_at is not None and a.suspension_reason == reason

    rows = audit_rows(account.id)
    assert len(rows) == audits_before + 1
    row = rows[-1]
    assert row.action == "account.status_changed"
    assert row.actor_id == admin.id
    assert row.target_type == "account" and row.target_id == str(account.id)
    expected = {"from": start, "to": end}
    if reason:
        expected["reason"] = reason
    assert row.details == expected

    notes = notifications_for(account.id)
    assert sorted(n.user_id for n in notes) == sorted(u.id for u in people["owner"])
    for n in notes:
        assert n.kind == "account.status_changed"
        assert n.link == f"/accounts/{account.id}/"
        assert n.params == {"account_name": account.name, "status": end}


def test_the_reason_is_trimmed(admin):
    account, _ = make_org("active")
    services.change_status(admin, account.id, "suspend", "  Chargebacks  ")
    db.session.flush()
    assert account_row(account.id).suspension_reason == "Chargebacks"


def test_a_reactivation_after_approved_then_suspended_sets_activated_at(admin):
    account, _ = make_org("approved")
    services.change_status(admin, account.id, "suspend", "KYC")
    services.change_status(admin, account.id, "reactivate")
    db.session.flush()
    a = account_row(account.id)
    assert a.status == "active" and a.activated_at is not None and a.suspended_at is None


REFUSED = [
    (start, action)
    for start in ("pending", "approved", "active", "suspended")
    for action in services.ACTIONS
    if not states.ACCOUNT.allows(action, start)
]


@pytest.mark.parametrize(("start", "action"), REFUSED)
def test_each_refused_move_is_invalid_and_writes_nothing(admin, start, action):
    account, _ = make_org(start)
    before = written(account.id)
    with pytest.raises(Invalid) as exc:
        services.change_status(admin, account.id, action, "a reason")
    assert exc.value.field == "status"
    assert account.name in exc.value.message
    assert "Reload the page" in exc.value.message
    assert_nothing_pending()
    assert written(account.id) == before


def test_refusal_names_the_current_status(admin):
    account, _ = make_org("pending")
    with pytest.raises(Invalid) as exc:
        services.change_status(admin, account.id, "activate")
    assert exc.value.message == (
        f"{account.name} cannot be activated: it is Pending review, and only approved "
        "organizations can be activated. Reload the page to see its current state."
    )


@pytest.mark.parametrize("reason", [None, "", "   \n "])
def test_suspending_needs_a_reason(admin, reason):
    account, _ = make_org("active")
    before = written(account.id)
    with pytest.raises(Invalid) as exc:
        services.change_status(admin, account.id, "suspend", reason)
    assert exc.value.field == "reason"
    assert exc.value.message == "Give the reason for the suspension."
    assert_nothing_pending()
    assert written(account.id) == before


def test_an_overlong_reason_is_invalid(admin):
    account, _ = make_org("active")
    with pytest.raises(Invalid) as exc:
        services.change_status(admin, account.id, "suspend", "x" * (services.REASON_MAX + 1))
    assert exc.value.field == "reason"


def test_an_unknown_action_is_invalid(admin):
    account, _ = make_org("pending")
    with pytest.raises(Invalid):
        services.change_status(admin, account.id, "delete")


@pytest.mark.parametrize("account_id", [0, -1, 2**63, 10**12])
def test_a_missing_account_is_not_found(admin, account_id):
    with pytest.raises(NotFound):
        services.change_status(admin, account_id, "approve")


@pytest.mark.parametrize("role", ["owner", "viewer", None])
def test_a_non_admin_actor_is_not_allowed_and_nothing_is_written(app_ctx, dbs, role):
    account, people = make_org("pending")
    if role == "owner":
        actor = people["owner"][0]
    elif role == "viewer":
        actor = people["other"][1]
    else:
        actor = factories.UserFactory()
    before = written(account.id)
    with pytest.raises(NotAllowed):
        services.change_status(ours(actor), account.id, "approve")
    with pytest.raises(NotAllowed):
        services.list_accounts(ours(actor))
    with pytest.raises(NotAllowed):
        services.get_account_row(ours(actor), account.id)
    assert_nothing_pending()
    assert written(account.id) == before


def test_the_database_refusal_is_also_invalid(admin, monkeypatch):
    """Should the service's own check miss a move, the trigger's CheckViolation becomes
    Invalid (422), never a 500."""
    account, _ = make_org("pending")
    monkeypatch.setitem(states.ACCOUNT.moves, "activate", states.Move(("pending",), "active"))
    with pytest.raises(Invalid) as exc:
        services.change_status(admin, account.id, "activate")
    assert exc.value.field == "status"
    assert_nothing_pending()
    assert account_row(account.id).status == "pending"


@pytest.mark.parametrize(
    ("status", "actions"),
    [
        ("pending", ["approve"]),
        ("approved", ["activate", "suspend"]),
        ("active", ["suspend"]),
        ("suspended", ["reactivate"]),
    ],
)
def test_allowed_actions_follow_domain_moves(status, actions):
    assert services.allowed_actions(status) == actions


def test_the_notification_reads_with_the_translated_status(app_ctx):
    text = messages.render("account.status_changed", {"account_name": "Acme", "status": "pending"})
    assert text == "The status of Acme is now: Pending review."


# ------------------------------------------------------------------------------- list ---
def test_the_list_counts_members_and_filters(admin):
    tag = "Zq" + datetime.now(UTC).strftime("%H%M%S%f")
    pending, _ = make_org("pending", name=f"{tag} Alfa", others=())
    active, _ = make_org("active", name=f"{tag} Beta", others=("admin", "member", "viewer"))

    page = services.list_accounts(admin, q=tag)
    by_id = {r.id: r for r in page.rows}
    assert by_id[pending.id].member_count == 1
    assert by_id[active.id].member_count == 4
    assert [r.id for r in page.rows] == [active.id, pending.id]  # newest first

    assert [r.id for r in services.list_accounts(admin, q=tag, status="pending").rows] == [
        pending.id
    ]
    assert services.list_accounts(admin, q=f"{tag} beta").rows[0].id == active.id
    cnpj = active.cnpj
    formatted = f"{cnpj[:2]}.{cnpj[2:5]}.{cnpj[5:8]}/{cnpj[8:12]}-{cnpj[12:]}"
    assert [r.id for r in services.list_accounts(admin, q=formatted).rows] == [active.id]
    assert services.list_accounts(admin, q=f"{tag}%_").rows == []  # wildcards are literal


def test_an_unknown_status_filter_is_invalid(admin):
    with pytest.raises(Invalid) as exc:
        services.list_accounts(admin, status="deleted")
    assert exc.value.field == "status"


def test_keyset_pages_with_equal_created_at_skip_and_repeat_nothing(admin, dbs):
    tag = "Kp" + datetime.now(UTC).strftime("%H%M%S%f")
    accounts = [make_org("pending", name=f"{tag} {i}", others=())[0] for i in range(7)]
    # Five share one instant; two are older.
    ids = [a.id for a in accounts]
    dbs.execute(update(Account).where(Account.id.in_(ids[:5])).values(created_at=T0))
    dbs.execute(
        update(Account).where(Account.id.in_(ids[5:])).values(created_at=T0 - timedelta(days=1))
    )
    dbs.commit()
    db.session.expire_all()

    seen, cursor, pages = [], None, 0
    while True:
        page = services.list_accounts(admin, q=tag, before=cursor, limit=2)
        seen += [r.id for r in page.rows]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
        assert isinstance(cursor, Cursor)
    expected = sorted(ids[:5], reverse=True) + sorted(ids[5:], reverse=True)
    assert seen == expected
    assert pages == 4  # 2 + 2 + 2 + 1: the last page has no "Older" cursor

    exact = services.list_accounts(admin, q=tag, limit=7)
    assert len(exact.rows) == 7 and exact.next_cursor is None


def test_the_list_is_one_query(admin, count_queries):
    make_org("pending")
    with count_queries() as queries:
        services.list_accounts(admin)
    assert len(queries) == 1
    assert "OFFSET" not in queries[0].upper()
