"""Quota requests as PrimeCloud staff review them (/admin/quota-requests): the queue, and
approving or rejecting one request.

The queue is a :class:`portal.pagination.Chain`: the pending requests first, oldest first
(a queue), then the decided ones, most recently decided first — each part one range scan of
its partial index (0018), so a page is one statement whatever the depth. Each row carries
the organization, its current quota and what it uses (``portal.quotas.usage``, the one
source of "used", correlated to the page's rows only).

Deciding:
- approve with a granted value: by default the value asked for; it may be lower (Google
  Cloud's quota preferences do the same) but must exceed the organization's current quota
  (an approval that raises nothing is a rejection: reject with a note instead) and never
  exceed what was asked; an optional note;
- reject with a note (required: the customer deserves the reason);
- only a pending request can be decided (``portal.states.QUOTA_REQUEST``).
The request and its account are locked (FOR UPDATE) before the decision: when two admins
decide the same request at once, the second waits, then reads the first one's decision and
gets a message saying who decided what; the quota rises once (the database's trigger raises
it to the granted value in the same transaction, 0018).

The requester (if still a member) and the organization's owners are notified and emailed,
each in their own language.

No request, flash, current_user or commit here: the caller owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import aliased

from portal import clock, events, links, mail, states
from portal.audit import Action
from portal.errors import Invalid, NotFound
from portal.extensions import db
from portal.models import QUOTA_RESOURCES, Account, AccountMember, QuotaRequest, Role, User
from portal.pagination import Chain, ChainCursor, Key, Keyset, Page
from portal.permissions import check_id, require_platform_admin
from portal.quotas import labels
from portal.quotas.usage import Meter, Usage, from_row, labelled_counts, usage

PAGE_SIZE = 20
NOTE_MAX = 2000
STATUSES = states.QUOTA_REQUEST.states  # pending, approved, rejected

PENDING_ORDER = Keyset(Key(QuotaRequest.created_at, desc=False), Key(QuotaRequest.id, desc=False))
DECIDED_ORDER = Keyset(Key(QuotaRequest.reviewed_at), Key(QuotaRequest.id))
QUEUE = Chain(PENDING_ORDER, DECIDED_ORDER)


@dataclass(frozen=True)
class ReviewRow:
    """One request as staff see it, with the organization's quota and usage now."""

    id: int
    account_id: int
    resource: str
    current_value: int
    requested_value: int
    granted_value: int | None
    reason: str
    status: str
    created_at: datetime
    reviewed_at: datetime | None
    review_note: str | None
    account_name: str
    account_status: str
    quota_buckets: int
    quota_storage_gb: int
    quota_access_keys: int
    used_buckets: int
    used_bytes: int
    used_keys: int
    requester_name: str | None
    requester_email: str | None
    reviewer_name: str | None

    @classmethod
    def from_row(cls, row) -> ReviewRow:
        return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})

    @property
    def dom_id(self) -> str:
        return f"review-{self.id}"

    @property
    def meter(self) -> Meter:
        """What the organization uses of this request's quota, now."""
        return from_row(self).meter(self.resource)

    @property
    def quota(self) -> int:
        """The organization's quota for this resource, now."""
        return getattr(self, f"quota_{self.resource}")

    @property
    def granted(self) -> int | None:
        if self.status != "approved":
            return None
        return self.granted_value if self.granted_value is not None else self.requested_value

    @property
    def is_pending(self) -> bool:
        return self.status == "pending"

    @property
    def min_grant(self) -> int:
        return self.quota + 1

    @property
    def may_approve(self) -> bool:
        """Pending, and the quota is still below what was asked (else: reject)."""
        return states.QUOTA_REQUEST.allows("approve", self.status) and (
            self.min_grant <= self.requested_value
        )

    @property
    def may_reject(self) -> bool:
        return states.QUOTA_REQUEST.allows("reject", self.status)


def _base_statement():
    requester = aliased(User, name="requester")
    reviewer = aliased(User, name="reviewer")
    q = QuotaRequest
    return (
        select(
            q.id,
            q.account_id,
            q.resource,
            q.current_value,
            q.requested_value,
            q.granted_value,
            q.reason,
            q.status,
            q.created_at,
            q.reviewed_at,
            q.review_note,
            Account.name.label("account_name"),
            Account.status.label("account_status"),
            Account.quota_buckets,
            Account.quota_storage_gb,
            Account.quota_access_keys,
            *labelled_counts(Account.id),
            requester.name.label("requester_name"),
            requester.email.label("requester_email"),
            reviewer.name.label("reviewer_name"),
        )
        .join(Account, Account.id == q.account_id)
        .outerjoin(requester, requester.id == q.requested_by_id)
        .outerjoin(reviewer, reviewer.id == q.reviewed_by_id)
    )


