"""Who may do what: every access check of the portal, in one place.

- inside an account, DOMAIN.md's role table (:data:`ROLE_PERMISSIONS`), checked by
  :func:`require` (the account) and :func:`require_object` (one of its objects);
- which roles a manager may hand out or act on (:func:`grantable_roles`,
  :func:`can_manage_role`);
- platform staff (:func:`require_platform_admin`);
- ids that can exist at all (:func:`check_id`).

A person who is not a member of the account gets NotFound (its existence is not revealed);
a member whose role lacks the permission gets NotAllowed. Platform admins are not members
of anything by default and act through /admin. Templates never restate a rule: they read
``can(membership, "members:manage")`` or the per-row flags services compute with these.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar

from flask import g, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from portal.errors import NotAllowed, NotFound
from portal.extensions import db
from portal.models import Account, AccountMember, Role, User

M = TypeVar("M")


class Permission(StrEnum):
    ACCOUNT_READ = "account:read"  # see the account, its members and buckets
    ACCOUNT_EDIT = "account:edit"  # edit the account profile
    MEMBERS_MANAGE = "members:manage"  # invite, revoke invitations, change roles, remove
    BUCKETS_WRITE = "buckets:write"  # create, change, delete buckets, versioning, lifecycle
    KEYS_WRITE = "keys:write"  # create, rotate, deactivate, revoke access keys
    BILLING = "billing"  # orders, subscriptions, invoices, usage
    SUBSCRIPTIONS_CANCEL = "subscriptions:cancel"  # cancel a subscription (owner, billing)
    QUOTAS_REQUEST = "quotas:request"  # request a quota increase
    AUDIT_READ = "audit:read"  # read the account's audit log


P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    # Admins buy and cancel orders, but a subscription is cancelled by an owner or a
    # billing member (issue 15): it ends what the organization pays for.
    Role.ADMIN: frozenset(Permission) - {P.SUBSCRIPTIONS_CANCEL},
    Role.MEMBER: frozenset({P.ACCOUNT_READ, P.BUCKETS_WRITE, P.KEYS_WRITE}),
    Role.BILLING: frozenset({P.ACCOUNT_READ, P.BILLING, P.SUBSCRIPTIONS_CANCEL}),
    Role.VIEWER: frozenset({P.ACCOUNT_READ}),
}

# Roles an actor may hand out or take away (members:manage): admins never touch owners
# and never make anyone an owner.
MANAGEABLE_ROLES: dict[Role, frozenset[Role]] = {
    Role.OWNER: frozenset(Role),
    Role.ADMIN: frozenset({Role.ADMIN, Role.MEMBER, Role.BILLING, Role.VIEWER}),
}

STAFF_ONLY = _l("This area is for PrimeCloud staff.")


class StaffOnly(NotAllowed):
    """A customer in /admin: the 403 page says the area is for staff (not that their role
    in an organization lacks a permission)."""

    title = _l("For PrimeCloud staff only")


def allows(role: str | Role | None, permission: Permission | str) -> bool:
    if role is None:
        return False
    return Permission(permission) in ROLE_PERMISSIONS[Role(role)]


def can_manage_role(actor_role: str | Role, role: str | Role) -> bool:
    """May an actor with ``actor_role`` grant ``role``, or act on a member who has it?"""
    return Role(role) in MANAGEABLE_ROLES.get(Role(actor_role), frozenset())


def grantable_roles(actor_role: str | Role) -> list[str]:
    """The roles ``actor_role`` may hand out, in the role table's order."""
    return [r.value for r in Role if can_manage_role(actor_role, r)]


def can(membership: AccountMember | None, permission: Permission | str) -> bool:
    """For templates: show a control only when the service would allow the action."""
    return membership is not None and allows(membership.role, permission)


# ------------------------------------------------------------------------------ ids ---
# Ids are PostgreSQL bigints: a larger number can match nothing, and psycopg would refuse
# to send it (a 500), so it is simply not found. URLs are bounded by the <int:> converter;
# this covers every other caller (forms, CLI).
MAX_ID = 2**63 - 1


def id_in_range(value: int) -> bool:
    return 0 < value <= MAX_ID


def check_id(value: int) -> int:
    """``value`` if it can be an id, else NotFound."""
    if not isinstance(value, int) or not id_in_range(value):
        raise NotFound()
    return value


# -------------------------------------------------------------------- platform staff ---
def is_platform_admin(user: User | None) -> bool:
    return bool(getattr(user, "is_platform_admin", False))


def require_platform_admin(user: User | None) -> None:
    """Platform admins only; a customer gets a 403 that says the area is for staff."""
    if not is_platform_admin(user):
        raise StaffOnly(str(STAFF_ONLY))


