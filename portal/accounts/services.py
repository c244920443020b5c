"""Organizations: creating one, the dashboard's figures, and where ``/`` leads.

No request, flash, current_user or commit here: the caller owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select

from portal import clock, cnpj, events, text
from portal.audit import Action
from portal.errors import Invalid, insert_unique
from portal.extensions import db
from portal.models import Account, AccountMember, AccountStatus, Role, User
from portal.permissions import Permission, require
from portal.quotas import usage as quota_usage
from portal.quotas.usage import Usage

DUPLICATE_CNPJ = _l("An organization with this CNPJ is already registered.")
NAME_LENGTH = _l("The name must have between 2 and 120 characters.")
SUSPENDED = _l(
    "This organization is suspended and read-only: nobody can be invited or given another "
    "role until it is restored."
)


def read_only_reason(account: Account | None) -> str | None:
    """Why nothing can be created or changed in ``account`` now, in the reader's language
    (the suspension and the reason staff gave), or None when it is writable.

    The shared flag of every write control: page and row views expose it (``read_only``)
    and templates draw the control disabled with this text
    (``_macros/controls.html``'s ``disabled_control``) instead of a form that can only fail
    after submit. The services still refuse (``check_not_suspended``)."""
    if account is None or account.status != AccountStatus.SUSPENDED:
        return None
    if account.suspension_reason:
        return gettext(
            "This organization is suspended and read-only: %(reason)s. Nothing can be "
            "created or changed until PrimeCloud restores it.",
            reason=account.suspension_reason.strip().rstrip("."),
        )
    return gettext(
        "This organization is suspended and read-only. Nothing can be created or changed "
        "until PrimeCloud restores it."
    )


def check_not_suspended(account: Account, field: str | None = None) -> None:
    """A suspended account is read-only (DOMAIN.md): nothing that grants access (inviting,
    resending, joining, changing a role) happens there. What only takes access away
    (revoking an invitation, removing a member, leaving) stays possible, as switching an
    access key off does."""
    if account.status == AccountStatus.SUSPENDED:
        raise Invalid(str(SUSPENDED), field=field)


def set_status(
    account: Account, status: str, *, reason: str | None = None, when: datetime | None = None
) -> None:
    """Move ``account`` to ``status`` with the columns the database ties to it (the one
    place that knows them: the admin's moves, the demo seed and the test factories use it).
    Whether the move is allowed is ``portal.states.ACCOUNT``'s and the database's to say."""
    when = when or clock.now()
    account.status = status
    if status == AccountStatus.APPROVED:
        account.approved_at = when
    elif status == AccountStatus.ACTIVE:
        # The first activation is kept (as the subscription trigger does); a reactivation
        # lifts the suspension: the CHECK ties suspended_at to the 'suspended' status.
        account.activated_at = account.activated_at or when
        account.suspended_at = None
        account.suspension_reason = None
    elif status == AccountStatus.SUSPENDED:
        account.suspended_at = when
        account.suspension_reason = reason


def check_cnpj(value: str | None) -> str:
    """The normalized CNPJ if it is valid and not yet registered, else Invalid(field="cnpj")."""
    try:
        number = cnpj.validate(value)
    except cnpj.InvalidCNPJ as exc:
        raise Invalid(exc.message, field="cnpj") from None
    if db.session.scalar(select(exists().where(Account.cnpj == number))):
        raise Invalid(str(DUPLICATE_CNPJ), field="cnpj")
    return number


def create_account(user: User, name: str, cnpj_value: str, *, ip: str | None = None) -> Account:
    """A new organization, pending review, with ``user`` as its owner."""
    name = text.name_like(name, "name")
    if not 2 <= len(name) <= 120:
        raise Invalid(str(NAME_LENGTH), field="name")
    number = check_cnpj(cnpj_value)
    account = Account(
        name=name, cnpj=number, status=AccountStatus.PENDING.value, created_by_id=user.id
    )
    # A concurrent sign-up of the same CNPJ between our check and this insert.
    insert_unique(account, {"uq_accounts_cnpj": Invalid(str(DUPLICATE_CNPJ), field="cnpj")})
    db.session.add(AccountMember(account_id=account.id, user_id=user.id, role=Role.OWNER.value))
    user.last_account_id = account.id
    events.emit(
        user,
        Action.ACCOUNT_CREATED,
        account,
        account=account,
        ip=ip,
        details={"name": account.name, "cnpj": account.cnpj},
    )
    db.session.flush()
    return account


def home_account_id(user: User) -> int | None:
    """Where ``/`` leads: the last organization the person opened if they still belong to
    it, else their first membership, else None (→ create one). One query."""
    order = []
    if user.last_account_id is not None:
        order.append((AccountMember.account_id == user.last_account_id).desc())
    order += [AccountMember.created_at, AccountMember.id]
    return db.session.scalar(
        select(AccountMember.account_id)
        .where(AccountMember.user_id == user.id)
        .order_by(*order)
        .limit(1)
    )


@dataclass(frozen=True)
class Dashboard:
    account: Account
    membership: AccountMember
    member_count: int
    usage: Usage


def dashboard(user: User, account_id: int) -> Dashboard:
    """The dashboard's figures in two queries, whatever the account's size; remembers the
    organization as the person's last one (the caller commits)."""
    account, membership = require(user, account_id, Permission.ACCOUNT_READ)
    members = (
        select(func.count())
        .select_from(AccountMember)
        .where(AccountMember.account_id == account.id)
        .scalar_subquery()
    )
    counts = quota_usage.counts_statement(account.id)
    row = db.session.execute(select(members, *counts.selected_columns)).one()
    if user.last_account_id != account.id:
        user.last_account_id = account.id
    return Dashboard(account, membership, row[0], quota_usage.from_counts(account, *row[1:]))
