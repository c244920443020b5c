"""The demo seed's toolkit: one builder per thing the demo holds, each writing it the way
the portal does, at a moment in the past.

- :func:`at` runs a block at an earlier moment: the services read ``clock.now()`` (so
  approvals, invitations, logins, audit rows and notifications carry that time), and the
  rows the block inserts are dated then too (their ``created_at``). Nothing is ever dated
  after now.
- People, organizations, members, invitations, role and status changes, password resets,
  logins and read notifications go through the services (``users``, ``accounts``,
  ``admin``, ``invitations``, ``members``, ``auth``, ``notifications``): the same rules,
  the same audit rows and notifications as a person clicking.
- Buckets, access keys and quota requests go through their services too (``buckets``,
  ``keys``, ``quotas``), the month's invoices through the invoicing service
  (:func:`month_invoices`) and usage through the usage import (:func:`usage`), as the
  metering pipeline's files arrive.
- Orders, subscriptions and the older invoices: each has ONE builder here that writes its
  rows, walks its state machine through :mod:`portal.states` (one allowed move at a time,
  as the database's triggers demand) and records each step with :func:`portal.events.emit`.

Every builder writes into the caller's transaction; the command commits once.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import event, func, select
from stdnum.br import cnpj as stdnum_cnpj

from portal import clock, events, lifecycle, links, states
from portal.accounts import services as accounts
from portal.admin import services as admin
from portal.audit import Action
from portal.auth import services as auth
from portal.buckets import rules as bucket_rules
from portal.buckets import services as bucket_services
from portal.events import Target
from portal.extensions import db
from portal.invitations import joining, managing
from portal.keys import services as keys
from portal.members import services as members
from portal.models import (
    AccessKey,
    Account,
    AccountMember,
    Bucket,
    EmailOutbox,
    Invitation,
    Invoice,
    InvoiceLine,
    Notification,
    Order,
    Product,
    QuotaRequest,
    Subscription,
    User,
)
from portal.models.base import Base
from portal.notifications import services as notifications
from portal.quotas import review as quota_review
from portal.quotas import services as quota_services
from portal.sessions import services as sessions
from portal.users import services as users

DEMO_IP = "200.160.2.3"  # where the demo's people click from


# ---------------------------------------------------------------------------- time ---
def now() -> datetime:
    return datetime.now(UTC)


def days_ago(days: float) -> datetime:
    return now() - timedelta(days=days)


def month_start(months_back: int) -> date:
    """The first day of the month ``months_back`` months before this one."""
    today = now().date()
    index = today.year * 12 + today.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def _stamp_new_rows(session, _context, _instances) -> None:
    moment = clock.now()
    for row in session.new:
        if "created_at" in row.__mapper__.columns and row.created_at is None:
            row.created_at = moment


@contextmanager
def at(when: datetime) -> Iterator[None]:
    """Run the block as if it were ``when`` (never later than now): services and audit rows
    read that time, and rows inserted without a time of their own get it as created_at."""
    if when > now():
        raise ValueError(f"the demo never writes the future ({when:%Y-%m-%d %H:%M})")
    session = db.session()
    event.listen(session, "before_flush", _stamp_new_rows)
    try:
        with clock.travel(when):
            yield
            session.flush()
    finally:
        event.remove(session, "before_flush", _stamp_new_rows)


# -------------------------------------------------------------------------- tally ---
def table_counts() -> dict[str, int]:
    """Rows per table (one statement): what a run added is the difference."""
    tables = sorted(Base.metadata.tables.values(), key=lambda t: t.name)
    counts = db.session.execute(
        select(*(select(func.count()).select_from(t).scalar_subquery() for t in tables))
    ).one()
    return {t.name: n for t, n in zip(tables, counts, strict=True)}


def cnpj(base: str) -> str:
    """A valid, normalized CNPJ from its first 12 characters."""
    return base + stdnum_cnpj.calc_check_digits(base)


# -------------------------------------------------------------------- the services ---
def person(
    email: str, name: str, password: str, *, when: datetime, admin: bool = False
) -> tuple[User, bool]:
    """The person with ``email``, signed up at ``when`` if new: (user, created?)."""
    user = users.find_by_email(email)
    if user is not None:
        return user, False
    with at(when):
        user = users.create_user(
            email, name, password, locale="pt_BR", email_verified=True, source="seed", ip=DEMO_IP
        )
        if admin:
            users.promote_admin(user)
    return user, True


def organization(owner: User, name: str, cnpj_: str, *, when: datetime) -> tuple[Account, bool]:
    """The organization with ``cnpj_``, created by ``owner`` at ``when`` if new."""
    account = db.session.scalar(select(Account).where(Account.cnpj == cnpj_))
    if account is not None:
        return account, False
    with at(when):
        return accounts.create_account(owner, name, cnpj_, ip=DEMO_IP), True


def change_status(
    account: Account, staff: User, action: str, *, when: datetime, reason: str | None = None
) -> None:
    """A platform admin's move (approve, activate, suspend, reactivate)."""
    with at(when):
        admin.change_status(staff, account.id, action, reason, ip=DEMO_IP)
    db.session.refresh(account)


