"""An organization's quotas, as its members see them: what it uses against each, asking for
more, and the history of its requests.

Rules (DOMAIN.md, "quota_requests"; the database enforces the same, 0002/0004/0018):
- owners and admins ask (``quotas:request``); every member sees the page, read-only;
- the value asked for must exceed the current quota and stay under :data:`MAX_VALUES`
  (beyond that, sales talks to the customer: it is not a form's decision);
- a justification of 20 to 2000 characters;
- at most one pending request per (account, resource): a second one is refused with the
  pending one's id, so the page links to it (the partial unique index
  ``uq_quota_requests_pending_account_resource`` is the guarantee when two race);
- a suspended organization is read-only: no request.

Asking locks the account row (``require(..., lock=True)``), so two asks of the same
organization take turns and the second one sees the first one's pending request.

No request, flash, current_user or commit here: the caller owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from portal import clock, events
from portal.accounts.services import read_only_reason
from portal.audit import Action
from portal.errors import Invalid
from portal.extensions import db
from portal.models import QUOTA_RESOURCES, Account, AccountMember, QuotaRequest, User
from portal.pagination import Cursor, Key, Keyset, Page
from portal.permissions import Permission, can, require
from portal.quotas import labels
from portal.quotas.usage import Usage, usage

# The most a customer may ask for in the form, per resource.
MAX_VALUES = {"buckets": 1_000, "storage_gb": 1_000_000, "access_keys": 1_000}
REASON_MIN = 20
REASON_MAX = 2000
HISTORY_PAGE_SIZE = 20
PENDING_INDEX = "uq_quota_requests_pending_account_resource"

# The history, newest first: ix_quota_requests_account_id_created_at_id (0018).
HISTORY = Keyset(Key(QuotaRequest.created_at), Key(QuotaRequest.id))


class PendingRequest(Invalid):
    """A request for this resource is already pending: ``request_id`` is the one to link to."""

    def __init__(self, resource: str, request_id: int):
        super().__init__(
            gettext(
                "A request for more %(resource)s is already pending. You can ask again once "
                "PrimeCloud has answered it.",
                resource=labels.resource_noun(resource),
            ),
            field="resource",
        )
        self.request_id = request_id


def request_dom_id(request_id: int) -> str:
    return f"quota-request-{request_id}"


@dataclass(frozen=True)
class RequestView:
    """One request of the history."""

    request: QuotaRequest
    requester_name: str | None

    @property
    def dom_id(self) -> str:
        return request_dom_id(self.request.id)


@dataclass(frozen=True)
class QuotasPage:
    account: Account
    membership: AccountMember
    usage: Usage
    pending: dict[str, int]  # resource → its pending request's id
    history: Page[RequestView] | None  # None when the history's cursor was not valid

    @property
    def may_request(self) -> bool:
        """Does the viewer's role allow asking (owners and admins)? Others see no form."""
        return can(self.membership, Permission.QUOTAS_REQUEST)

    @property
    def read_only(self) -> str | None:
        """Why the form is disabled (a suspended organization), or None."""
        return read_only_reason(self.account)

    @property
    def requestable(self) -> list[str]:
        """Resources without a pending request, in the form's order."""
        return [r for r in QUOTA_RESOURCES if r not in self.pending]

    def max_value(self, resource: str) -> int:
        return MAX_VALUES[resource]


def _history_statement(account_id: int):
    requester = aliased(User, name="requester")
    return (
        select(QuotaRequest, requester.name)
        .outerjoin(requester, requester.id == QuotaRequest.requested_by_id)
        .where(QuotaRequest.account_id == account_id)
    )


def history_statement(account_id: int, before: Cursor | None, limit: int):
    """The statement that reads a page of the history (the plan tests EXPLAIN it)."""
    return HISTORY.statement(_history_statement(account_id), before, limit)


