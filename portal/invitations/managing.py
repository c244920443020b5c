"""Managing an organization's invitations: the list, invite, resend, revoke.

- At most one pending invitation per (account, email) (a partial unique index backs this);
  inviting an address whose pending invitation has expired revokes the old one and sends a
  new one in the same transaction.
- At most 50 invitations per organization in any rolling 24 hours, resends included.
- Owners and admins invite (members:manage); admins never invite owners nor touch an
  owner's invitation.
- A suspended organization is read-only: no invite or resend there; revoking still works
  (it only takes access away).

Every change locks the account row first (``require(..., lock=True)``), so the duplicate and
daily-limit checks of two simultaneous requests run one after the other.

No request, flash, current_user or commit here: the caller owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select

from portal import clock, events, mail
from portal.accounts.services import check_not_suspended, read_only_reason
from portal.audit import Action
from portal.errors import Invalid, NotAllowed, insert_unique
from portal.extensions import db
from portal.invitations.tokens import invitation_link, new_token, normalize_email
from portal.models import Account, AccountMember, AuditLog, Invitation, Role, User
from portal.permissions import (
    Permission,
    can_manage_role,
    grantable_roles,
    require,
    require_object,
)
from portal.users.services import find_by_email

TTL = timedelta(days=7)
DAILY_LIMIT = 50
PENDING_INDEX = "uq_invitations_pending_account_email"


@dataclass(frozen=True)
class InvitationView:
    """One invitation as a manager sees it, with what they may do."""

    invitation: Invitation
    account: Account
    viewer: AccountMember

    @property
    def id(self) -> int:
        return self.invitation.id

    @property
    def dom_id(self) -> str:
        return f"invitation-{self.invitation.id}"

    @property
    def state(self) -> str:
        return self.invitation.state

    @property
    def may_act(self) -> bool:
        """Resend and revoke: open invitations of a role the viewer may hand out."""
        return self.state in ("pending", "expired") and can_manage_role(
            self.viewer.role, self.invitation.role
        )

    @property
    def read_only(self) -> str | None:
        """Why resending is disabled now (a suspended organization), or None. Revoking
        stays possible: it only takes access away."""
        return read_only_reason(self.account)


@dataclass(frozen=True)
class InvitationsPage:
    account: Account
    membership: AccountMember
    invitations: list[InvitationView]  # pending ones, expired ones included (marked)
    sent_today: int
    daily_limit: int = DAILY_LIMIT

    @property
    def grantable(self) -> list[str]:
        return grantable_roles(self.membership.role)

    @property
    def read_only(self) -> str | None:
        """Why inviting is disabled now (a suspended organization), or None."""
        return read_only_reason(self.account)


def _parse_role(role: str | None) -> Role:
    try:
        return Role(role or "")
    except ValueError:
        raise Invalid(gettext("Choose one of the roles."), field="role") from None


def sends_in_last_day(account_id: int) -> int:
    """Invitations created plus resends, in the last 24 hours. One query."""
    since = clock.now() - timedelta(days=1)
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
    views = [InvitationView(i, account, membership) for i in rows]
    return InvitationsPage(account, membership, views, sends_in_last_day(account.id))


def invitation_row(user: User, account_id: int, invitation_id: int) -> InvitationView:
    """One invitation as ``user`` sees it now (an accepted or revoked one shows its state)."""
    account, membership, invitation = require_object(
        user, account_id, Permission.MEMBERS_MANAGE, Invitation, object_id=invitation_id
    )
    return InvitationView(invitation, account, membership)


# ----------------------------------------------------------------------- changes ---
def invite(
    actor: User, account_id: int, email: str, role: str, *, ip: str | None = None
) -> Invitation:
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
    already_pending = Invalid(
        gettext(
            "An invitation to %(email)s is already pending. You can resend it from the list.",
            email=email,
        ),
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
    if previous is not None and previous.expires_at > clock.now():
        raise already_pending
    _check_daily_limit(account.id)
    if previous is not None:  # expired: replace it
        _revoke(actor, previous, ip=ip, reason="expired, replaced by a new invitation")
    token, digest = new_token()
    invitation = Invitation(
        account_id=account.id,
        email=email,
        role=new_role.value,
        token_hash=digest,
        invited_by_id=actor.id,
        expires_at=clock.now() + TTL,
        sent_count=1,
    )
    insert_unique(invitation, {PENDING_INDEX: already_pending})
    _send(invitation, token, actor, account)
    events.emit(
        actor,
        Action.INVITATION_SENT,
        invitation,
        account=account,
        ip=ip,
        details={"email": email, "role": new_role.value},
    )
    return invitation


def _open_invitation(actor: User, account_id: int, invitation_id: int) -> InvitationView:
    account, membership, invitation = require_object(
        actor, account_id, Permission.MEMBERS_MANAGE, Invitation, object_id=invitation_id, lock=True
    )
    if not can_manage_role(membership.role, invitation.role):
        raise NotAllowed(gettext("Only owners can manage an invitation for an owner."))
    if invitation.accepted_at is not None:
        raise Invalid(gettext("This invitation was already accepted."))
    if invitation.revoked_at is not None:
        raise Invalid(gettext("This invitation was revoked."))
    return InvitationView(invitation, account, membership)


def resend(
    actor: User, account_id: int, invitation_id: int, *, ip: str | None = None
) -> InvitationView:
    """A new link (the old one stops working), valid 7 more days, in a new email."""
    view = _open_invitation(actor, account_id, invitation_id)
    account, invitation = view.account, view.invitation
    check_not_suspended(account)
    if _is_member(account.id, invitation.email):
        raise Invalid(
            gettext("%(email)s is already a member of this organization.", email=invitation.email)
        )
    _check_daily_limit(account.id)
    token, digest = new_token()
    invitation.token_hash = digest
    invitation.expires_at = clock.now() + TTL
    invitation.sent_count = invitation.sent_count + 1
    db.session.flush()
    _send(invitation, token, actor, account)
    events.emit(
        actor,
        Action.INVITATION_RESENT,
        invitation,
        account=account,
        ip=ip,
        details={"sent_count": invitation.sent_count},
    )
    return view


def revoke(
    actor: User, account_id: int, invitation_id: int, *, ip: str | None = None
) -> InvitationView:
    """The link stops working; the row stays (revoked_at, revoked_by_id) for the record."""
    view = _open_invitation(actor, account_id, invitation_id)
    _revoke(actor, view.invitation, ip=ip)
    return view


def _revoke(actor: User, invitation: Invitation, *, ip: str | None = None, **details) -> None:
    invitation.revoked_at = clock.now()
    invitation.revoked_by_id = actor.id
    events.emit(
        actor,
        Action.INVITATION_REVOKED,
        invitation,
        account=invitation.account_id,
        ip=ip,
        details=details,
    )
    db.session.flush()