def review(
    account: Account,
    staff: User,
    goal: str,
    *,
    when: datetime,
    reason: str | None = None,
    pause: timedelta = timedelta(hours=12),
) -> None:
    """A platform admin moves the organization to ``goal`` one allowed move at a time
    (``portal.states.ACCOUNT``), the first at ``when``, each ``pause`` after the last."""
    for i, (action, _state) in enumerate(states.ACCOUNT.steps(goal, start=account.status)):
        change_status(account, staff, action, when=when + i * pause, reason=reason)


def join(account: Account, user: User, role: str, *, inviter: User, when: datetime) -> None:
    """``user`` became a member at ``when``, long enough ago that the invitation link they
    followed has expired since (the database only accepts live invitations): the
    membership and its ``member.joined`` event, as accepting writes them."""
    with at(when):
        members.add_member(account, user, role, invited_by_id=inviter.id)
        members.announce_join(account, user, role, ip=DEMO_IP)


def invite(account: Account, inviter: User, email: str, role: str, *, when: datetime) -> Invitation:
    """An invitation sent at ``when`` (at most 7 days ago to stay acceptable)."""
    with at(when):
        return managing.invite(inviter, account.id, email, role, ip=DEMO_IP)


def accept(invitation: Invitation, user: User, *, when: datetime) -> None:
    """``user`` follows the link of the invitation's email and joins."""
    with at(when):
        joining.accept(user, _emailed_token(invitation.email, "invitations"), ip=DEMO_IP)


def revoke(invitation: Invitation, actor: User, *, when: datetime) -> None:
    with at(when):
        managing.revoke(actor, invitation.account_id, invitation.id, ip=DEMO_IP)


def change_role(account: Account, actor: User, user: User, role: str, *, when: datetime) -> None:
    member_id = db.session.scalar(
        select(AccountMember.id).where(
            AccountMember.account_id == account.id, AccountMember.user_id == user.id
        )
    )
    with at(when):
        members.change_role(actor, account.id, member_id, role, ip=DEMO_IP)


def reset_password(user: User, password: str, *, when: datetime) -> None:
    """``user`` asks for a reset link at ``when`` and uses it 12 minutes later."""
    tokens: list[str] = []

    def reset_url(token: str) -> str:
        tokens.append(token)
        return links.external("auth.reset_password", token=token)

    with at(when):
        auth.request_password_reset(user.email, reset_url, ip=DEMO_IP)
    with at(when + timedelta(minutes=12)):
        auth.reset_password(tokens[0], password, ip=DEMO_IP)


def log_in(email: str, password: str, *, when: datetime) -> User:
    with at(when):
        user = auth.login(email, password, ip=DEMO_IP)
    if user is None:
        raise ValueError(f"the demo login of {email} failed")
    return user


def device_session(
    user: User, *, user_agent: str, ip: str, started: datetime, last_seen: datetime
) -> None:
    """``user`` is logged in on another device (what /sessions lists), through the sessions
    service. The random id that device would hold is not kept: nobody can use it."""
    with at(started):
        sessions.start(user, remember=True, ip=ip, user_agent=user_agent)
    user.login_session.last_seen_at = last_seen
    db.session.flush()


def open_organization(user: User, account: Account, *, when: datetime) -> None:
    """``user`` opens the organization's dashboard ("/" leads there next time)."""
    with at(when):
        accounts.dashboard(user, account.id)


def read_notifications(account: Account, *, before: datetime, after: timedelta) -> None:
    """Each notification about ``account`` created before ``before`` is read by its person
    ``after`` it arrived (never later than now)."""
    rows = db.session.execute(
        select(Notification.id, Notification.created_at, User)
        .join(User, User.id == Notification.user_id)
        .where(
            Notification.account_id == account.id,
            ~Notification.read,
            Notification.created_at < before,
        )
        .order_by(Notification.id)
    ).all()
    for notification_id, created_at, user in rows:
        with at(min(created_at + after, now())):
            notifications.mark_read(user, notification_id)