def _check_filters(status: str | None, resource: str | None) -> None:
    if status and status not in STATUSES:
        raise Invalid(gettext("Choose one of the statuses in the list."), field="status")
    if resource and resource not in QUOTA_RESOURCES:
        raise Invalid(gettext("Choose one of the quotas in the list."), field="resource")


def queue_statements(status: str | None = None, resource: str | None = None) -> list:
    """The chain's two statements (pending, decided), filtered; None for a part the status
    filter leaves out."""
    pending = _base_statement().where(QuotaRequest.status == "pending")
    decided = _base_statement().where(QuotaRequest.status != "pending")
    if resource:
        pending = pending.where(QuotaRequest.resource == resource)
        decided = decided.where(QuotaRequest.resource == resource)
    if status == "pending":
        decided = None
    elif status:
        pending = None
        decided = decided.where(QuotaRequest.status == status)
    return [pending, decided]


def queue_statement(
    status: str | None, resource: str | None, before: ChainCursor | None, limit: int
):
    """The statement that reads a page of the queue (the plan tests EXPLAIN it)."""
    return QUEUE.statement(queue_statements(status, resource), before, limit)


def list_queue(
    actor: User,
    *,
    status: str | None = None,
    resource: str | None = None,
    before: ChainCursor | None = None,
    limit: int = PAGE_SIZE,
) -> Page[ReviewRow]:
    """A page of the queue: pending first (oldest first), then decided (latest first).
    One query."""
    require_platform_admin(actor)
    _check_filters(status, resource)
    page = QUEUE.page(queue_statements(status, resource), before, limit)
    page.rows = [ReviewRow.from_row(r) for r in page.rows]
    return page


def review_row(actor: User, request_id: int) -> ReviewRow | None:
    """One request as the queue shows it now (None if there is none). One query."""
    require_platform_admin(actor)
    row = db.session.execute(
        _base_statement().where(QuotaRequest.id == check_id(request_id))
    ).first()
    return ReviewRow.from_row(row) if row is not None else None


def account_requests(actor: User, account_id: int, limit: int = 10) -> list[ReviewRow]:
    """An organization's requests, newest first (its page at /admin/accounts/<id>). One
    query, at most ``limit`` rows (ix_quota_requests_account_id_created_at_id)."""
    require_platform_admin(actor)
    rows = db.session.execute(
        _base_statement()
        .where(QuotaRequest.account_id == check_id(account_id))
        .order_by(QuotaRequest.created_at.desc(), QuotaRequest.id.desc())
        .limit(limit)
    )
    return [ReviewRow.from_row(r) for r in rows]


