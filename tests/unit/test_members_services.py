"""Members: role changes, removal, leaving; admins vs owners; the last owner."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from portal.errors import Invalid, NotAllowed, NotFound
from portal.extensions import db
from portal.members import services
from portal.models import AccountMember, AuditLog, Notification, User
from tests import factories
from tests.unit.conftest import ours


def role_of(membership_id):
    return db.session.scalar(select(AccountMember.role).where(AccountMember.id == membership_id))


def audit_actions(account_id):
    return db.session.scalars(
        select(AuditLog.action).where(AuditLog.account_id == account_id).order_by(AuditLog.id)
    ).all()


def notifications_of(user_id):
    return db.session.scalars(select(Notification).where(Notification.user_id == user_id)).all()


def test_list_members_owners_first_with_their_users(org):
    account, people = org
    page = services.list_members(ours(people["viewer"]), account.id)
    assert [m.membership.role for m in page.members] == [
        "owner",
        "admin",
        "member",
        "billing",
        "viewer",
    ]
    assert page.members[0].user.name == "Owner Person"
    assert page.owners == 1


def test_owner_changes_a_role_with_audit_and_notification(org):
    account, people = org
    ms = org.members
    services.change_role(ours(people["owner"]), account.id, ms["member"], "billing")
    assert role_of(ms["member"]) == "billing"
    log = db.session.scalar(select(AuditLog).where(AuditLog.action == "member.role_changed"))
    assert log.actor_id == people["owner"].id and log.account_id == account.id
    assert log.details == {"old_role": "member", "new_role": "billing"}
    (note,) = notifications_of(people["member"].id)
    assert note.kind == "member.role_changed"
    assert note.params == {
        "account_name": "Acme Ltda",
        "role": "billing",
        "actor_name": "Owner Person",
    }
    assert note.link == f"/accounts/{account.id}/"


def test_the_same_role_again_changes_nothing(org):
    account, people = org
    ms = org.members
    services.change_role(ours(people["owner"]), account.id, ms["member"], "member")
    assert audit_actions(account.id) == []


def test_the_last_owner_cannot_be_demoted(org):
    account, people = org
    ms = org.members
    with pytest.raises(Invalid, match="last owner") as caught:
        services.change_role(ours(people["owner"]), account.id, ms["owner"], "admin")
    assert caught.value.field == "role"
    assert role_of(ms["owner"]) == "owner"


def test_an_owner_can_be_demoted_while_another_owner_remains(org):
    account, people = org
    ms = org.members
    services.change_role(ours(people["owner"]), account.id, ms["admin"], "owner")
    services.change_role(ours(people["admin"]), account.id, ms["owner"], "viewer")
    assert role_of(ms["owner"]) == "viewer"
    with pytest.raises(Invalid, match="last owner"):
        services.change_role(ours(people["admin"]), account.id, ms["admin"], "admin")


@pytest.mark.parametrize(
    ("target", "new_role", "error"),
    [
        ("owner", "admin", NotAllowed),  # admins never act on owners
        ("owner", "owner", NotAllowed),
        ("member", "owner", NotAllowed),  # admins never grant owner
        ("member", "superuser", Invalid),
        ("member", "", Invalid),
    ],
)
def test_admin_limits(org, target, new_role, error):
    account, people = org
    ms = org.members
    with pytest.raises(error):
        services.change_role(ours(people["admin"]), account.id, ms[target], new_role)
    assert role_of(ms[target]) == target
    assert audit_actions(account.id) == []


@pytest.mark.parametrize("new_role", ["admin", "member", "billing", "viewer"])
def test_admin_manages_non_owners(org, new_role):
    account, people = org
    ms = org.members
    services.change_role(ours(people["admin"]), account.id, ms["viewer"], new_role)
    assert role_of(ms["viewer"]) == new_role


@pytest.mark.parametrize("actor", ["member", "billing", "viewer"])
def test_other_roles_manage_nobody(org, actor):
    account, people = org
    ms = org.members
    with pytest.raises(NotAllowed):
        services.change_role(ours(people[actor]), account.id, ms["viewer"], "member")
    with pytest.raises(NotAllowed):
        services.remove_member(ours(people[actor]), account.id, ms["viewer"])
    assert role_of(ms["viewer"]) == "viewer"


def test_another_organizations_member_or_person_is_not_found(org, dbs):
    account, people = org
    ms = org.members
    elsewhere = factories.MemberFactory(role="member")
    with pytest.raises(NotFound):
        services.change_role(ours(people["owner"]), account.id, elsewhere.id, "viewer")
    with pytest.raises(NotFound):
        services.remove_member(ours(people["owner"]), account.id, elsewhere.id)
    stranger = factories.UserFactory()
    with pytest.raises(NotFound):
        services.change_role(ours(stranger), account.id, ms["member"], "viewer")
    with pytest.raises(NotFound):
        services.leave(ours(stranger), account.id)


def test_who_may_change_a_role_is_checked_before_the_role(org):
    account, people = org
    ms = org.members
    with pytest.raises(NotAllowed):
        services.change_role(ours(people["viewer"]), account.id, ms["member"], "emperor")
    with pytest.raises(NotFound):
        services.change_role(ours(factories.UserFactory()), account.id, ms["member"], "")


@pytest.mark.parametrize("bad_id", [2**63, 10**30])
def test_ids_beyond_bigint_are_not_found(org, bad_id):
    account, people = org
    owner = ours(people["owner"])
    with pytest.raises(NotFound):
        services.change_role(owner, account.id, bad_id, "viewer")
    with pytest.raises(NotFound):
        services.remove_member(owner, account.id, bad_id)
    for call in (services.list_members, services.leave):
        with pytest.raises(NotFound):
            call(owner, bad_id)


def test_a_suspended_organization_changes_no_role_but_people_may_go(org, dbs):
    account, people = org
    ms = org.members
    account.status, account.suspended_at = "suspended", datetime.now(UTC)
    dbs.commit()
    owner = ours(people["owner"])
    with pytest.raises(Invalid, match="suspended and read-only") as caught:
        services.change_role(owner, account.id, ms["viewer"], "admin")
    assert caught.value.field == "role" and role_of(ms["viewer"]) == "viewer"
    assert audit_actions(account.id) == []
    services.remove_member(owner, account.id, ms["member"])
    services.leave(ours(people["billing"]), account.id)
    assert audit_actions(account.id) == ["member.removed", "member.left"]


def test_remove_member_with_audit_and_notification(org):
    account, people = org
    ms = org.members
    removed = services.remove_member(ours(people["admin"]), account.id, ms["billing"])
    assert removed.user.id == people["billing"].id
    assert role_of(ms["billing"]) is None
    assert audit_actions(account.id) == ["member.removed"]
    (note,) = notifications_of(people["billing"].id)
    assert note.kind == "member.removed"
    assert note.params == {"account_name": "Acme Ltda", "actor_name": people["admin"].name}


def test_admin_cannot_remove_an_owner_and_nobody_removes_themselves(org):
    account, people = org
    ms = org.members
    with pytest.raises(NotAllowed):
        services.remove_member(ours(people["admin"]), account.id, ms["owner"])
    with pytest.raises(Invalid, match="Leave"):
        services.remove_member(ours(people["owner"]), account.id, ms["owner"])
    assert role_of(ms["owner"]) == "owner"


def test_an_owner_removes_another_owner(org):
    account, people = org
    ms = org.members
    services.change_role(ours(people["owner"]), account.id, ms["admin"], "owner")
    services.remove_member(ours(people["owner"]), account.id, ms["admin"])
    assert role_of(ms["admin"]) is None


@pytest.mark.parametrize("role", ["admin", "member", "billing", "viewer"])
def test_anyone_leaves_and_owners_are_told(org, role):
    account, people = org
    ms = org.members
    me = ours(people[role])
    me.last_account_id = account.id
    services.leave(me, account.id)
    assert role_of(ms[role]) is None
    assert me.last_account_id is None
    assert audit_actions(account.id) == ["member.left"]
    (note,) = notifications_of(people["owner"].id)
    assert note.kind == "member.left"
    assert note.params == {"account_name": "Acme Ltda", "member_name": people[role].name}
    assert note.link == f"/accounts/{account.id}/members"


def test_the_last_owner_cannot_leave_but_one_of_two_can(org):
    account, people = org
    ms = org.members
    with pytest.raises(Invalid, match="last owner"):
        services.leave(ours(people["owner"]), account.id)
    assert role_of(ms["owner"]) == "owner"
    services.change_role(ours(people["owner"]), account.id, ms["admin"], "owner")
    services.leave(ours(people["owner"]), account.id)
    assert role_of(ms["owner"]) is None
    assert db.session.scalar(select(User.id).where(User.id == people["admin"].id))


def test_two_simultaneous_demotions_of_the_last_two_owners_serialize(live_server):
    """Real transactions on the live server's database: each of the two owners demotes
    themselves at the same moment. A holds its transaction open; B waits for A's lock on the
    account row, then sees a single owner left and is refused with the message (without the
    lock both would count two owners, and the database would refuse B's commit instead)."""
    import threading
    import uuid

    app = live_server.app
    tag = uuid.uuid4().hex[:8]
    with app.app_context():
        from portal.accounts.services import create_account
        from tests.factories import make_cnpj

        one = User(email=f"one-{tag}@example.com", name="One", password_hash="x")
        two = User(email=f"two-{tag}@example.com", name="Two", password_hash="x")
        db.session.add_all([one, two])
        db.session.flush()
        account = create_account(one, "Race Ltda", make_cnpj())
        db.session.add(AccountMember(account_id=account.id, user_id=two.id, role="owner"))
        db.session.commit()
        ids = {"account": account.id, "one": one.id, "two": two.id}
        members = dict(
            db.session.execute(
                select(AccountMember.user_id, AccountMember.id).where(
                    AccountMember.account_id == account.id
                )
            ).all()
        )
        db.session.remove()

    a_changed = threading.Event()
    results = {}

    def demote(name, actor_key, target_key, hold):
        with app.test_request_context(headers={"Accept-Language": "en"}):
            try:
                actor = db.session.get(User, ids[actor_key])
                if name == "B":
                    a_changed.wait(5)
                services.change_role(actor, ids["account"], members[ids[target_key]], "viewer")
                if hold:
                    a_changed.set()
                    threading.Event().wait(0.5)  # keep the lock while B arrives
                db.session.commit()
                results[name] = "ok"
            except Invalid as exc:
                db.session.rollback()
                results[name] = exc.message
            finally:
                a_changed.set()
                db.session.remove()

    a = threading.Thread(target=demote, args=("A", "one", "one", True))
    b = threading.Thread(target=demote, args=("B", "two", "two", False))
    a.start()
    b.start()
    a.join(10)
    b.join(10)
    assert results["A"] == "ok"
    assert "last owner" in results["B"]
    with app.app_context():
        roles = db.session.scalars(
            select(AccountMember.role).where(AccountMember.account_id == ids["account"])
        ).all()
        db.session.remove()
    assert sorted(roles) == ["owner", "viewer"]
