"""portal.events.emit: the audit row and the notifications of the right people, in the
caller's transaction; the target from the model; never the actor told of their own act."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal import events
from portal.audit import Action
from portal.events import MANAGERS, OWNERS, Roles, Target
from portal.extensions import db
from portal.models import AuditLog, Notification, Role
from tests.unit.conftest import ours


def notified(action: Action | str | None = None) -> dict[int, Notification]:
    stmt = select(Notification)
    if action is not None:
        stmt = stmt.where(Notification.kind == str(action))
    return {n.user_id: n for n in db.session.scalars(stmt)}


def test_the_audit_row_takes_its_target_from_the_model(org):
    account, people = org
    actor = ours(people["admin"])
    row = events.emit(
        actor,
        Action.ACCOUNT_UPDATED,
        ours(account),
        account=ours(account),
        ip="203.0.113.4",
        details={"field": "name"},
    )
    db.session.flush()
    stored = db.session.get(AuditLog, row.id)
    assert (stored.account_id, stored.actor_id, stored.action) == (
        account.id,
        actor.id,
        "account.updated",
    )
    assert (stored.target_type, stored.target_id, stored.target_label) == (
        "account",
        str(account.id),
        "Acme Ltda",
    )
    assert str(stored.ip) == "203.0.113.4" and stored.details == {"field": "name"}
    assert notified() == {}  # nobody to tell unless asked


def test_targets_of_each_kind(org):
    account, people = org
    user = ours(people["viewer"])
    assert Target.of(user) == Target("user", user.id, user.email)
    assert Target.of(ours(account)) == Target("account", account.id, "Acme Ltda")
    assert events.member_target(user) == Target("member", user.id, user.email)
    given = Target("bucket", 7, "fotos")
    assert Target.of(given) is given
    with pytest.raises(TypeError, match="no audit target for Role"):
        Target.of(Role.OWNER)


def test_people_named_are_told_but_never_the_actor(org):
    account, people = org
    actor = ours(people["owner"])
    events.emit(
        actor,
        Action.MEMBER_ROLE_CHANGED,
        events.member_target(ours(people["member"])),
        account=ours(account),
        notify=[people["member"].id, actor.id, people["member"].id],
        link="/accounts/1/",
        params={"role": "billing", "actor_name": actor.name},
    )
    db.session.flush()
    told = notified(Action.MEMBER_ROLE_CHANGED)
    assert set(told) == {people["member"].id}
    note = told[people["member"].id]
    assert note.account_id == account.id and note.link == "/accounts/1/" and not note.read
    assert note.params == {"role": "billing", "actor_name": actor.name, "account_name": "Acme Ltda"}


@pytest.mark.parametrize(
    ("audience", "roles"),
    [(OWNERS, {"owner"}), (MANAGERS, {"owner", "admin"}), (Roles(Role.BILLING), {"billing"})],
    ids=["owners", "managers", "billing"],
)
def test_roles_of_the_account_are_told(org, audience, roles):
    account, people = org
    events.emit(
        None, Action.ACCOUNT_STATUS_CHANGED, ours(account), account=account.id, notify=audience
    )
    db.session.flush()
    assert set(notified()) == {people[r].id for r in roles}
    # The account given by id: no name to add to the sentence's parameters.
    assert all("account_name" not in n.params for n in notified().values())


def test_roles_of_another_account_are_not_told(org, dbs):
    from tests import factories

    account, _people = org
    other_owner = factories.UserFactory()
    factories.AccountFactory(owner=other_owner)
    events.emit(None, Action.ACCOUNT_UPDATED, ours(account), account=ours(account), notify=OWNERS)
    db.session.flush()
    assert other_owner.id not in notified()


def test_exclude_and_kind_and_no_organization(org):
    account, people = org
    joiner = ours(people["member"])
    events.emit(
        joiner,
        Action.MEMBER_REMOVED,
        events.member_target(joiner),
        account=ours(account),
        notify=MANAGERS,
        exclude=[people["admin"].id],
        kind="member.left",
        notify_account=False,
    )
    db.session.flush()
    told = notified("member.left")
    assert set(told) == {people["owner"].id}
    assert told[people["owner"].id].account_id is None
    assert told[people["owner"].id].params == {"account_name": "Acme Ltda"}


def test_roles_need_the_events_account(app_ctx):
    with pytest.raises(ValueError, match="needs the event's account"):
        events.emit(None, Action.USER_PROMOTED_ADMIN, Target("user", 1, "x"), notify=OWNERS)


def test_everything_is_in_the_callers_transaction(org):
    account, people = org

    def count(model):
        return db.session.scalar(select(func.count()).select_from(model))

    before = (count(AuditLog), count(Notification))
    with db.session.begin_nested() as savepoint:
        events.emit(
            None, Action.ACCOUNT_UPDATED, ours(account), account=ours(account), notify=MANAGERS
        )
        db.session.flush()
        assert (count(AuditLog), count(Notification)) == (before[0] + 1, before[1] + 2)
        savepoint.rollback()
    assert (count(AuditLog), count(Notification)) == before


def test_a_platform_event_has_no_account_and_no_target_if_none(app_ctx, dbs):
    row = events.emit(None, Action.USER_LOGIN_FAILED)
    db.session.flush()
    assert (row.account_id, row.actor_id, row.target_type, row.target_id) == (
        None,
        None,
        None,
        None,
    )
    assert row.ip is None and row.details == {}