# ---------------------------------------------------------------------- an account ---
# The user loader reads the signed-in person's membership of the organization the URL
# names in its own query (``sessions.services.load``); ``require`` then answers from it
# instead of asking again. Kept in ``g`` (this request only), and forgotten as soon as
# anything is flushed, committed or rolled back, so a rule is never checked against rows
# this request may have changed; ``lock=True`` always reads (and locks) the rows.
_KNOWN = "_portal_known_memberships"


def remember_membership(
    user: User, account_id: int, account: Account | None, membership: AccountMember | None
) -> None:
    """What the loader read: ``user``'s membership of ``account_id`` (None: not a member)."""
    known = g.get(_KNOWN)
    if known is None:
        known = g._portal_known_memberships = {}
    known[(user.id, account_id)] = (account, membership) if membership is not None else None


def forget_memberships(*_args) -> None:
    if has_app_context():
        g.pop(_KNOWN, None)


for _event in ("after_flush", "after_commit", "after_rollback", "after_soft_rollback"):
    event.listen(Session, _event, forget_memberships)


def require(
    user: User, account_id: int, permission: Permission | str, *, lock: bool = False
) -> tuple[Account, AccountMember]:
    """The account and the user's membership, if the user may ``permission`` there.

    One query. Raises NotFound when the account does not exist or the user is not a member
    (the same answer, so another organization's ids reveal nothing), NotAllowed when the
    role lacks the permission. ``lock=True`` locks the account row (FOR UPDATE) for
    changes that must serialize per account."""
    check_id(account_id)
    if not lock and has_app_context():
        known = g.get(_KNOWN) or {}
        if (user.id, account_id) in known:
            row = known[(user.id, account_id)]
            if row is None:
                raise NotFound()
            if not allows(row[1].role, permission):
                raise NotAllowed()
            return row
    stmt = (
        select(Account, AccountMember)
        .join(AccountMember, AccountMember.account_id == Account.id)
        .where(Account.id == account_id, AccountMember.user_id == user.id)
    )
    if lock:
        # Both rows: a request that waited for the lock then sees the membership as it is
        # now (PostgreSQL re-reads locked rows after the wait), not as it was before.
        stmt = stmt.with_for_update(of=[Account, AccountMember])
    row = db.session.execute(stmt).first()
    if row is None:
        raise NotFound()
    account, membership = row
    if not allows(membership.role, permission):
        raise NotAllowed()
    return account, membership


def require_object(
    user: User,
    account_id: int,
    permission: Permission | str,
    model: type[M],
    *where: Any,
    object_id: int | None = None,
    lock: bool = False,
    join: tuple | None = None,
) -> tuple[Account, AccountMember, M]:
    """The account, the user's membership and one object of that account: ``model`` with
    ``object_id`` (or matching ``where``) whose ``account_id`` is the account's.

    Another account's object, a missing one or an impossible id are all NotFound (after
    the permission: a role that may not act gets 403 whatever it names). ``lock=True``
    locks the account row and the object's row, in that order (one lock order everywhere,
    so two requests never deadlock). ``join=(Other, onclause)`` loads a related row with it:
    the third value is then ``(obj, other)``."""
    account, membership = require(user, account_id, permission, lock=lock)
    conditions = [model.account_id == account.id, *where]
    if object_id is not None:
        conditions.append(model.id == check_id(object_id))
    if join is not None:
        other, onclause = join
        stmt = select(model, other).join(other, onclause).where(*conditions)
        if lock:
            stmt = stmt.with_for_update(of=model)
        row = db.session.execute(stmt).first()
        if row is None:
            raise NotFound()
        return account, membership, tuple(row)
    stmt = select(model).where(*conditions)
    if lock:
        stmt = stmt.with_for_update()
    obj = db.session.scalar(stmt)
    if obj is None:
        raise NotFound()
    return account, membership, obj


def lock_staff_object(model: type[M], object_id: int) -> tuple[M, Account]:
    """For staff moves (the caller checked ``require_platform_admin``): one object of any
    organization and that organization, both locked — the organization first, as
    :func:`require_object` does, so staff and customers acting at once never deadlock —
    and re-read as they are after any wait. A missing object or an impossible id is
    NotFound."""
    account_id = db.session.scalar(select(model.account_id).where(model.id == check_id(object_id)))
    if account_id is None:
        raise NotFound()
    account = db.session.scalar(
        select(Account)
        .where(Account.id == account_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    obj = db.session.scalar(
        select(model)
        .where(model.id == object_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if account is None or obj is None:
        raise NotFound()
    return obj, account
