"""Members of an organization: the list, role changes, removal, leaving.

The rules (DOMAIN.md, "Roles inside an account"): owners and admins manage members; admins
never act on owners and never make anyone an owner; the last owner can be neither demoted,
removed nor leave. Each change locks the account row first (``require(..., lock=True)``), so
two requests demoting the last two owners at the same time run one after the other and the
second one sees that only one owner is left. The database's deferred constraint trigger
checks the same rule again at commit.

No request, flash, current_user or commit here: the caller owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext
from sqlalchemy import case, func, select

from portal import audit
from portal.accounts.services import check_not_suspended
from portal.audit import Action
from portal.errors import Invalid, NotAllowed, NotFound
from portal.extensions import db
from portal.models import Account, AccountMember, Role, User
from portal.notifications.services import notify
from portal.permissions import Permission, can_manage_role, id_in_range, require

# Owners first, then by how much each role may do.
ROLE_ORDER = {role.value: i for i, role in enumerate(Role)}


@dataclass(frozen=True)
class MemberView:
    membership: AccountMember
    user: User

    @property
    def id(self) -> int:
        return self.membership.id


@dataclass(frozen=True)
class MembersPage:
    account: Account
    membership: AccountMember  # the viewer's
    members: list[MemberView]

    @property
    def owner_count(self) -> int:
        return sum(1 for m in self.members if m.membership.role == Role.OWNER)


def _role_order():
    return case(ROLE_ORDER, value=AccountMember.role, else_=len(ROLE_ORDER))


def list_members(user: User, account_id: int) -> MembersPage:
    """The account and its members with their users: two queries whatever the size."""
    account, membership = require(user, account_id, Permission.ACCOUNT_READ)
    rows = db.session.execute(
        select(AccountMember, User)
        .join(User, User.id == AccountMember.user_id)
        .where(AccountMember.account_id == account.id)
        .order_by(_role_order(), func.lower(User.name), AccountMember.id)
    ).all()
    return MembersPage(account, membership, [MemberView(m, u) for m, u in rows])


def owner_count(account_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(AccountMember)
            .where(AccountMember.account_id == account_id, AccountMember.role == Role.OWNER.value)
        )
        or 0
    )


def _target(account_id: int, member_id: int) -> MemberView:
    if not id_in_range(member_id):
        raise NotFound()
    row = db.session.execute(
        select(AccountMember, User)
        .join(User, User.id == AccountMember.user_id)
        .where(AccountMember.id == member_id, AccountMember.account_id == account_id)
    ).first()
    if row is None:
        raise NotFound()
    return MemberView(*row)


def _check_may_act_on(actor_membership: AccountMember, target: AccountMember) -> None:
    if not can_manage_role(actor_membership.role, target.role):
        raise NotAllowed(gettext("Only owners can change or remove an owner."))


def _parse_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise Invalid(gettext("Choose one of the roles."), field="role") from None


def _links(account_id: int) -> dict[str, str]:
    return {
        "dashboard": f"/accounts/{account_id}/",
        "members": f"/accounts/{account_id}/members",
    }


def change_role(actor: User, account_id: int, member_id: int, role: str) -> MemberView:
    """Give member ``member_id`` the role ``role``; returns the updated member."""
    account, actor_membership = require(actor, account_id, Permission.MEMBERS_MANAGE, lock=True)
    target = _target(account.id, member_id)
    new_role = _parse_role(role)
    _check_may_act_on(actor_membership, target.membership)
    if not can_manage_role(actor_membership.role, new_role):
        raise NotAllowed(gettext("Only owners can make someone an owner."))
    old_role = target.membership.role
    if old_role == new_role:
        return target
    check_not_suspended(account, field="role")
    if old_role == Role.OWNER and owner_count(account.id) <= 1:
        raise Invalid(
            gettext(
                "%(name)s is the last owner of this organization. Make another member an "
                "owner first.",
                name=target.user.name,
            ),
            field="role",
        )
    target.membership.role = new_role.value
    audit.record(
        actor,
        Action.MEMBER_ROLE_CHANGED,
        account_id=account.id,
        target_type="member",
        target_id=target.user.id,
        target_label=target.user.email,
        old_role=old_role,
        new_role=new_role.value,
    )
    if target.user.id != actor.id:
        notify(
            target.user.id,
            str(Action.MEMBER_ROLE_CHANGED),
            account_id=account.id,
            link=_links(account.id)["dashboard"],
            account_name=account.name,
            role=new_role.value,
            actor_name=actor.name,
        )
    db.session.flush()
    return target


def remove_member(actor: User, account_id: int, member_id: int) -> MemberView:
    """Take member ``member_id`` out of the organization; returns who was removed."""
    account, actor_membership = require(actor, account_id, Permission.MEMBERS_MANAGE, lock=True)
    target = _target(account.id, member_id)
    if target.user.id == actor.id:
        raise Invalid(gettext("To leave the organization yourself, use “Leave organization”."))
    _check_may_act_on(actor_membership, target.membership)
    if target.membership.role == Role.OWNER and owner_count(account.id) <= 1:
        raise Invalid(
            gettext(
                "%(name)s is the last owner of this organization and cannot be removed.",
                name=target.user.name,
            )
        )
    db.session.delete(target.membership)
    audit.record(
        actor,
        Action.MEMBER_REMOVED,
        account_id=account.id,
        target_type="member",
        target_id=target.user.id,
        target_label=target.user.email,
        role=target.membership.role,
    )
    notify(
        target.user.id,
        str(Action.MEMBER_REMOVED),
        account_id=None,  # they no longer see the organization
        link="/",
        account_name=account.name,
        actor_name=actor.name,
    )
    db.session.flush()
    return target


def leave(user: User, account_id: int) -> Account:
    """``user`` leaves the organization (anyone may, except its last owner)."""
    account, membership = require(user, account_id, Permission.ACCOUNT_READ, lock=True)
    if membership.role == Role.OWNER and owner_count(account.id) <= 1:
        raise Invalid(
            gettext(
                "You are the last owner of this organization. Make another member an owner "
                "before you leave."
            )
        )
    role = membership.role
    db.session.delete(membership)
    if user.last_account_id == account.id:
        user.last_account_id = None
    audit.record(
        user,
        Action.MEMBER_LEFT,
        account_id=account.id,
        target_type="member",
        target_id=user.id,
        target_label=user.email,
        role=role,
    )
    owners = db.session.scalars(
        select(AccountMember.user_id).where(
            AccountMember.account_id == account.id,
            AccountMember.role == Role.OWNER.value,
            AccountMember.user_id != user.id,
        )
    ).all()
    for owner_id in owners:
        notify(
            owner_id,
            str(Action.MEMBER_LEFT),
            account_id=account.id,
            link=_links(account.id)["members"],
            account_name=account.name,
            member_name=user.name,
        )
    db.session.flush()
    return account


__all__ = [
    "MemberView",
    "MembersPage",
    "change_role",
    "leave",
    "list_members",
    "owner_count",
    "remove_member",
]
