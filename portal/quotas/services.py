"""An organization's quotas: what it uses against each.

No request, flash, current_user or commit here: the caller owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass

from portal.models import Account, AccountMember, User
from portal.permissions import Permission, can, require
from portal.quotas.usage import Usage, usage


@dataclass(frozen=True)
class QuotasPage:
    account: Account
    membership: AccountMember
    usage: Usage

    @property
    def may_request(self) -> bool:
        return can(self.membership, Permission.QUOTAS_REQUEST)


def quotas_page(user: User, account_id: int) -> QuotasPage:
    """Every member sees the quotas and what is used against them. Two queries."""
    account, membership = require(user, account_id, Permission.ACCOUNT_READ)
    return QuotasPage(account, membership, usage(account))
