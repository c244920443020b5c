"""Following an invitation link: what the link shows, and joining (once, for 7 days, only
for the invited address). The membership itself is created by ``portal.members``.

No request, flash, current_user or commit here: the caller owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import aliased

from portal import clock, events, links
from portal.audit import Action
from portal.errors import DomainError, NotAllowed
from portal.extensions import db
from portal.invitations.tokens import hash_token, normalize_email
from portal.members import services as members
from portal.members.services import AlreadyMember, is_member
from portal.models import Account, AccountMember, AccountStatus, Invitation, User

__all__ = [
    "AlreadyMember",
    "InvitationUnavailable",
    "Joined",
    "Landing",
    "WrongUser",
    "accept",
    "is_member",
    "landing",
]


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
    if invitation.expires_at <= clock.now():
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


@dataclass(frozen=True)
class Joined:
    account: Account
    membership: AccountMember


def accept(user: User, token: str, *, ip: str | None = None) -> Joined:
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
    membership = members.add_member(
        account, user, invitation.role, invited_by_id=invitation.invited_by_id
    )
    when = clock.now()
    invitation.accepted_at = when
    invitation.accepted_by_id = user.id
    if user.email_verified_at is None:
        user.email_verified_at = when  # following the emailed link proves the address
    inviter = [invitation.invited_by_id] if invitation.invited_by_id is not None else []
    events.emit(
        user,
        Action.INVITATION_ACCEPTED,
        invitation,
        account=account,
        ip=ip,
        details={"role": invitation.role},
        notify=inviter,
        link=links.members(account.id),
        params={"member_name": user.name},
    )
    # The inviter was just told by "invitation.accepted"; the other managers hear it now.
    members.announce_join(
        account,
        user,
        invitation.role,
        ip=ip,
        details={"invitation_id": invitation.id},
        notify_except=tuple(inviter),
    )
    db.session.flush()
    return Joined(account, membership)
