"""The admin home (the platform at a glance) and the organizations page (/admin/accounts:
the list with member counts and the platform admin's status moves), each page in a fixed,
small number of queries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from portal import events, links, states, text
from portal.accounts.services import set_status
from portal.audit import Action
from portal.audit_log import services as audit_services
from portal.billing import invoices as billing_invoices
from portal.billing import orders as billing_orders
from portal.errors import Invalid, NotFound
from portal.events import OWNERS
from portal.extensions import db
from portal.models import (
    Account,
    AccountMember,
    AccountStatus,
    EmailOutbox,
    Invoice,
    Order,
    QuotaRequest,
    User,
)
from portal.pagination import Cursor, Key, Keyset, Page
from portal.permissions import check_id, require_platform_admin

LATEST_EVENTS = 10


@dataclass
class Overview:
    accounts_by_status: dict[str, int]
    pending_quota_requests: int
    pending_orders: int
    past_due_invoices: int
    emails_queued: int
    emails_failed: int
    latest: list[audit_services.Entry]

    @property
    def accounts_total(self) -> int:
        return sum(self.accounts_by_status.values())


def overview(user: User) -> Overview:
    """Counts and the latest audit events. Three queries: accounts grouped by status; the
    pending quota requests, the orders waiting for payment and the outbox's queued and
    failed emails in one statement of scalar subqueries (each reads an index); the latest
    events."""
    require_platform_admin(user)
    by_status = {s.value: 0 for s in AccountStatus}
    for status, count in db.session.execute(
        select(Account.status, func.count()).group_by(Account.status)
    ):
        by_status[status] = count

    def count(model, *where):
        return select(func.count()).select_from(model).where(*where).scalar_subquery()

    quota, orders_waiting, past_due, queued, failed = db.session.execute(
        select(
            count(QuotaRequest, QuotaRequest.status == "pending"),
            # Orders waiting for payment: a range of the fulfilment queue's index (0017).
            count(Order, billing_orders.by_status("pending")),
            # Open invoices past their due date: a range of ix_invoices_open_due_at (0021).
            count(Invoice, Invoice.status == "open", Invoice.due_at < billing_invoices.today()),
            count(EmailOutbox, EmailOutbox.status == "queued"),
            count(EmailOutbox, EmailOutbox.status == "failed"),
        )
    ).one()
    return Overview(
        accounts_by_status=by_status,
        pending_quota_requests=quota,
        pending_orders=orders_waiting,
        past_due_invoices=past_due,
        emails_queued=queued,
        emails_failed=failed,
        latest=audit_services.latest(LATEST_EVENTS),
    )


# ---------------------------------------------------------------- organizations page ---
# /admin/accounts: every organization with its member count, newest first, paginated by
# keyset on (created_at DESC, id DESC); and the platform admin's status moves, which are
# exactly portal.states.ACCOUNT's.

ACCOUNTS_PAGE_SIZE = 25
STATUSES = tuple(s.value for s in AccountStatus)
REASON_MAX = 1000
ACTIONS = tuple(states.ACCOUNT.moves)
ORDER = Keyset(Key(Account.created_at), Key(Account.id))


@dataclass(frozen=True)
class MoveButton:
    """How the list offers one move: its button, and whether it needs a reason."""

    action: str
    label: str
    needs_reason: bool = False
    danger: bool = False


MOVE_BUTTONS = {
    "approve": MoveButton("approve", _l("Approve")),
    "activate": MoveButton("activate", _l("Activate")),
    "suspend": MoveButton("suspend", _l("Suspend"), needs_reason=True, danger=True),
    "reactivate": MoveButton("reactivate", _l("Reactivate")),
}


def allowed_actions(status: str) -> list[str]:
    """The actions offered for an organization in ``status`` (in the machine's order)."""
    return states.ACCOUNT.actions_from(status)


@dataclass(frozen=True)
class AccountRow:
    """One organization on the admin's list."""

    id: int
    name: str
    cnpj: str
    status: str
    created_at: datetime
    member_count: int
    approved_at: datetime | None = None
    activated_at: datetime | None = None
    suspended_at: datetime | None = None
    suspension_reason: str | None = None

    @property
    def dom_id(self) -> str:
        return f"account-{self.id}"

    @property
    def actions(self) -> list[str]:
        return allowed_actions(self.status)

    @property
    def moves(self) -> list[MoveButton]:
        return [MOVE_BUTTONS[a] for a in self.actions]


def _member_count():
    """Correlated count of the row's members: one probe of uq_account_members_account_id_user_id
    per organization shown (only the page's rows), never one query per row."""
    return (
        select(func.count())
        .select_from(AccountMember)
        .where(AccountMember.account_id == Account.id)
        .correlate(Account)
        .scalar_subquery()
        .label("member_count")
    )


def _rows_statement():
    return select(
        Account.id,
        Account.name,
        Account.cnpj,
        Account.status,
        Account.created_at,
        _member_count(),
        Account.approved_at,
        Account.activated_at,
        Account.suspended_at,
        Account.suspension_reason,
    )


def _search(q: str):
    """Name contains ``q`` (any case), or the CNPJ contains it once its punctuation is gone."""
    conditions = [Account.name.icontains(q, autoescape=True)]
    digits = re.sub(r"[^0-9A-Za-z]", "", q).upper()
    if digits:
        conditions.append(Account.cnpj.contains(digits, autoescape=True))
    return or_(*conditions)


def list_accounts(
    actor: User,
    *,
    status: str | None = None,
    q: str | None = None,
    before: Cursor | None = None,
    limit: int = ACCOUNTS_PAGE_SIZE,
) -> Page[AccountRow]:
    """A page of organizations, newest first, with member counts. One query."""
    require_platform_admin(actor)
    stmt = _rows_statement()
    if status:
        if status not in STATUSES:
            raise Invalid(gettext("Choose one of the statuses in the list."), field="status")
        stmt = stmt.where(Account.status == status)
    q = (q or "").strip()
    if q:
        stmt = stmt.where(_search(q))
    page = ORDER.page(stmt, before, limit)
    page.rows = [AccountRow(*r) for r in page.rows]
    return page


def get_account_row(actor: User, account_id: int) -> AccountRow | None:
    """One organization as the list shows it (one query); None if there is none."""
    require_platform_admin(actor)
    row = db.session.execute(_rows_statement().where(Account.id == check_id(account_id))).first()
    return AccountRow(*row) if row is not None else None


def _refusal(account: Account, action: str) -> str:
    from portal.accounts.labels import account_status_label

    messages = {
        "approve": gettext(
            "%(name)s cannot be approved: it is %(status)s, and only organizations pending "
            "review can be approved. Reload the page to see its current state."
        ),
        "activate": gettext(
            "%(name)s cannot be activated: it is %(status)s, and only approved organizations "
            "can be activated. Reload the page to see its current state."
        ),
        "suspend": gettext(
            "%(name)s cannot be suspended: it is %(status)s, and only approved or active "
            "organizations can be suspended. Reload the page to see its current state."
        ),
        "reactivate": gettext(
            "%(name)s cannot be reactivated: it is %(status)s, and only suspended "
            "organizations can be reactivated. Reload the page to see its current state."
        ),
    }
    return messages[action] % {"name": account.name, "status": account_status_label(account.status)}


def change_status(
    actor: User, account_id: int, action: str, reason: str | None = None, *, ip: str | None = None
) -> AccountRow:
    """Move an organization as ``action`` says (``portal.states.ACCOUNT``), under a lock of
    its row; returns the organization as the list shows it now.

    Writes the audit row and notifies the organization's owners in the caller's
    transaction. A move the current status does not allow (a stale page), a suspension
    without a reason or an unknown action is Invalid, with nothing written."""
    require_platform_admin(actor)
    if action not in states.ACCOUNT.moves:
        raise Invalid(gettext("This action does not exist."), field="status")
    # FOR UPDATE: two admins acting at once take turns; the second sees the first's result.
    account = db.session.scalar(
        select(Account)
        .where(Account.id == check_id(account_id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if account is None:
        raise NotFound()
    if not states.ACCOUNT.allows(action, account.status):
        raise Invalid(_refusal(account, action), field="status")
    target = states.ACCOUNT.target(action)
    if action == "suspend":
        reason = text.name_like(reason, "reason", multiline=True)
        if not reason:
            raise Invalid(gettext("Give the reason for the suspension."), field="reason")
        if len(reason) > REASON_MAX:
            raise Invalid(
                gettext("Use at most %(max)d characters for the reason.", max=REASON_MAX),
                field="reason",
            )
    else:
        reason = ""

    previous = account.status
    try:
        # A savepoint around the change: should the database's own state machine refuse
        # it (a CheckViolation), the session stays usable and the account reads as before.
        with db.session.begin_nested():
            set_status(account, target, reason=reason or None)
            db.session.flush()
    except IntegrityError as exc:
        raise Invalid(_refusal(account, action), field="status") from exc

    details = {"from": previous, "to": target}
    if reason:
        details["reason"] = reason
    events.emit(
        actor,
        Action.ACCOUNT_STATUS_CHANGED,
        account,
        account=account,
        ip=ip,
        details=details,
        notify=OWNERS,
        link=links.dashboard(account.id),
        params={"status": target},
    )
    db.session.flush()
    return get_account_row(actor, account.id)