def _emailed_token(address: str, prefix: str) -> str:
    """The token in the link of the last email queued to ``address`` (as its reader would
    follow it: the database keeps only the token's hash)."""
    body = db.session.scalar(
        select(EmailOutbox.body_text)
        .where(EmailOutbox.to_address == address)
        .order_by(EmailOutbox.id.desc())
        .limit(1)
    )
    match = re.search(rf"/{prefix}/([A-Za-z0-9_-]+)", body or "")
    if match is None:
        raise ValueError(f"no {prefix} link in the last email to {address}")
    return match.group(1)


# ------------------------------------------------ domains without a service (yet) ---
# Each writes its rows directly, moves them with portal.states and records each step with
# events.emit; swap the body for the service call when the domain's service exists.


def _emit(actor, action: Action, target: Target, account: Account, **details) -> None:
    events.emit(
        actor,
        action,
        target,
        account=account,
        ip=DEMO_IP if actor is not None else None,
        details=details,
    )


def _walk(machine: states.StateMachine, row, column: str, goal: str, start: str | None = None):
    """Move ``row`` to ``goal`` one allowed move at a time: for each, the state is set and
    (action, state) yielded, so the caller sets the columns that move needs and records it;
    then the move is written (one UPDATE per move, as the database's trigger wants)."""
    for action, state in machine.steps(goal, start):
        setattr(row, column, state)
        yield action, state
        db.session.flush()


def product(sku: str, name: str, price: str, description: str) -> Product:
    """A catalog entry (the catalog has no audit trail)."""
    found = db.session.scalar(select(Product).where(Product.sku == sku))
    if found is not None:
        return found
    row = Product(sku=sku, name=name, price_monthly=Decimal(price), description=description)
    db.session.add(row)
    db.session.flush()
    return row


def bucket(
    account: Account,
    actor: User,
    name: str,
    *,
    when: datetime,
    versioning: str = "unversioned",
    rules: Sequence[dict] = (),
) -> Bucket:
    """A bucket created at ``when`` through the buckets service; versioning switched on a
    few days later (and suspended if asked), lifecycle rules imported after that (the S3
    JSON import). Its size is what the metering pipeline last measured (fixed per name)."""
    with at(when):
        row = bucket_services.create_bucket(actor, account.id, name, ip=DEMO_IP)
    for i, (action, _state) in enumerate(states.VERSIONING.steps(versioning)):
        with at(when + timedelta(days=15 + 5 * i)):
            bucket_services.change_versioning(actor, account.id, name, action, ip=DEMO_IP)
    if rules:
        with at(when + timedelta(days=20)):
            bucket_rules.import_rules(
                actor,
                account.id,
                name,
                pasted=json.dumps(lifecycle.to_s3(list(rules))),
                acknowledge=True,
                ip=DEMO_IP,
            )
    digest = int(hashlib.sha256(name.encode()).hexdigest(), 16)
    row.object_count = 1_000 + digest % 90_000
    row.size_bytes = (1 + digest % 30) * 1024**3  # within the 100 GB quota
    db.session.flush()
    return row


def access_key(
    account: Account,
    actor: User,
    name: str,
    *,
    when: datetime,
    status: str = "active",
    changed: datetime | None = None,
    last_used: datetime | None = None,
    permission: str = "read-write",
    buckets: Sequence[Bucket] = (),
    expires_on: date | None = None,
    rotated: datetime | None = None,
) -> AccessKey:
    """A key created by ``actor`` at ``when`` through the keys service (its secret sealed
    and thrown away), scoped to ``buckets`` when given, rotated at ``rotated``, moved to
    ``status`` at ``changed``; ``last_used`` as usage ingestion would record it."""
    with at(when):
        issued = keys.create_key(
            actor,
            account.id,
            name,
            permission=permission,
            scope="buckets" if buckets else "all",
            bucket_ids=[b.id for b in buckets],
            expires_on=expires_on,
            ip=DEMO_IP,
        )
    key_id = issued.row.key_id
    if rotated is not None:
        with at(rotated):
            keys.rotate_key(actor, account.id, key_id, ip=DEMO_IP)
    if status != "active":
        with at(changed or when):
            if status == "inactive":
                keys.deactivate_key(actor, account.id, key_id, ip=DEMO_IP)
            else:
                keys.revoke_key(actor, account.id, key_id, ip=DEMO_IP)
    key = db.session.scalar(select(AccessKey).where(AccessKey.key_id == key_id))
    if last_used is not None:
        key.last_used_at = last_used
        db.session.flush()
    return key


