"""One call for "something happened": the audit row and the notifications of the right
people, in the caller's transaction.

    events.emit(actor, Action.MEMBER_ROLE_CHANGED, Target.of(member), account=account,
                ip=ip, details={...}, notify=[member.user.id], link=links.dashboard(id),
                params={...})

- the target (type, id, label) comes from the model: :meth:`Target.of` knows each kind;
- the IP is the caller's to give (a route passes ``web.client_ip()``); services never read
  the request;
- ``notify`` is a list of user ids or :class:`Roles` of the account; the actor is never
  notified of their own action;
- links are paths built by :mod:`portal.links` (``url_for``), never strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import singledispatch
from typing import Any

from sqlalchemy import select

from portal import audit
from portal.audit import Action
from portal.extensions import db
from portal.models import Account, AccountMember, AuditLog, Invitation, QuotaRequest, Role, User


# --------------------------------------------------------------------------- target ---
@dataclass(frozen=True)
class Target:
    """What an audit row is about: a kind, an id (text) and a label kept when it is gone."""

    type: str
    id: Any = None
    label: str | None = None

    @staticmethod
    def of(obj) -> Target:
        return target_of(obj)


@singledispatch
def target_of(obj) -> Target:
    raise TypeError(f"no audit target for {type(obj).__name__}: register one with target_of")


@target_of.register
def _(obj: Target) -> Target:
    return obj


@target_of.register
def _(account: Account) -> Target:
    return Target("account", account.id, account.name)


@target_of.register
def _(user: User) -> Target:
    return Target("user", user.id, user.email)


@target_of.register
def _(invitation: Invitation) -> Target:
    return Target("invitation", invitation.id, invitation.email)


@target_of.register
def _(request: QuotaRequest) -> Target:
    # A language-neutral label (it is stored): "#12 buckets 10 → 25".
    return Target(
        "quota_request",
        request.id,
        f"#{request.id} {request.resource} {request.current_value} → {request.requested_value}",
    )


def member_target(user: User) -> Target:
    """A membership is named by its person (target_id is the member's user id)."""
    return Target("member", user.id, user.email)


# ------------------------------------------------------------------------- audience ---
@dataclass(frozen=True)
class Roles:
    """The members of the event's account who hold one of ``roles``."""

    roles: tuple[Role, ...]

    def __init__(self, *roles: Role):
        object.__setattr__(self, "roles", tuple(roles))

    def user_ids(self, account_id: int) -> list[int]:
        return list(
            db.session.scalars(
                select(AccountMember.user_id)
                .where(
                    AccountMember.account_id == account_id,
                    AccountMember.role.in_([Role(r).value for r in self.roles]),
                )
                .order_by(AccountMember.user_id)
            )
        )


OWNERS = Roles(Role.OWNER)
MANAGERS = Roles(Role.OWNER, Role.ADMIN)


def _recipients(
    notify: Roles | Iterable[int] | None,
    account_id: int | None,
    actor: User | None,
    exclude: Iterable[int],
) -> list[int]:
    if notify is None:
        return []
    if isinstance(notify, Roles):
        if account_id is None:
            raise ValueError("notifying roles needs the event's account")
        ids = notify.user_ids(account_id)
    else:
        ids = list(notify)
    skip = set(exclude)
    if actor is not None:
        skip.add(actor.id)
    seen: list[int] = []
    for user_id in ids:
        if user_id not in skip and user_id not in seen:
            seen.append(user_id)
    return seen


# ---------------------------------------------------------------------------- emit ---
def emit(
    actor: User | None,
    action: Action,
    target: Any = None,
    *,
    account: Account | int | None = None,
    ip: str | None = None,
    details: Mapping[str, Any] | None = None,
    notify: Roles | Iterable[int] | None = None,
    exclude: Iterable[int] = (),
    kind: str | None = None,
    link: str | None = None,
    params: Mapping[str, Any] | None = None,
    notify_account: bool = True,
) -> AuditLog:
    """Write the audit row of ``action`` and notify ``notify`` (minus the actor and
    ``exclude``) with a notification of ``kind`` (default: the action) linking to ``link``.

    ``params`` are the notification's sentence parameters; ``account_name`` is added from
    the account. ``notify_account=False`` files the notification under no organization
    (someone who was just removed from it no longer sees it)."""
    account_id = account.id if isinstance(account, Account) else account
    t = Target.of(target) if target is not None else None
    row = audit.record(
        actor,
        action,
        account_id=account_id,
        target_type=t.type if t else None,
        target_id=t.id if t else None,
        target_label=t.label if t else None,
        ip=ip,
        **dict(details or {}),
    )
    recipients = _recipients(notify, account_id, actor, exclude)
    if recipients:
        from portal.notifications.services import notify as add_notification

        values = dict(params or {})
        if isinstance(account, Account):
            values.setdefault("account_name", account.name)
        for user_id in recipients:
            add_notification(
                user_id,
                kind or str(action),
                account_id=account_id if notify_account else None,
                link=link,
                **values,
            )
    return row
