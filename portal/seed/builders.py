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
- Access keys go through their service (``portal.keys.services``).
- Buckets, orders, subscriptions, invoices, usage and quota requests have no
  service yet: each has ONE builder here that writes its rows, walks its state machine
  through :mod:`portal.states` (one allowed move at a time, as the database's triggers
  demand) and records each step with :func:`portal.events.emit`. When a domain's service
  lands, its builder becomes a call to it.

Every builder writes into the caller's transaction; the command commits once.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import event, func, select
from stdnum.br import cnpj as stdnum_cnpj

from portal import clock, events, links, states
from portal.accounts import services as accounts
from portal.admin import services as admin
from portal.audit import Action
from portal.auth import services as auth
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
    UsageRecord,
    User,
)
from portal.models.base import Base
from portal.notifications import services as notifications
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
    """A bucket created at ``when``; versioning switched on a few days later (and suspended
    if asked), lifecycle rules set after that. Usage figures are fixed per name."""
    digest = int(hashlib.sha256(name.encode()).hexdigest(), 16)
    with at(when):
        row = Bucket(
            account_id=account.id,
            name=name,
            object_count=1_000 + digest % 90_000,
            size_bytes=(1 + digest % 30) * 1024**3,  # within the 100 GB quota
            created_by_id=actor.id,
        )
        db.session.add(row)
        db.session.flush()
        _emit(actor, Action.BUCKET_CREATED, Target("bucket", row.id, name), account)
    for i, (_action, state) in enumerate(_walk(states.VERSIONING, row, "versioning", versioning)):
        with at(when + timedelta(days=15 + 5 * i)):
            _emit(
                actor,
                Action.BUCKET_VERSIONING_CHANGED,
                Target("bucket", row.id, name),
                account,
                versioning=state,
            )
    if rules:
        with at(when + timedelta(days=20)):
            row.lifecycle_rules = list(rules)
            _emit(
                actor,
                Action.BUCKET_LIFECYCLE_CHANGED,
                Target("bucket", row.id, name),
                account,
                rules=len(rules),
            )
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
        elif action == "void":
            row.voided_at = min(issued + timedelta(days=2), now())
    db.session.flush()
    return row


USAGE_METRICS = {
    "storage_gb_hours": Decimal("2400.5"),
    "egress_gb": Decimal("35.2"),
    "requests_put": Decimal("12000"),
    "requests_get": Decimal("98000"),
}


def usage(account: Account, buckets: Sequence[Bucket], *, days: int) -> None:
    """One record per metric for each of the last ``days`` whole days, recorded when the
    day ended (``source_event_id`` is unique: the metering pipeline's id)."""
    today = datetime.combine(now().date(), time(0), UTC)
    for day in range(days):
        start = today - timedelta(days=day + 1)
        for i, (metric, base) in enumerate(USAGE_METRICS.items()):
            used = buckets[(day + i) % len(buckets)] if buckets else None
            db.session.add(
                UsageRecord(
                    account_id=account.id,
                    bucket_id=used.id if used else None,
                    metric=metric,
                    quantity=base * (1 + Decimal(day) / 10),
                    period_start=start,
                    period_end=start + timedelta(days=1),
                    source_event_id=f"seed-{account.cnpj}-{metric}-{start:%Y%m%d}",
                    recorded_at=start + timedelta(days=1),
                )
            )
    db.session.flush()


QUOTA_DECISIONS = {
    "approve": (Action.QUOTA_APPROVED, "Aprovado para o plano atual"),
    "reject": (Action.QUOTA_REJECTED, "Uso atual não justifica o aumento"),
}


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
) -> QuotaRequest:
    """A request at ``when``, reviewed by ``staff`` a day later unless it stays pending. The
    database raises the quota on approval."""
    with at(when):
        row = QuotaRequest(
            account_id=account.id,
            resource=resource,
            current_value=account.quota(resource),
            requested_value=value,
            reason=reason,
            requested_by_id=requester.id,
        )
        db.session.add(row)
        db.session.flush()
        target = Target("quota_request", row.id, resource)
        _emit(requester, Action.QUOTA_REQUESTED, target, account, requested=value)
    for action, _state in _walk(states.QUOTA_REQUEST, row, "status", status):
        with at(when + timedelta(days=1)):
            audit_action, note = QUOTA_DECISIONS[action]
            row.reviewed_by_id = staff.id
            row.reviewed_at = clock.now()
            row.review_note = note
            _emit(staff, audit_action, target, account)
    db.session.refresh(account)  # an approval raised the quota
    return row