def key_expiry_notices(*, when: datetime) -> None:
    """The daily ``flask keys expiry-notices`` as it ran at ``when``."""
    with at(when):
        keys.send_expiry_notices(clock.now())


ORDER_ACTIONS = {"pay": Action.ORDER_PAID, "fulfil": Action.ORDER_FULFILLED}


def order(
    account: Account,
    item: Product,
    buyer: User,
    staff: User,
    *,
    when: datetime,
    status: str = "pending",
    quantity: int = 1,
) -> Order:
    """An order placed by ``buyer`` at ``when``; paid and fulfilled by ``staff`` (or
    cancelled by the buyer) a day later."""
    with at(when):
        row = Order(
            account_id=account.id,
            product_id=item.id,
            quantity=quantity,
            unit_price=item.price_monthly,
            total=item.price_monthly * quantity,
            placed_by_id=buyer.id,
        )
        db.session.add(row)
        db.session.flush()
        target = Target("order", row.id, item.name)
        _emit(buyer, Action.ORDER_PLACED, target, account)
    for action, state in _walk(states.ORDER, row, "status", status):
        with at(min(when + timedelta(days=1), now())):
            setattr(row, f"{state}_at", clock.now())
            if action == "cancel":
                _emit(buyer, Action.ORDER_CANCELLED, target, account)
            else:
                _emit(staff, ORDER_ACTIONS[action], target, account)
    return row


