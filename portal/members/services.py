"""Members of an organization: the list, role changes, removal, leaving, joining.

The rules (DOMAIN.md, "Roles inside an account"): owners and admins manage members; admins
never act on owners and never make anyone an owner; the last owner can be neither demoted,
removed nor leave. Each change locks the account row first (``require(..., lock=True)``), so
two requests demoting the last two owners at the same time run one after the other and the
second one sees that only one owner is left. The database's deferred constraint trigger
checks the same rule again at commit.

Every row the page shows is a :class:`MemberView`, which carries what the viewer may do with
it (computed here from ``portal.permissions``), so templates never restate a rule.

No request, flash, current_user or commit here: the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from flask_babel import gettext
from sqlalchemy import func, or_, select, true
from sqlalchemy.orm import aliased

from portal import events, links
from portal.accounts.services import check_not_suspended, read_only_reason
from portal.audit import Action
from portal.errors import DomainError, Invalid, NotAllowed, NotFound, insert_unique
from portal.events import MANAGERS, OWNERS, member_target
from portal.extensions import db
from portal.models import Account, AccountMember, Role, User
from portal.pagination import Cursor, Key, Keyset, Page
from portal.permissions import (
    Permission,
    can,
    can_manage_role,
    check_id,
    grantable_roles,
    require,
)


@dataclass(frozen=True)
class MemberView:
    """One member as ``viewer`` sees them, with what ``viewer`` may do. The flags are
    computed once per row (a page draws 50 rows, each reading them several times)."""

    membership: AccountMember
    user: User
    account: Account
    viewer: AccountMember
    owners: int  # how many owners the organization has

    @property
    def id(self) -> int:
        return self.membership.id

    @cached_property
    def dom_id(self) -> str:
        return f"member-{self.membership.id}"

    @cached_property
    def is_self(self) -> bool:
        return self.user.id == self.viewer.user_id

    @cached_property
    def viewer_manages(self) -> bool:
        """May the viewer manage members at all (the row's actions column)?"""
        return can(self.viewer, Permission.MEMBERS_MANAGE)

    @cached_property
    def may_manage(self) -> bool:
        """May the viewer change this member's role or remove them?"""
        return (
            self.viewer_manages
            and not self.is_self
            and can_manage_role(self.viewer.role, self.membership.role)
        )

    @cached_property
    def grantable(self) -> list[str]:
        return grantable_roles(self.viewer.role) if self.may_manage else []

    @cached_property
    def read_only(self) -> str | None:
        """Why a role change is disabled now (a suspended organization), or None. Removing
        a member stays possible: it only takes access away."""
        return read_only_reason(self.account)

    @property
    def is_last_owner(self) -> bool:
        return self.membership.role == Role.OWNER and self.owners <= 1


@dataclass(frozen=True)
class MembersPage:
    account: Account
    membership: AccountMember  # the viewer's
    members: list[MemberView]  # this page's
    owners: int
    page: Page | None = None  # the keyset page (next cursor); None when the search is refused

    @property
    def may_manage(self) -> bool:
        return can(self.membership, Permission.MEMBERS_MANAGE)

    @property
    def read_only(self) -> str | None:
        return read_only_reason(self.account)

    @property
    def may_leave(self) -> bool:
        """Anyone may leave, except the last owner."""
        return not (self.membership.role == Role.OWNER and self.owners <= 1)


# The list's order: oldest member first (the founders lead), keyset-paged on
# ix_account_members_account_id_created_at_id. The rows carry both keys under these names.
ORDER = Keyset(
    Key(AccountMember.created_at, desc=False, name="joined_at"),
    Key(AccountMember.id, desc=False, name="member_id"),
)
PAGE_SIZE = 50
SEARCH_MAX = 100


def normalize_search(q: str | None) -> str:
    return " ".join((q or "").split()).lower()


def _owners(account_id: int):
    """The organization's owner count, as a scalar subquery (read with the rows)."""
    return (
        select(func.count())
        .select_from(AccountMember)
        .where(AccountMember.account_id == account_id, AccountMember.role == Role.OWNER.value)
        .scalar_subquery()
    )


def owner_count(account_id: int) -> int:
    return db.session.scalar(select(_owners(account_id))) or 0


def _contains(q: str):
    return or_(
        func.lower(User.name).contains(q, autoescape=True),
        func.lower(User.email).contains(q, autoescape=True),
    )


def member_users(account_id: int, q: str | None, entities: Callable[[Any], list]):
    """``select(*entities(user))`` over the account's memberships joined to their users
    (``user``: the User entity to select from), keeping those whose name or email contains
    ``q`` (any case). Order it with ``ORDER``.

    The search is read member by member, in the order of the members index, each person
    by primary key (a LATERAL subquery that OFFSET 0 keeps apart): a page stops after 50
    matches, and the 100,000 people of the platform are never scanned, however selective
    the planner guesses the LIKE to be (it would otherwise read every user and sort)."""
    q = normalize_search(q)
    if q:
        person = (
            select(User)
            .where(User.id == AccountMember.user_id, _contains(q))
            .offset(0)
            .lateral("person")
        )
        user = aliased(User, person)
        stmt = select(*entities(user)).select_from(AccountMember).join(person, true())
    else:
        user = User
        stmt = (
            select(*entities(user))
            .select_from(AccountMember)
            .join(User, User.id == AccountMember.user_id)
        )
    return stmt.where(AccountMember.account_id == account_id)


def list_statement(account_id: int, q: str | None = None, only: int | None = None):
    """The members' query without its order (``ORDER`` pages it): the memberships of the
    account with their users and the owner count; ``q`` keeps those whose name or email
    contains it; ``only`` one membership."""
    stmt = member_users(
        account_id,
        q,
        lambda user: [
            AccountMember,
            user,
            _owners(account_id).label("owners"),
            AccountMember.created_at.label("joined_at"),
            AccountMember.id.label("member_id"),
        ],
    )
    if only is not None:
        stmt = stmt.where(AccountMember.id == check_id(only))
    return stmt


def list_members(
    user: User,
    account_id: int,
    *,
    q: str | None = None,
    before: Cursor | None = None,
    limit: int = PAGE_SIZE,
    rows: bool = True,
    only: int | None = None,
) -> MembersPage:
    """The account and one page of its members with their users, oldest first: two queries
    whatever the size (three when the page is empty: the owner count). ``q``: a part of a
    name or an email; ``only``: one membership (a refused change without JavaScript);
    ``rows=False`` (a refused search) reads no rows."""
    account, membership = require(user, account_id, Permission.ACCOUNT_READ)
    if not rows:
        return MembersPage(account, membership, [], owner_count(account.id), None)
    page = ORDER.page(list_statement(account.id, q, only), before, limit)
    owners = page.rows[0].owners if page.rows else owner_count(account.id)
    members = [MemberView(r[0], r[1], account, membership, owners) for r in page.rows]
    return MembersPage(account, membership, members, owners, page)


def _view(account: Account, viewer: AccountMember, member_id: int) -> MemberView | None:
    row = db.session.execute(
        select(AccountMember, User, _owners(account.id))
        .join(User, User.id == AccountMember.user_id)
        .where(AccountMember.id == check_id(member_id), AccountMember.account_id == account.id)
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        return None
    membership, user, owners = row
    return MemberView(membership, user, account, viewer, owners)


def member_row(user: User, account_id: int, member_id: int) -> MemberView | None:
    """One member as ``user`` sees them now (None if gone). Two queries."""
    account, membership = require(user, account_id, Permission.ACCOUNT_READ)
    return _view(account, membership, member_id)


def _target(account: Account, viewer: AccountMember, member_id: int) -> MemberView:
    target = _view(account, viewer, member_id)
    if target is None:
        raise NotFound()
    return target


def _check_may_act_on(target: MemberView) -> None:
    if not can_manage_role(target.viewer.role, target.membership.role):
        raise NotAllowed(gettext("Only owners can change or remove an owner."))


def _parse_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise Invalid(gettext("Choose one of the roles."), field="role") from None


def change_role(
    actor: User, account_id: int, member_id: int, role: str, *, ip: str | None = None
) -> MemberView:
    """Give member ``member_id`` the role ``role``; returns the member as the actor now
    sees them."""
    account, actor_membership = require(actor, account_id, Permission.MEMBERS_MANAGE, lock=True)
    target = _target(account, actor_membership, member_id)
    new_role = _parse_role(role)
    _check_may_act_on(target)
    if not can_manage_role(actor_membership.role, new_role):
        raise NotAllowed(gettext("Only owners can make someone an owner."))
    old_role = target.membership.role
    if old_role == new_role:
        return target
    check_not_suspended(account, field="role")
    if target.is_last_owner:
        raise Invalid(
            gettext(
                "%(name)s is the last owner of this organization. Make another member an "
                "owner first.",
                name=target.user.name,
            ),
            field="role",
        )
    target.membership.role = new_role.value
    events.emit(
        actor,
        Action.MEMBER_ROLE_CHANGED,
        member_target(target.user),
        account=account,
        ip=ip,
        details={"old_role": old_role, "new_role": new_role.value},
        notify=[target.user.id],
        link=links.dashboard(account.id),
        params={"role": new_role.value, "actor_name": actor.name},
    )
    db.session.flush()
    return _target(account, actor_membership, member_id)


def remove_member(
    actor: User, account_id: int, member_id: int, *, ip: str | None = None
) -> MemberView:
    """Take member ``member_id`` out of the organization; returns who was removed."""
    account, actor_membership = require(actor, account_id, Permission.MEMBERS_MANAGE, lock=True)
    target = _target(account, actor_membership, member_id)
    if target.is_self:
        raise Invalid(gettext("To leave the organization yourself, use “Leave organization”."))
    _check_may_act_on(target)
    if target.is_last_owner:
        raise Invalid(
            gettext(
                "%(name)s is the last owner of this organization and cannot be removed.",
                name=target.user.name,
            )
        )
    db.session.delete(target.membership)
    events.emit(
        actor,
        Action.MEMBER_REMOVED,
        member_target(target.user),
        account=account,
        ip=ip,
        details={"role": target.membership.role},
        notify=[target.user.id],
        notify_account=False,  # they no longer see the organization
        link=links.home(),
        params={"actor_name": actor.name},
    )
    db.session.flush()
    return target


def leave(user: User, account_id: int, *, ip: str | None = None) -> Account:
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
    events.emit(
        user,
        Action.MEMBER_LEFT,
        member_target(user),
        account=account,
        ip=ip,
        details={"role": role},
        notify=OWNERS,
        link=links.members(account.id),
        params={"member_name": user.name},
    )
    db.session.flush()
    return account


# -------------------------------------------------------------------------- joining ---
class AlreadyMember(DomainError):
    status = 409

    def __init__(self, account: Account):
        super().__init__(gettext("You are already a member of %(name)s.", name=account.name))
        self.account = account


def is_member(user: User, account_id: int) -> bool:
    return (
        db.session.scalar(
            select(AccountMember.id).where(
                AccountMember.account_id == account_id, AccountMember.user_id == user.id
            )
        )
        is not None
    )


def add_member(
    account: Account,
    user: User,
    role: str,
    *,
    invited_by_id: int | None = None,
) -> AccountMember:
    """``user`` joins ``account`` as ``role`` (an accepted invitation); AlreadyMember if they
    joined meanwhile (another tab). :func:`announce_join` records it."""
    if is_member(user, account.id):
        raise AlreadyMember(account)
    membership = AccountMember(
        account_id=account.id, user_id=user.id, role=role, invited_by_id=invited_by_id
    )
    # Joined from another tab at the same moment.
    insert_unique(membership, {"uq_account_members_account_id_user_id": AlreadyMember(account)})
    user.last_account_id = account.id
    return membership


def announce_join(
    account: Account,
    user: User,
    role: str,
    *,
    ip: str | None = None,
    details: dict | None = None,
    notify_except: tuple[int, ...] = (),
) -> None:
    """The ``member.joined`` audit row, and the owners and admins told."""
    events.emit(
        user,
        Action.MEMBER_JOINED,
        member_target(user),
        account=account,
        ip=ip,
        details={"role": role, **(details or {})},
        notify=MANAGERS,
        exclude=notify_except,
        link=links.members(account.id),
        params={"member_name": user.name, "role": role},
    )


__all__ = [
    "AlreadyMember",
    "MemberView",
    "MembersPage",
    "add_member",
    "announce_join",
    "change_role",
    "is_member",
    "leave",
    "list_members",
    "member_row",
    "member_users",
    "normalize_search",
    "owner_count",
    "remove_member",
]
