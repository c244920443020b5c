"""Who hears about a billing event, and how: the organization's owners and billing members
get a notification and an email, each in their own language; the person who acted is told
on the page instead.

One call per event (:func:`announce`), in the caller's transaction: the audit row
(``events.emit``), the notifications and the queued emails exist exactly when the change
does."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from portal import events, links, mail
from portal.audit import Action
from portal.extensions import db
from portal.models import Account, AccountMember, Role, User

AUDIENCE = (Role.OWNER, Role.BILLING)


@dataclass(frozen=True)
class Contact:
    id: int
    email: str
    locale: str | None


@dataclass(frozen=True)
class Fact:
    """One line of the email's summary: a label, a value and how to show it ("text",
    "money" or "datetime", formatted in the recipient's language)."""

    label: Any
    value: Any
    kind: str = "text"


def contacts(account_id: int) -> list[Contact]:
    """The account's owners and billing members (one query)."""
    rows = db.session.execute(
        select(User.id, User.email, User.locale)
        .join(AccountMember, AccountMember.user_id == User.id)
        .where(
            AccountMember.account_id == account_id,
            AccountMember.role.in_([r.value for r in AUDIENCE]),
        )
        .order_by(User.id)
    )
    return [Contact(*row) for row in rows]


def announce(
    actor: User,
    action: Action,
    target: Any,
    *,
    account: Account,
    ip: str | None,
    details: Mapping[str, Any],
    params: Mapping[str, Any],
    subject: Any,
    headline: Any,
    facts: Sequence[Fact],
    kind: str | None = None,
    page: tuple[str, Mapping[str, Any]] | None = None,
) -> None:
    """The audit row of ``action``, and a notification (``kind``, default the action) and
    an email to each owner and billing member but the actor.

    ``subject`` and ``headline`` are lazy strings (``lazy_gettext`` with their values): they
    are rendered in each recipient's language, as are ``facts``. ``page`` (an endpoint and
    its values) is where the notification and the email lead; the billing page by default."""
    endpoint, values = page or ("billing.index", {"account_id": account.id})
    audience = [c for c in contacts(account.id) if c.id != actor.id]
    events.emit(
        actor,
        action,
        target,
        account=account,
        ip=ip,
        details=details,
        notify=[c.id for c in audience],
        kind=kind,
        link=links.path(endpoint, **values),
        params=params,
    )
    link = links.external(endpoint, **values)
    for contact in audience:
        mail.queue(
            contact.email,
            "billing_update",
            subject,
            locale=contact.locale,
            headline=headline,
            account_name=account.name,
            facts=facts,
            link=link,
        )