def subscription(
    account: Account,
    item: Product,
    *,
    when: datetime,
    quantity: int = 1,
    cancelled: datetime | None = None,
) -> Subscription:
    """A subscription started at ``when`` (cancelled at ``cancelled``). The database makes
    an approved account active with its first subscription: that move is dated ``when``
    and recorded as the system's."""
    previous = account.status
    with at(when):
        row = Subscription(
            account_id=account.id,
            product_id=item.id,
            quantity=quantity,
            started_at=when,
            current_period_end=when + timedelta(days=30 * (1 + (now() - when).days // 30)),
        )
        db.session.add(row)
        db.session.flush()
        db.session.refresh(account)  # the trigger may have activated it
        if account.status != previous:
            account.activated_at = when  # the trigger wrote the database's now()
            _emit(
                None,
                Action.ACCOUNT_STATUS_CHANGED,
                Target.of(account),
                account,
                **{"from": previous, "to": account.status},
            )
    if cancelled is not None:
        for _action, _state in _walk(states.SUBSCRIPTION, row, "status", "cancelled"):
            row.cancelled_at = cancelled
    return row


def invoice(
    account: Account,
    staff: User,
    period_start: date,
    *,
    status: str,
    lines: Sequence[tuple[str, str, str]],
) -> Invoice:
    """The invoice of the month starting ``period_start``, drafted when the month ended,
    issued the day after (paid 6 days later, or voided 2 days later)."""
    period_end = date(period_start.year + period_start.month // 12, period_start.month % 12 + 1, 1)
    drafted = min(datetime.combine(period_end, time(0), UTC), now())
    amounts = [
        (
            text,
            Decimal(q),
            Decimal(p),
            (Decimal(q) * Decimal(p)).quantize(Decimal("0.01"), ROUND_HALF_UP),
        )
        for text, q, p in lines
    ]
    with at(drafted):
        row = Invoice(
            account_id=account.id,
            period_start=period_start,
            period_end=period_end,
            total=sum((a for *_, a in amounts), Decimal("0.00")),
        )
        db.session.add(row)
        db.session.flush()
        db.session.add_all(
            InvoiceLine(invoice_id=row.id, description=t, quantity=q, unit_price=p, amount=a)
            for t, q, p, a in amounts
        )
    issued = min(drafted + timedelta(days=1), now())
    for action, _state in _walk(states.INVOICE, row, "status", status):
        if action == "open":
            with at(issued):
                row.issued_at = clock.now()
                row.due_at = period_end + timedelta(days=10)
                label = str(row.number)  # assigned by the database (RETURNING)
                _emit(staff, Action.INVOICE_ISSUED, Target("invoice", row.id, label), account)
        elif action == "pay":
            row.paid_at = min(issued + timedelta(days=6), now())
            row.payment_reference = f"E2E{row.number:029d}"
        elif action == "void":
            row.voided_at = min(issued + timedelta(days=2), now())
            row.void_reason = "Emitida com o valor errado; substituída por outra fatura."
    db.session.flush()
    return row


def month_invoices(
    staff: User,
    period_start: date,
    *,
    paid: Account | None = None,
    keep_draft: Account | None = None,
) -> list[Invoice]:
    """A month's invoices through the invoicing service, as staff issue them: drafted the
    day after the month ended and opened the same day (the customers are told), except
    ``keep_draft``'s (still under review); ``paid``'s paid five days later."""
    from portal.billing import invoices

    period_end = invoices.next_month(period_start)
    issued = min(datetime.combine(period_end + timedelta(days=1), time(9), UTC), now())
    with at(issued):
        result = invoices.issue_period(staff, period_start, ip=DEMO_IP)
        rows = list(
            db.session.scalars(
                select(Invoice).where(Invoice.number.in_(result.numbers)).order_by(Invoice.number)
            )
        )
        for row in rows:
            if keep_draft is None or row.account_id != keep_draft.id:
                invoices.open_invoice(staff, row.id, ip=DEMO_IP)
    for row in rows:
        if paid is not None and row.account_id == paid.id and row.status == "open":
            with at(min(issued + timedelta(days=5), now())):
                invoices.mark_paid(staff, row.id, f"E2E{row.number:029d}", ip=DEMO_IP)
    db.session.flush()
    return rows


def usage(
    account: Account,
    buckets: Sequence[Bucket],
    *,
    days: int,
    sizes: dict[str, int] | None = None,
    key: AccessKey | None = None,
) -> None:
    """``days`` days of metered usage up to yesterday, per bucket and day (storage growing
    to the bucket's size, egress, PUT and GET requests), plus today's bucket snapshots —
    written by the usage import (:mod:`portal.usage.importer`), as the metering pipeline's
    files are, so the bucket sizes come from snapshots (``sizes``: GB by bucket name, else
    the bucket's own) and ``key``'s "last used" from the request events that name it (those
    since it was created). Then the storage-quota notices due."""
    import json

    from portal.usage import importer, thresholds

    today = datetime.combine(now().date(), time(0), UTC)
    lines = []
    for bucket in buckets:
        digest = int(hashlib.sha256(bucket.name.encode()).hexdigest(), 16)
        size = (sizes or {}).get(bucket.name, 0) * 1024**3 or bucket.size_bytes
        final_gb = Decimal(size) / 1024**3
        for day in range(days, 0, -1):
            start = today - timedelta(days=day)
            grown = final_gb * (Decimal(1) - Decimal(day) / Decimal(days * 2))
            wobble = Decimal((digest >> day) % 7) / 10
            for metric, quantity in (
                ("storage_gb_hours", grown * 24),
                ("egress_gb", grown * (Decimal("0.01") + wobble / 10)),
                ("requests_put", Decimal(200 + (digest >> (day + 3)) % 800)),
                ("requests_get", Decimal(2_000 + (digest >> (day + 5)) % 20_000)),
            ):
                line = {
                    "event_id": f"seed-{account.cnpj}-{bucket.name}-{metric}-{start:%Y%m%d}",
                    "organization": account.cnpj,
                    "bucket": bucket.name,
                    "metric": metric,
                    "quantity": str(quantity.quantize(Decimal("0.000001"))),
                    "period_start": start.isoformat(),
                    "period_end": (start + timedelta(days=1)).isoformat(),
                }
                if key is not None and metric.startswith("requests_") and start >= key.created_at:
                    line["access_key"] = key.key_id
                lines.append(line)
        lines.append(
            {
                "organization": account.id,
                "bucket": bucket.name,
                "objects": bucket.object_count,
                "bytes": size,
                "measured_at": (now() - timedelta(hours=1)).isoformat(),
            }
        )
    result = importer.import_lines((json.dumps(line).encode() for line in lines), "jsonl")
    if result.rejected:
        raise RuntimeError(f"the demo's usage was refused: {result.rejections[:3]}")
    thresholds.check(result.accounts)
    db.session.flush()


def quota_request(
    account: Account,
    requester: User,
    staff: User,
    resource: str,
    value: int,
    *,
    when: datetime,
    status: str = "pending",
    reason: str = "",
    note: str | None = None,
) -> QuotaRequest:
    """A request at ``when`` through the quotas service, decided by ``staff`` a day later
    (``status`` approved or rejected, with ``note``) unless it stays pending. The database
    raises the quota on approval."""
    with at(when):
        row = quota_services.request_increase(
            requester, account.id, resource, value, reason, ip=DEMO_IP
        )
    if status != "pending":
        with at(when + timedelta(days=1)):
            if status == "approved":
                quota_review.approve(staff, row.id, value, note, ip=DEMO_IP)
            else:
                quota_review.reject(staff, row.id, note, ip=DEMO_IP)
    db.session.refresh(account)  # an approval raised the quota
    return row
