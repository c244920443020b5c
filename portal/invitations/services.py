"""Invitations by email link: invite, resend, revoke, and accept.

- The token is ``secrets.token_urlsafe(32)``; only its SHA-256 (hex) is stored, the token
  itself only travels in the email. A token works once and for 7 days.
- At most one pending invitation per (account, email) (a partial unique index backs this);
  inviting an address whose pending invitation has expired revokes the old one and sends a
  new one in the same transaction.
- At most 50 invitations per organization in any rolling 24 hours, resends included.
- Owners and admins invite (members:manage); admins never invite owners nor touch an
  owner's invitation.
- A suspended organization is read-only: no invite, resend or joining there; revoking still
  works (it only takes access away).

Every change locks the account row first (``require(..., lock=True)``), so the duplicate and
daily-limit checks of two simultaneous requests run one after the other.

No request, flash, current_user or commit here: the caller owns the transaction."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from portal import audit, mail
from portal.accounts.services import check_not_suspended
from portal.audit import Action
from portal.errors import DomainError, Invalid, NotAllowed, NotFound
from portal.extensions import db
from portal.models import Account, AccountMember, AccountStatus, AuditLog, Invitation, Role, User
from portal.notifications.services import notify
from portal.permissions import Permission, can_manage_role, id_in_range, require
from portal.users.services import find_by_email

TTL = timedelta(days=7)
DAILY_LIMIT = 50
PENDING_INDEX = "uq_invitations_pending_account_email"


# ------------------------------------------------------------------------ errors ---
class InvitationUnavailable(DomainError):
    """The link does not work: ``reason`` is unknown, revoked, expired or accepted (for
    good), or suspended (the organization is read-only for now: the link works again once
    it is restored, if it has not expired)."""

    STATUS = {"unknown": 404, "suspended": 409}

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
        self.status = self.STATUS.get(reason, 410)


class WrongUser(NotAllowed):
    """Logged in as someone other than the invited address."""

    def __init__(self, invited_email: str):
        super().__init__(gettext("This invitation was sent to another email address."))
        self.invited_email = invited_email


class AlreadyMember(DomainError):
    status = 409

    def __init__(self, account: Account):
        super().__init__(gettext("You are already a member of %(name)s.", name=account.name))
        self.account = account


# ----------------------------------------------------------------------- helpers ---
def now() -> datetime:
    return datetime.now(UTC)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def normalize_email(email: str | None) -> str:
    return (email or "").strip().lower()


def mask_email(email: str) -> str:
    """ana.souza@example.com → a•••••••a@example.com: enough to recognize, not to harvest."""
    local, _, domain = email.partition("@")
    if len(local) <= 2:
        masked = local[:1] + "•" * max(len(local) - 1, 1)
    else:
        masked = local[0] + "•" * (len(local) - 2) + local[-1]
    return f"{masked}@{domain}"


def invitation_link(token: str) -> str:
    """The absolute link in the email. Inside a request, from the request's host; outside
    (CLI), from PORTAL_BASE_URL."""
    if has_request_context():
        return url_for("invitations.landing", token=token, _external=True)
    base = urlsplit(current_app.config["PORTAL_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http"
    )
    return adapter.build("invitations.landing", {"token": token}, force_external=True)


def _parse_role(role: str | None) -> Role:
    try:
        return Role(role or "")
    except ValueError:
        raise Invalid(gettext("Choose one of the roles."), field="role") from None


def _constraint(exc: IntegrityError) -> str | None:
    return getattr(getattr(exc.orig, "diag", None), "constraint_name", None)


def sends_in_last_day(account_id: int) -> int:
    """Invitations created plus resends, in the last 24 hours. One query."""
    since = now() - timedelta(days=1)
    created = (
        select(func.count())
        .select_from(Invitation)
        .where(Invitation.account_id == account_id, Invitation.created_at > since)
        .scalar_subquery()
    )
    resent = (
        select(func.count())
        .select_from(AuditLog)
        .where(
            AuditLog.account_id == account_id,
            AuditLog.action == str(Action.INVITATION_RESENT),
            AuditLog.created_at > since,
        )
        .scalar_subquery()
    )
    return db.session.scalar(select(created + resent)) or 0


def _check_daily_limit(account_id: int) -> None:
    if sends_in_last_day(account_id) >= DAILY_LIMIT:
        raise Invalid(
            gettext(
                "This organization has sent %(limit)d invitations in the last 24 hours, the "
                "most we allow. Please try again later.",
                limit=DAILY_LIMIT,
            ),
            field="email",
        )


def _is_member(account_id: int, email: str) -> bool:
    return bool(
        db.session.scalar(
            select(
                exists()
                .where(AccountMember.account_id == account_id)
                .where(AccountMember.user_id == User.id)
                .where(func.lower(User.email) == email)
            )
        )
    )


def _recipient_locale(email: str, inviter: User) -> str | None:
    """The invited person's language if they already use the portal, else the inviter's."""
    existing = find_by_email(email)
    if existing is not None and existing.locale:
        return existing.locale
    return inviter.locale


def _send(invitation: Invitation, token: str, inviter: User, account: Account) -> None:
    mail.queue(
        invitation.email,
        "invitation",
        _l(
            "%(inviter)s invited you to %(account)s on PrimeCloud",
            inviter=inviter.name,
            account=account.name,
        ),
        locale=_recipient_locale(invitation.email, inviter),
        inviter_name=inviter.name,
        account_name=account.name,
        role=invitation.role,
        link=invitation_link(token),
        expires_at=invitation.expires_at,
    )


# ------------------------------------------------------------------------- pages ---
@dataclass(frozen=True)
class InvitationsPage:
    account: Account
    membership: AccountMember
    invitations: list[Invitation]  # pending ones, expired ones included (marked)
    sent_today: int
    daily_limit: int = DAILY_LIMIT


def list_invitations(user: User, account_id: int) -> InvitationsPage:
    """Open invitations (pending or expired, not accepted or revoked), newest first."""
    account, membership = require(user, account_id, Permission.MEMBERS_MANAGE)
    rows = db.session.scalars(
        select(Invitation)
        .where(
            Invitation.account_id == account.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    ).all()
    return InvitationsPage(account, membership, list(rows), sends_in_last_day(account.id))


# ----------------------------------------------------------------------- changes ---
def invite(actor: User, account_id: int, email: str, role: str) -> Invitation:
    """Invite ``email`` as ``role`` and queue the email with the link."""
    account, membership = require(actor, account_id, Permission.MEMBERS_MANAGE, lock=True)
    new_role = _parse_role(role)
    email = normalize_email(email)
    if "@" not in email.strip("@") or len(email) > 254:
        raise Invalid(gettext("Enter a valid email address."), field="email")
    if not can_manage_role(membership.role, new_role):
        raise NotAllowed(gettext("Only owners can invite someone as an owner."))
    check_not_suspended(account)
    if _is_member(account.id, email):
        raise Invalid(
            gettext("%(email)s is already a member of this organization.", email=email),
            field="email",
        )
    previous = db.session.scalar(
        select(Invitation)
        .where(
            Invitation.account_id == account.id,
            Invitation.email == email,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .with_for_update()
    )
    if previous is not None and previous.expires_at > now():
        raise Invalid(
            gettext(
                "An invitation to %(email)s is already pending. You can resend it from the list.",
                email=email,
            ),
            field="email",
        )
    _check_daily_limit(account.id)
    if previous is not None:  # expired: replace it
        _revoke(actor, previous, reason="expired, replaced by a new invitation")
    token, digest = new_token()
    invitation = Invitation(
        account_id=account.id,
        email=email,
        role=new_role.value,
        token_hash=digest,
        invited_by_id=actor.id,
        expires_at=now() + TTL,
        sent_count=1,
    )
    try:
        with db.session.begin_nested():
            db.session.add(invitation)
            db.session.flush()
    except IntegrityError as exc:
        if _constraint(exc) == PENDING_INDEX:
            raise Invalid(
                gettext(
                    "An invitation to %(email)s is already pending. You can resend it from the list.",
                    email=email,
                ),
                field="email",
            ) from None
        raise
    _send(invitation, token, actor, account)
    audit.record(
        actor,
        Action.INVITATION_SENT,
        account_id=account.id,
        target_type="invitation",
        target_id=invitation.id,
        target_label=email,
        email=email,
        role=new_role.value,
    )
    return invitation


def _open_invitation(actor: User, account_id: int, invitation_id: int):
    account, membership = require(actor, account_id, Permission.MEMBERS_MANAGE, lock=True)
    if not id_in_range(invitation_id):
        raise NotFound()
    invitation = db.session.scalar(
        select(Invitation)
        .where(Invitation.id == invitation_id, Invitation.account_id == account.id)
        .with_for_update()
    )
    if invitation is None:
        raise NotFound()
    if not can_manage_role(membership.role, invitation.role):
        raise NotAllowed(gettext("Only owners can manage an invitation for an owner."))
    if invitation.accepted_at is not None:
        raise Invalid(gettext("This invitation was already accepted."))
    if invitation.revoked_at is not None:
        raise Invalid(gettext("This invitation was revoked."))
    return account, invitation


def resend(actor: User, account_id: int, invitation_id: int) -> Invitation:
    """A new link (the old one stops working), valid 7 more days, in a new email."""
    account, invitation = _open_invitation(actor, account_id, invitation_id)
    check_not_suspended(account)
    if _is_member(account.id, invitation.email):
        raise Invalid(
            gettext("%(email)s is already a member of this organization.", email=invitation.email)
        )
    _check_daily_limit(account.id)
    token, digest = new_token()
    invitation.token_hash = digest
    invitation.expires_at = now() + TTL
    invitation.sent_count = invitation.sent_count + 1
    db.session.flush()
    _send(invitation, token, actor, account)
    audit.record(
        actor,
        Action.INVITATION_RESENT,
        account_id=account.id,
        target_type="invitation",
        target_id=invitation.id,
        target_label=invitation.email,
        sent_count=invitation.sent_count,
    )
    return invitation


def revoke(actor: User, account_id: int, invitation_id: int) -> Invitation:
    """The link stops working; the row stays (revoked_at, revoked_by_id) for the record."""
    _, invitation = _open_invitation(actor, account_id, invitation_id)
    _revoke(actor, invitation)
    return invitation


def _revoke(actor: User, invitation: Invitation, **details) -> None:
    invitation.revoked_at = now()
    invitation.revoked_by_id = actor.id
    audit.record(
        actor,
        Action.INVITATION_REVOKED,
        account_id=invitation.account_id,
        target_type="invitation",
        target_id=invitation.id,
        target_label=invitation.email,
        **details,
    )
    db.session.flush()


# ------------------------------------------------------------------- the landing ---
@dataclass(frozen=True)
class Landing:
    invitation: Invitation
    account: Account
    inviter_name: str | None


def _check_usable(invitation: Invitation, account: Account) -> None:
    if invitation.accepted_at is not None:
        raise InvitationUnavailable("accepted")
    if invitation.revoked_at is not None:
        raise InvitationUnavailable("revoked")
    if invitation.expires_at <= now():
        raise InvitationUnavailable("expired")
    if account.status == AccountStatus.SUSPENDED:
        raise InvitationUnavailable("suspended")


def landing(token: str) -> Landing:
    """What the link shows: the invitation, its organization and who sent it (one query)."""
    inviter = aliased(User)
    row = db.session.execute(
        select(Invitation, Account, inviter.name)
        .join(Account, Account.id == Invitation.account_id)
        .outerjoin(inviter, inviter.id == Invitation.invited_by_id)
        .where(Invitation.token_hash == hash_token(token))
    ).first()
    if row is None:
        raise InvitationUnavailable("unknown")
    invitation, account, inviter_name = row
    _check_usable(invitation, account)
    return Landing(invitation, account, inviter_name)


def is_member(user: User, account_id: int) -> bool:
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    and_(AccountMember.account_id == account_id, AccountMember.user_id == user.id)
                )
            )
        )
    )


@dataclass(frozen=True)
class Joined:
    account: Account
    membership: AccountMember


def accept(user: User, token: str) -> Joined:
    """``user`` joins the organization with the invitation's role. Works once, for 7 days,
    only for the invited address (case-insensitively)."""
    row = db.session.execute(
        select(Invitation, Account)
        .join(Account, Account.id == Invitation.account_id)
        .where(Invitation.token_hash == hash_token(token))
        .with_for_update(of=Invitation)
    ).first()
    if row is None:
        raise InvitationUnavailable("unknown")
    invitation, account = row
    _check_usable(invitation, account)
    if normalize_email(user.email) != invitation.email:
        raise WrongUser(invitation.email)
    if is_member(user, account.id):
        raise AlreadyMember(account)
    membership = AccountMember(
        account_id=account.id,
        user_id=user.id,
        role=invitation.role,
        invited_by_id=invitation.invited_by_id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(membership)
            db.session.flush()
    except IntegrityError as exc:  # joined from another tab at the same moment
        if _constraint(exc) == "uq_account_members_account_id_user_id":
            raise AlreadyMember(account) from None
        raise
    when = now()
    invitation.accepted_at = when
    invitation.accepted_by_id = user.id
    if user.email_verified_at is None:
        user.email_verified_at = when  # following the emailed link proves the address
    user.last_account_id = account.id
    audit.record(
        user,
        Action.INVITATION_ACCEPTED,
        account_id=account.id,
        target_type="invitation",
        target_id=invitation.id,
        target_label=invitation.email,
        role=invitation.role,
    )
    audit.record(
        user,
        Action.MEMBER_JOINED,
        account_id=account.id,
        target_type="member",
        target_id=user.id,
        target_label=user.email,
        role=invitation.role,
        invitation_id=invitation.id,
    )
    members_link = f"/accounts/{account.id}/members"
    if invitation.invited_by_id is not None and invitation.invited_by_id != user.id:
        notify(
            invitation.invited_by_id,
            str(Action.INVITATION_ACCEPTED),
            account_id=account.id,
            link=members_link,
            account_name=account.name,
            member_name=user.name,
        )
    managers = db.session.scalars(
        select(AccountMember.user_id).where(
            AccountMember.account_id == account.id,
            AccountMember.role.in_([Role.OWNER.value, Role.ADMIN.value]),
            AccountMember.user_id != user.id,
        )
    ).all()
    for manager_id in managers:
        if manager_id == invitation.invited_by_id:
            continue  # already told by "invitation.accepted"
        notify(
            manager_id,
            str(Action.MEMBER_JOINED),
            account_id=account.id,
            link=members_link,
            account_name=account.name,
            member_name=user.name,
            role=invitation.role,
        )
    db.session.flush()
    return Joined(account, membership)
