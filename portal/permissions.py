"""Who may do what inside an account: DOMAIN.md's role table, checked in one place.

Services call :func:`require`; templates call ``can(membership, "members:manage")``.
A person who is not a member of the account gets NotFound (its existence is not revealed);
a member whose role lacks the permission gets NotAllowed. Platform admins are not members
of anything by default and act through /admin.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import select

from portal.errors import NotAllowed, NotFound
from portal.extensions import db
from portal.models import Account, AccountMember, Role, User


class Permission(StrEnum):
    ACCOUNT_READ = "account:read"  # see the account, its members and buckets
    ACCOUNT_EDIT = "account:edit"  # edit the account profile
    MEMBERS_MANAGE = "members:manage"  # invite, revoke invitations, change roles, remove
    BUCKETS_WRITE = "buckets:write"  # create, change, delete buckets, versioning, lifecycle
    KEYS_WRITE = "keys:write"  # create, rotate, deactivate, revoke access keys
    BILLING = "billing"  # orders, subscriptions, invoices, usage
    QUOTAS_REQUEST = "quotas:request"  # request a quota increase
    AUDIT_READ = "audit:read"  # read the account's audit log


P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.ADMIN: frozenset(Permission),
    Role.MEMBER: frozenset({P.ACCOUNT_READ, P.BUCKETS_WRITE, P.KEYS_WRITE}),
    Role.BILLING: frozenset({P.ACCOUNT_READ, P.BILLING}),
    Role.VIEWER: frozenset({P.ACCOUNT_READ}),
}

# Roles an actor may hand out or take away (members:manage): admins never touch owners
# and never make anyone an owner.
MANAGEABLE_ROLES: dict[Role, frozenset[Role]] = {
    Role.OWNER: frozenset(Role),
    Role.ADMIN: frozenset({Role.ADMIN, Role.MEMBER, Role.BILLING, Role.VIEWER}),
}


def allows(role: str | Role | None, permission: Permission | str) -> bool:
    if role is None:
        return False
    return Permission(permission) in ROLE_PERMISSIONS[Role(role)]


def can_manage_role(actor_role: str | Role, role: str | Role) -> bool:
    """May an actor with ``actor_role`` grant ``role``, or act on a member who has it?"""
    return Role(role) in MANAGEABLE_ROLES.get(Role(actor_role), frozenset())


def can(membership: AccountMember | None, permission: Permission | str) -> bool:
    """For templates: show a control only when the service would allow the action."""
    return membership is not None and allows(membership.role, permission)


# Ids are PostgreSQL bigints: a larger number in a URL can match nothing, and psycopg would
# refuse to send it (a 500), so it is simply not found.
MAX_ID = 2**63 - 1


def id_in_range(value: int) -> bool:
    return 0 < value <= MAX_ID


def membership_of(user: User, account_id: int) -> AccountMember | None:
    return db.session.scalar(
        select(AccountMember).where(
            AccountMember.account_id == account_id, AccountMember.user_id == user.id
        )
    )


def require(
    user: User, account_id: int, permission: Permission | str, *, lock: bool = False
) -> tuple[Account, AccountMember]:
    """The account and the user's membership, if the user may ``permission`` there.

    One query. Raises NotFound when the account does not exist or the user is not a member
    (the same answer, so another organization's ids reveal nothing), NotAllowed when the
    role lacks the permission. ``lock=True`` locks the account row (FOR UPDATE) for
    changes that must serialize per account."""
    if not id_in_range(account_id):
        raise NotFound()
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