def history_page(
    account_id: int, before: Cursor | None = None, limit: int = HISTORY_PAGE_SIZE
) -> Page[RequestView]:
    """A page of the account's requests, newest first. One query."""
    rows = db.session.execute(history_statement(account_id, before, limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    views = [RequestView(request, name) for request, name in rows]
    next_cursor = HISTORY.cursor_of(rows[-1][0]) if more and rows else None
    return Page(views, next_cursor)


def pending_requests(account_id: int) -> dict[str, int]:
    """resource → id of its pending request. One query (the partial unique index)."""
    return {
        resource: request_id
        for resource, request_id in db.session.execute(
            select(QuotaRequest.resource, QuotaRequest.id).where(
                QuotaRequest.account_id == account_id, QuotaRequest.status == "pending"
            )
        )
    }


def quotas_page(
    user: User,
    account_id: int,
    before: Cursor | None = None,
    limit: int = HISTORY_PAGE_SIZE,
    *,
    history: bool = True,
) -> QuotasPage:
    """Every member sees the quotas, what is used against them and the requests' history.
    Four queries whatever the data: access, usage, pending requests, the history's page
    (``history=False`` when the history's cursor was refused: the page says so)."""
    account, membership = require(user, account_id, Permission.ACCOUNT_READ)
    return QuotasPage(
        account,
        membership,
        usage(account),
        pending_requests(account.id),
        history_page(account.id, before, limit) if history else None,
    )


def access(user: User, account_id: int, permission: Permission = Permission.ACCOUNT_READ):
    """The account and the viewer's membership, if ``permission`` allows (403/404 first)."""
    return require(user, account_id, permission)


# -------------------------------------------------------------------------- asking ---
def _parse_value(resource: str, value, quota: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(gettext("Enter a whole number."), field="value")
    if value <= quota:
        raise Invalid(
            gettext(
                "Ask for more than the current limit of %(quota)s.",
                quota=labels.amount(resource, quota),
            ),
            field="value",
        )
    if value > MAX_VALUES[resource]:
        raise Invalid(
            gettext(
                "Ask for at most %(max)s here. For more, contact PrimeCloud sales: a limit "
                "that large is part of a contract.",
                max=labels.amount(resource, MAX_VALUES[resource]),
            ),
            field="value",
        )
    return value


def _parse_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        raise Invalid(
            gettext(
                "Explain what you need it for in %(min)d to %(max)d characters.",
                min=REASON_MIN,
                max=REASON_MAX,
            ),
            field="reason",
        )
    return reason


def _pending_id(account_id: int, resource: str) -> int | None:
    return db.session.scalar(
        select(QuotaRequest.id).where(
            QuotaRequest.account_id == account_id,
            QuotaRequest.resource == resource,
            QuotaRequest.status == "pending",
        )
    )


def request_increase(
    actor: User,
    account_id: int,
    resource: str,
    value,
    reason: str | None,
    *,
    ip: str | None = None,
) -> QuotaRequest:
    """Ask PrimeCloud to raise ``resource``'s quota to ``value``; returns the new pending
    request (its audit row is in the same transaction)."""
    account, _membership = require(actor, account_id, Permission.QUOTAS_REQUEST, lock=True)
    if resource not in QUOTA_RESOURCES:
        raise Invalid(gettext("Choose one of the quotas in the list."), field="resource")
    blocked = read_only_reason(account)
    if blocked:
        raise Invalid(blocked)
    pending = _pending_id(account.id, resource)
    if pending is not None:
        raise PendingRequest(resource, pending)
    quota = account.quota(resource)
    value = _parse_value(resource, value, quota)
    reason = _parse_reason(reason)
    request = QuotaRequest(
        account_id=account.id,
        resource=resource,
        current_value=quota,
        requested_value=value,
        reason=reason,
        requested_by_id=actor.id,
    )
    if clock.traveling():  # the demo seed asks "15 days ago"
        request.created_at = clock.now()
    try:
        # A savepoint: should another transaction have added a pending request meanwhile
        # (it cannot while we hold the account's lock, but the index is the guarantee),
        # the caller's transaction stays usable.
        with db.session.begin_nested():
            db.session.add(request)
            db.session.flush()
    except IntegrityError as exc:
        constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
        if constraint == PENDING_INDEX:
            raise PendingRequest(resource, _pending_id(account.id, resource) or 0) from None
        raise
    events.emit(
        actor,
        Action.QUOTA_REQUESTED,
        request,
        account=account,
        ip=ip,
        details={"resource": resource, "current": quota, "requested": value},
    )
    db.session.flush()
    return request
