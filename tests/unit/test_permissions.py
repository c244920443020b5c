"""DOMAIN.md's "Roles inside an account" table, cell by cell, written out by hand (not
derived from ROLE_PERMISSIONS, so a change to the table in code shows up here)."""

import pytest

from portal.errors import NotFound
from portal.models import Role
from portal.permissions import (
    ROLE_PERMISSIONS,
    Permission,
    allows,
    can,
    can_manage_role,
    require,
)
from tests import factories

ROLES = ["owner", "admin", "member", "billing", "viewer"]

# permission: (owner, admin, member, billing, viewer) — as in DOMAIN.md.
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

CELLS = [
    (role, permission, row[i]) for permission, row in TABLE.items() for i, role in enumerate(ROLES)
]


def test_the_table_covers_every_role_and_permission():
    assert {p.value for p in Permission} == set(TABLE)
    assert {r.value for r in Role} == set(ROLES)
    assert len(CELLS) == 45


@pytest.mark.parametrize(("role", "permission", "expected"), CELLS)
def test_role_permission_cell(role, permission, expected):
    assert allows(role, permission) is expected
    assert (Permission(permission) in ROLE_PERMISSIONS[Role(role)]) is expected


@pytest.mark.parametrize("permission", list(TABLE))
def test_no_role_no_permission(permission):
    assert allows(None, permission) is False
    assert can(None, permission) is False


# (actor role, role acted on or granted): may the actor?  Owners manage everyone; admins
# manage everyone but owners and never make an owner; other roles manage nobody.
MANAGE = {
    "owner": {"owner": True, "admin": True, "member": True, "billing": True, "viewer": True},
    "admin": {"owner": False, "admin": True, "member": True, "billing": True, "viewer": True},
    "member": {"owner": False, "admin": False, "member": False, "billing": False, "viewer": False},
    "billing": {"owner": False, "admin": False, "member": False, "billing": False, "viewer": False},
    "viewer": {"owner": False, "admin": False, "member": False, "billing": False, "viewer": False},
}


@pytest.mark.parametrize(
    ("actor", "target", "expected"),
    [(actor, target, ok) for actor, row in MANAGE.items() for target, ok in row.items()],
)
def test_can_manage_role_cell(actor, target, expected):
    assert can_manage_role(actor, target) is expected


@pytest.mark.parametrize("account_id", [2**63, 10**30])
def test_require_answers_not_found_for_ids_beyond_bigint(app_ctx, dbs, account_id):
    user = factories.UserFactory()
    with pytest.raises(NotFound):
        require(user, account_id, Permission.ACCOUNT_READ)
