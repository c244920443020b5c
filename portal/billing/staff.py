"""Staff's view of one organization's billing (the "Subscriptions and orders" section of
/admin/accounts/<id>): read-only — staff act on orders at /admin/orders."""

from __future__ import annotations

from dataclasses import dataclass

from portal.billing import orders, subscriptions
from portal.billing.orders import OrderRow
from portal.billing.subscriptions import SubscriptionRow
from portal.models import Account, User
from portal.permissions import require_platform_admin

ADMIN_SECTION_ROWS = 10


@dataclass
class AdminBilling:
    account_id: int
    subscriptions: list[SubscriptionRow]
    orders: list[OrderRow]
    more_orders: bool


def admin_section(actor: User, account: Account) -> AdminBilling:
    """The organization's subscriptions (active first) and its latest orders (pending
    first), at most :data:`ADMIN_SECTION_ROWS` of each, without any customer control (no
    membership: nothing may be cancelled here). Two queries."""
    require_platform_admin(actor)
    subs = subscriptions.account_subscriptions(account, None, limit=ADMIN_SECTION_ROWS)
    page = orders.account_orders(account, None, limit=ADMIN_SECTION_ROWS)
    return AdminBilling(account.id, subs, page.rows, page.next_cursor is not None)
