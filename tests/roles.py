"""DOMAIN.md's "Roles inside an account", written out by hand for the tests — not derived
from ``portal.permissions``, so a change to the code's table shows up as a failing test."""

from __future__ import annotations

ROLES = ["owner", "admin", "member", "billing", "viewer"]
MANAGERS = {"owner", "admin"}  # members:manage

# permission: (owner, admin, member, billing, viewer)
TABLE = {
    "account:read": (True, True, True, True, True),
    "account:edit": (True, True, False, False, False),
    "members:manage": (True, True, False, False, False),
    "buckets:write": (True, True, True, False, False),
    "keys:write": (True, True, True, False, False),
    "billing": (True, True, False, True, False),
    # Issue 15: a subscription is cancelled by an owner or a billing member.
    "subscriptions:cancel": (True, False, False, True, False),
    "quotas:request": (True, True, False, False, False),
    "audit:read": (True, True, False, False, False),
}


def may(role: str, permission: str) -> bool:
    """Does DOMAIN.md give ``role`` the ``permission``?"""
    return TABLE[str(permission)][ROLES.index(role)]
