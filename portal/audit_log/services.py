"""Reading the audit trail: an account's log (owners and admins) and the platform's (admins).

Newest first, ``ORDER BY created_at DESC, id DESC``, paginated by keyset on
``(created_at, id)`` — never OFFSET — so every page is one index range scan of
``ix_audit_logs_account_id_created_at_id`` (an account) or ``ix_audit_logs_created_at_id``
(everything), whatever its depth. Each page is one query: the actor and the organization
come from outer joins, and whether the target still exists (to link to it) is a correlated
lookup evaluated only for the rows of the page.

Reading is not a change: nothing here writes an audit row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import BigInteger, Select, String, case, cast, false, func, or_, select
from sqlalchemy.orm import aliased
from werkzeug.routing import BuildError

from portal import links
from portal.audit_log import messages
from portal.extensions import db
from portal.models import (
    AccessKey,
    Account,
    AccountMember,
    AuditLog,
    Bucket,
    Invitation,
    Order,
    Product,
    QuotaRequest,
    Subscription,
    User,
)
from portal.pagination import Cursor, Key, Keyset, Page
from portal.permissions import Permission, require, require_platform_admin

PAGE_SIZE = 50
EXPORT_BATCH = 1000
SYSTEM = "system"  # the actor filter's value for rows written without an actor

# Newest first; the last row's (created_at, id) is the cursor.
ORDER = Keyset(Key(AuditLog.created_at), Key(AuditLog.id))


# ---------------------------------------------------------------------------- filters ---
@dataclass(frozen=True)
class Filters:
    """What the reader narrowed the log to (already validated by the form)."""

    action: str | None = None
    actor_id: int | None = None
    system_only: bool = False  # rows without an actor
    account_id: int | None = None  # admin view: one organization
    since: datetime | None = None  # inclusive, aware
    until: datetime | None = None  # exclusive, aware


def day_bounds(
    date_from: date | None, date_to: date | None, tz_name: str
) -> tuple[datetime | None, datetime | None]:
    """``from``/``to`` calendar days in the reader's time zone → [since, until) instants.

    ``to`` is inclusive (the whole day), so ``until`` is the next local midnight."""
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("America/Sao_Paulo")
    since = datetime.combine(date_from, time(0), tzinfo=tz) if date_from else None
    until = datetime.combine(date_to + timedelta(days=1), time(0), tzinfo=tz) if date_to else None
    return since, until


# --------------------------------------------------------------------------- entries ---
_NUMERIC_ID = r"^[0-9]{1,18}$"


def _target_ref():
    """For targets the portal can link to, a non-NULL value while the target still exists
    (the account id, the member's user id, the bucket's name, the key id...).

    ``target_id`` is text; it is cast only when it is all digits (the CASE guards the cast).
    Convention: a "member" target's target_id is the member's user id."""
    log = AuditLog
    tid = case((log.target_id.regexp_match(_NUMERIC_ID), cast(log.target_id, BigInteger)))

    def scalar(stmt):
        return stmt.correlate(log).limit(1).scalar_subquery()

    return case(
        (
            log.target_type == "account",
            scalar(select(cast(Account.id, String)).where(Account.id == tid)),
        ),
        (
            log.target_type == "member",
            scalar(
                select(cast(AccountMember.user_id, String)).where(
                    AccountMember.account_id == log.account_id, AccountMember.user_id == tid
                )
            ),
        ),
        (
            log.target_type == "invitation",
            scalar(
                select(cast(Invitation.id, String)).where(
                    Invitation.id == tid,
                    Invitation.account_id == log.account_id,
                    Invitation.accepted_at.is_(None),
                    Invitation.revoked_at.is_(None),
                )
            ),
        ),
        (
            log.target_type == "bucket",
            scalar(
                select(Bucket.name).where(
                    Bucket.account_id == log.account_id,
                    or_(Bucket.id == tid, Bucket.name == log.target_id),
                )
            ),
        ),
        (
            log.target_type == "quota_request",
            scalar(
                select(cast(QuotaRequest.id, String)).where(
                    QuotaRequest.id == tid, QuotaRequest.account_id == log.account_id
                )
            ),
        ),
        (
            log.target_type.in_(("key", "access_key")),
            scalar(
                select(AccessKey.key_id).where(
                    AccessKey.account_id == log.account_id,
                    or_(AccessKey.id == tid, AccessKey.key_id == log.target_id),
                    AccessKey.status != "revoked",
                )
            ),
        ),
        (
            log.target_type == "order",
            scalar(
                select(cast(Order.id, String)).where(
                    Order.id == tid, Order.account_id == log.account_id
                )
            ),
        ),
        (
            log.target_type == "subscription",
            scalar(
                select(cast(Subscription.id, String)).where(
                    Subscription.id == tid, Subscription.account_id == log.account_id
                )
            ),
        ),
        (
            log.target_type == "product",
            scalar(select(cast(Product.id, String)).where(Product.id == tid)),
        ),
    ).label("target_ref")


@cache
def _entries_base() -> Select:
    """The list's columns and joins, the same for every request: built once per process (a
    SQLAlchemy statement is immutable; each request adds its own ``where``). Building it
    cost ~2 ms a page, the CASE of :func:`_target_ref` and its subqueries mostly."""
    log = AuditLog
    actor = aliased(User, name="actor")
    org = aliased(Account, name="org")
    return (
        select(
            log.id,
            log.created_at,
            log.account_id,
            log.actor_id,
            log.action,
            log.target_type,
            log.target_id,
            log.target_label,
            log.ip,
            log.details,
            actor.name.label("actor_name"),
            actor.email.label("actor_email"),
            org.name.label("account_name"),
            _target_ref(),
        )
        .outerjoin(actor, actor.id == log.actor_id)
        .outerjoin(org, org.id == log.account_id)
    )


def entries_statement(account_id: int | None, filters: Filters) -> Select:
    """The list's query, without its order (``ORDER`` pages it). ``account_id=None`` reads
    every account's rows and platform events (the admin view; ``filters.account_id`` may
    narrow it to one organization)."""
    log = AuditLog
    stmt = _entries_base()
    scope = account_id if account_id is not None else filters.account_id
    if scope is not None:
        stmt = stmt.where(log.account_id == scope)
    if filters.action:
        stmt = stmt.where(log.action == filters.action)
    if filters.system_only:
        stmt = stmt.where(log.actor_id.is_(None))
    elif filters.actor_id is not None:
        stmt = stmt.where(log.actor_id == filters.actor_id)
    if filters.since is not None:
        stmt = stmt.where(log.created_at >= filters.since)
    if filters.until is not None:
        stmt = stmt.where(log.created_at < filters.until)
    return stmt


@dataclass
class Entry:
    """One row of the log, with what the page and the CSV show."""

    id: int
    created_at: datetime
    account_id: int | None
    actor_id: int | None
    action: str
    target_type: str | None
    target_id: str | None
    target_label: str | None
    ip: str | None
    details: dict[str, Any] = field(default_factory=dict)
    actor_name: str | None = None
    actor_email: str | None = None
    account_name: str | None = None
    target_ref: str | None = None

    @classmethod
    def from_row(cls, row) -> Entry:
        data = row._asdict()
        data["ip"] = None if data["ip"] is None else str(data["ip"])  # inet: an ip_address
        data["details"] = data["details"] or {}
        return cls(**data)

    @property
    def sentence(self) -> str:
        return messages.sentence(
            self.action, self.target_type, self.target_id, self.target_label, self.details
        )

    @property
    def action_label(self) -> str:
        return messages.label(self.action)

    @property
    def target(self) -> str:
        return messages.target_text(self.target_type, self.target_id, self.target_label)

    def target_path(self, staff: bool = False) -> str | None:
        """Where the target lives now; None when it no longer exists or is not something
        the portal shows. ``staff``: as platform admins read it (/admin/audit and an
        organization's admin page), who are not members: an organization's targets lead to
        its staff page (/admin/accounts/<id>), never to a customer page that would be a
        404 for them."""
        if self.target_ref is None:
            return None
        if self.account_id is None and self.target_type not in PLATFORM_TARGETS:
            return None
        pages = TARGET_PAGES
        if staff:
            pages = {t: ADMIN_TARGET_PAGES.get(t, _admin_organization_of) for t in TARGET_PAGES}
            pages.update(ADMIN_TARGET_PAGES)
        page = pages.get(self.target_type or "")
        if page is None:
            return None
        try:
            return page(self)
        except BuildError:  # a page its domain has not registered yet
            return None

    def account_path(self, staff: bool = False) -> str | None:
        """The organization of the row, for the admin log's "Organization" column."""
        if self.account_id is None or not staff:
            return None
        return links.path("admin.organization", account_id=self.account_id)

    def detail_items(self) -> list[tuple[str, str]]:
        """The details as a person reads them: (label, value) pairs, translated."""
        return messages.detail_items(self.action, self.details)


# Where each kind of target is shown, from the entry (paths through portal.links). A domain
# adds its kind here when it builds the page.
TARGET_PAGES: dict[str, Callable[[Entry], str]] = {
    "account": lambda e: links.dashboard(int(e.target_ref)),
    "member": lambda e: links.members(e.account_id),
    "invitation": lambda e: links.path("invitations.index", account_id=e.account_id),
    "bucket": lambda e: links.path("buckets.detail", account_id=e.account_id, name=e.target_ref),
    "key": lambda e: links.path("keys.index", account_id=e.account_id),
    "access_key": lambda e: links.path("keys.index", account_id=e.account_id),
    "quota_request": lambda e: links.path("quotas.index", account_id=e.account_id),
    "order": lambda e: links.path("billing.index", account_id=e.account_id),
    "subscription": lambda e: links.path("billing.index", account_id=e.account_id),
    "invoice": lambda e: links.path("billing.index", account_id=e.account_id) + "#invoices",
    "storage_quota": lambda e: links.path("quotas.index", account_id=e.account_id),
}


def _admin_organization_of(entry: Entry) -> str:
    """Staff view of any target of an organization: the organization's admin page, at the
    section that shows that kind of target (an anchor the page may or may not have)."""
    path = links.path("admin.organization", account_id=entry.account_id)
    section = SECTION_OF.get(entry.target_type or "")
    return f"{path}#{section}" if section else path


# The admin page's section (its DOM id) that shows each kind of target.
SECTION_OF = {
    "member": "members",
    "invitation": "members",
    "quota_request": "quotas",
    "bucket": "buckets",
    "key": "keys",
    "access_key": "keys",
    "order": "billing",
    "subscription": "billing",
    "invoice": "invoices",
    "storage_quota": "quotas",
}

# Where a target leads in the staff views (/admin/audit, /admin/accounts/<id>). A kind not
# listed here but listed in TARGET_PAGES leads to its organization's admin page.
ADMIN_TARGET_PAGES: dict[str, Callable[[Entry], str]] = {
    "account": lambda e: links.path("admin.organization", account_id=int(e.target_ref)),
    # Products are platform events, read only in the platform's log.
    "product": lambda e: links.path("admin.product", product_id=int(e.target_ref)),
    # The month's invoices (a platform event: issuing drafts for every organization).
    "invoice_period": lambda e: links.path("admin.invoices", period=e.target_ref),
}
# Targets that exist outside any organization (their rows have no account): they link
# too.
PLATFORM_TARGETS = {"account", "product", "invoice_period"}


def _page(account_id: int | None, filters: Filters, before: Cursor | None, limit: int) -> Page:
    page = ORDER.page(entries_statement(account_id, filters), before, limit)
    page.rows = [Entry.from_row(r) for r in page.rows]
    return page


def iter_entries(
    account_id: int | None, filters: Filters, batch: int | None = None
) -> Iterator[Entry]:
    """Every matching row, newest first, fetched in keyset batches of ``batch`` rows: memory
    stays flat however long the log is (for the CSV export)."""
    for row in ORDER.iterate(entries_statement(account_id, filters), batch or EXPORT_BATCH):
        yield Entry.from_row(row)


# --------------------------------------------------------------------------- access ---
@dataclass
class AccountLog:
    """Proof that the reader may read ``account``'s log."""

    account: Account
    membership: AccountMember


def open_account_log(user: User, account_id: int) -> AccountLog:
    """Owners and admins read an account's log; other members get NotAllowed (403), people
    of other organizations NotFound (404). One query."""
    account, membership = require(user, account_id, Permission.AUDIT_READ)
    return AccountLog(account, membership)


def account_page(
    log: AccountLog, filters: Filters, before: Cursor | None = None, limit: int = PAGE_SIZE
) -> Page:
    """A page of an opened account log. One query."""
    return _page(log.account.id, filters, before, limit)


def account_entries(log: AccountLog, filters: Filters) -> Iterator[Entry]:
    """Every matching row of an opened account log (CSV export)."""
    return iter_entries(log.account.id, filters)


def admin_page(
    user: User, filters: Filters, before: Cursor | None = None, limit: int = PAGE_SIZE
) -> Page:
    """A page of the whole platform's log (every account and platform events)."""
    require_platform_admin(user)
    return _page(None, filters, before, limit)


def admin_entries(user: User, filters: Filters) -> Iterator[Entry]:
    require_platform_admin(user)
    return iter_entries(None, filters)


PEOPLE_LIMIT = 10


def _members(account_id: int) -> Select:
    return (
        select(User)
        .join(AccountMember, AccountMember.user_id == User.id)
        .where(AccountMember.account_id == account_id)
    )


def people(log: AccountLog, q: str | None, limit: int = PEOPLE_LIMIT) -> list[User]:
    """The first ``limit`` members whose name or email contains ``q`` (any case), in the
    order of the members page, for the person filter's suggestions; nothing for an empty
    ``q``. One query (a walk of the account's members index)."""
    if not (q or "").strip():
        return []
    return list(db.session.scalars(people_statement(log.account.id, q, limit)))


def people_statement(account_id: int, q: str | None, limit: int = PEOPLE_LIMIT) -> Select:
    from portal.members import services as members

    if not members.normalize_search(q):
        return select(User).where(false())
    stmt = members.member_users(account_id, q, lambda user: [user])
    return members.ORDER.statement(stmt, None, limit)


def member_by_id(log: AccountLog, user_id: int) -> User | None:
    """The member ``user_id`` of the log's account (the chosen person), or None."""
    if not 0 < user_id < 2**63:
        return None
    return db.session.scalar(_members(log.account.id).where(User.id == user_id))


def member_by_email(log: AccountLog, email: str) -> User | None:
    """The member of the log's account with ``email`` (any case), or None."""
    return db.session.scalar(
        _members(log.account.id).where(func.lower(User.email) == email.strip().lower())
    )


def find_actor(email: str) -> User | None:
    """The user with ``email`` (case-insensitive), for the admin's actor filter."""
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def latest(limit: int = 10) -> list[Entry]:
    """The newest platform-wide events (the admin home). One query."""
    return _page(None, Filters(), None, limit).rows