# ------------------------------------------------------------------------ deciding ---
def _lock(request_id: int) -> tuple[QuotaRequest, Account]:
    """The request and its account, locked (FOR UPDATE; one statement, so two deciders lock
    in the same order) and re-read after any wait."""
    row = db.session.execute(
        select(QuotaRequest, Account)
        .join(Account, Account.id == QuotaRequest.account_id)
        .where(QuotaRequest.id == check_id(request_id))
        .with_for_update(of=[QuotaRequest, Account])
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        raise NotFound()
    return row[0], row[1]


def _already_decided(request: QuotaRequest) -> Invalid:
    reviewer = db.session.get(User, request.reviewed_by_id) if request.reviewed_by_id else None
    who = reviewer.name if reviewer is not None else gettext("someone")
    if request.status == "approved":
        message = gettext(
            "This request was already approved by %(who)s, granting %(granted)s: nothing was "
            "changed. Reload the page to see it.",
            who=who,
            granted=labels.amount(request.resource, request.granted),
        )
    else:
        message = gettext(
            "This request was already rejected by %(who)s: nothing was changed. Reload the "
            "page to see it.",
            who=who,
        )
    return Invalid(message, field="status")


def _parse_note(note: str | None, *, required: bool) -> str | None:
    note = (note or "").strip()
    if required and not note:
        raise Invalid(
            gettext("Tell the customer why: a rejection needs a note."), field="review_note"
        )
    if len(note) > NOTE_MAX:
        raise Invalid(
            gettext("Use at most %(max)d characters for the note.", max=NOTE_MAX),
            field="review_note",
        )
    return note or None


def _parse_granted(request: QuotaRequest, quota: int, granted) -> int:
    if quota >= request.requested_value:
        raise Invalid(
            gettext(
                "The quota is already %(quota)s, at least what was asked: approving would "
                "raise nothing. Reject the request with a note instead.",
                quota=labels.amount(request.resource, quota),
            ),
            field="granted_value",
        )
    if granted is None or granted == "":
        return request.requested_value
    if isinstance(granted, bool) or not isinstance(granted, int):
        raise Invalid(gettext("Enter a whole number."), field="granted_value")
    if not quota < granted <= request.requested_value:
        raise Invalid(
            gettext(
                "Grant between %(low)s (more than the current quota) and %(high)s (what was "
                "asked).",
                low=labels.amount(request.resource, quota + 1),
                high=labels.amount(request.resource, request.requested_value),
            ),
            field="granted_value",
        )
    return granted


def approve(
    actor: User,
    request_id: int,
    granted=None,
    note: str | None = None,
    *,
    ip: str | None = None,
) -> ReviewRow:
    """Approve a pending request, granting ``granted`` (default: what was asked); the
    database raises the quota in this transaction. Returns the row as the queue shows it."""
    require_platform_admin(actor)
    request, account = _lock(request_id)
    if not states.QUOTA_REQUEST.allows("approve", request.status):
        raise _already_decided(request)
    quota = account.quota(request.resource)
    value = _parse_granted(request, quota, granted)
    note = _parse_note(note, required=False)
    _decide(request, "approved", actor, note, granted=value)
    db.session.refresh(account)  # the trigger raised the quota
    _announce(
        actor,
        Action.QUOTA_APPROVED,
        request,
        account,
        ip=ip,
        details={
            "resource": request.resource,
            "requested": request.requested_value,
            "granted": value,
            "previous_quota": quota,
            "quota": account.quota(request.resource),
            **({"note": note} if note else {}),
        },
    )
    return review_row(actor, request.id)


def reject(actor: User, request_id: int, note: str | None, *, ip: str | None = None) -> ReviewRow:
    """Reject a pending request with a note (required). Returns the row as shown now."""
    require_platform_admin(actor)
    request, account = _lock(request_id)
    if not states.QUOTA_REQUEST.allows("reject", request.status):
        raise _already_decided(request)
    note = _parse_note(note, required=True)
    _decide(request, "rejected", actor, note)
    _announce(
        actor,
        Action.QUOTA_REJECTED,
        request,
        account,
        ip=ip,
        details={
            "resource": request.resource,
            "requested": request.requested_value,
            "note": note,
        },
    )
    return review_row(actor, request.id)


def _decide(
    request: QuotaRequest, status: str, actor: User, note: str | None, granted: int | None = None
) -> None:
    request.status = status
    request.granted_value = granted
    request.reviewed_by_id = actor.id
    request.reviewed_at = clock.now()
    request.review_note = note
    db.session.flush()


def _recipients(account_id: int, requester_id: int | None) -> list:
    """The organization's owners and the requester (if still a member): id, email, name,
    locale. One query."""
    who = AccountMember.role == Role.OWNER.value
    if requester_id is not None:
        who = or_(who, AccountMember.user_id == requester_id)
    return db.session.execute(
        select(User.id, User.email, User.name, User.locale)
        .join(AccountMember, AccountMember.user_id == User.id)
        .where(AccountMember.account_id == account_id, who)
        .order_by(User.id)
    ).all()


def _announce(
    actor: User, action: Action, request: QuotaRequest, account: Account, *, ip, details
) -> None:
    """The audit row, the notifications and the emails, in the caller's transaction."""
    people = _recipients(account.id, request.requested_by_id)
    path = links.path("quotas.index", account_id=account.id)
    events.emit(
        actor,
        action,
        request,
        account=account,
        ip=ip,
        details=details,
        notify=[p.id for p in people],
        link=path,
        params={
            "resource": request.resource,
            "requested": request.requested_value,
            "granted": request.granted,
        },
    )
    url = links.external("quotas.index", account_id=account.id)
    for person in people:
        if person.id == actor.id:
            continue
        mail.queue(
            person.email,
            "quota_decision",
            _subject(request.status, account),
            locale=person.locale,
            name=person.name,
            account_name=account.name,
            resource=request.resource,
            status=request.status,
            requested=request.requested_value,
            granted=request.granted,
            quota=account.quota(request.resource),
            note=request.review_note,
            link=url,
        )


def _subject(status: str, account: Account):
    """The subject, lazily translated (mail.queue renders it in the recipient's language)."""
    if status == "approved":
        return _l("Your quota request for %(account)s was approved", account=account.name)
    return _l("Your quota request for %(account)s was rejected", account=account.name)


# ---------------------------------------------------------- the organization's page ---
ADMIN_SECTION_REQUESTS = 10


@dataclass(frozen=True)
class AdminQuotas:
    """The quotas section of /admin/accounts/<id>: the meters and the latest requests
    (pending ones can be decided right there, with the queue's own card)."""

    account_id: int
    usage: Usage
    requests: list[ReviewRow]


def admin_section(actor: User, account: Account) -> AdminQuotas:
    """Two queries: the usage, the latest ADMIN_SECTION_REQUESTS requests."""
    require_platform_admin(actor)
    return AdminQuotas(
        account.id, usage(account), account_requests(actor, account.id, ADMIN_SECTION_REQUESTS)
    )
