"""One organization as PrimeCloud staff see it (/admin/accounts/<id>): a list of sections
(``portal.admin.sections``), each fed by one service function. This module holds the page
and the sections of the organization itself: its status and moves, its members and roles,
its audit log.

A platform admin reading the page does not become a member of the organization, nor
changes anything of it (not even a customer's "last organization opened"); the page shows
no customer-only control. Every function here checks ``require_platform_admin``.

No request, flash, current_user or commit here: the caller owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select

from portal.admin import sections
from portal.admin.services import AccountRow, get_account_row
from portal.audit_log import services as audit_services
from portal.errors import NotFound
from portal.extensions import db
from portal.models import Account, AccountMember, Role, User
from portal.pagination import Page
from portal.permissions import check_id, require_platform_admin

MEMBERS_SHOWN = 100
AUDIT_ENTRIES = 20
ROLE_ORDER = {role.value: i for i, role in enumerate(Role)}


@dataclass(frozen=True)
class OrganizationPage:
    account: Account
    sections: list[sections.Loaded]

    def section(self, key: str) -> sections.Loaded | None:
        return next((s for s in self.sections if s.key == key), None)


def organization_page(actor: User, account_id: int) -> OrganizationPage:
    """The organization and every section's data. One query for the account, then each
    section's own (a fixed number, whatever the organization's size)."""
    require_platform_admin(actor)
    account = db.session.get(Account, check_id(account_id))
    if account is None:
        raise NotFound()
    return OrganizationPage(account, sections.load_all(actor, account))


# -------------------------------------------------------------------------- status ---
def status_section(actor: User, account: Account) -> AccountRow:
    """The status, its dates, the suspension reason and the moves allowed (the same row
    and moves as /admin/accounts). One query."""
    require_platform_admin(actor)
    row = get_account_row(actor, account.id)
    if row is None:
        raise NotFound()
    return row


# ------------------------------------------------------------------------- members ---
@dataclass(frozen=True)
class MemberLine:
    user_id: int
    name: str
    email: str
    role: str
    joined_at: datetime


@dataclass(frozen=True)
class Members:
    members: list[MemberLine]
    total: int

    @property
    def hidden(self) -> int:
        return self.total - len(self.members)


def members_section(actor: User, account: Account) -> Members:
    """Members and roles, owners first, at most MEMBERS_SHOWN of them, with the total.
    One query (uq_account_members_account_id_user_id)."""
    require_platform_admin(actor)
    total = (
        select(func.count())
        .select_from(AccountMember)
        .where(AccountMember.account_id == account.id)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(User.id, User.name, User.email, AccountMember.role, AccountMember.created_at, total)
        .join(User, User.id == AccountMember.user_id)
        .where(AccountMember.account_id == account.id)
        .order_by(
            case(ROLE_ORDER, value=AccountMember.role, else_=len(ROLE_ORDER)),
            func.lower(User.name),
            AccountMember.id,
        )
        .limit(MEMBERS_SHOWN)
    ).all()
    return Members([MemberLine(*r[:5]) for r in rows], rows[0][5] if rows else 0)


# --------------------------------------------------------------------------- audit ---
@dataclass(frozen=True)
class AuditExcerpt:
    page: Page[audit_services.Entry]
    account_id: int


def audit_section(actor: User, account: Account) -> AuditExcerpt:
    """The organization's latest audit entries: the admin log's first page filtered to it
    (``Filters(account_id=...)``); the page links to the rest at /admin/audit. One query."""
    page = audit_services.admin_page(
        actor, audit_services.Filters(account_id=account.id), None, AUDIT_ENTRIES
    )
    return AuditExcerpt(page, account.id)
