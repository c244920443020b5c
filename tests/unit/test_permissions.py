"""DOMAIN.md's "Roles inside an account" table (tests/roles.py, written out by hand, not
derived from ROLE_PERMISSIONS), cell by cell against the code's table."""

import pytest

from portal.errors import NotAllowed, NotFound
from portal.models import AccountMember, Invitation, Role, User
from portal.permissions import (
    ROLE_PERMISSIONS,
    Permission,
    allows,
    can,
    can_manage_role,
    check_id,
    grantable_roles,
    lock_staff_object,
    require,
    require_object,
    require_platform_admin,
)
from tests import factories
from tests.roles import ROLES, TABLE
from tests.unit.conftest import ours

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


# ------------------------------------------------------------------ require_object ---
@pytest.fixture
def invitations(org, dbs):
    """One invitation of the organization, one of another organization."""
    account, _people = org
    return (
        factories.InvitationFactory(account=account, email="ours@example.com"),
        factories.InvitationFactory(email="theirs@example.com"),
    )


def test_require_object_gives_the_account_membership_and_object(org, invitations):
    account, people = org
    ours_, _theirs = invitations
    found_account, membership, found = require_object(
        ours(people["admin"]), account.id, Permission.MEMBERS_MANAGE, Invitation, object_id=ours_.id
    )
    assert (found_account.id, membership.role, found.id) == (account.id, "admin", ours_.id)


def test_another_accounts_object_is_not_found(org, invitations):
    account, people = org
    _ours, theirs = invitations
    for object_id in (theirs.id, 2**62):
        with pytest.raises(NotFound):
            require_object(
                ours(people["owner"]),
                account.id,
                Permission.MEMBERS_MANAGE,
                Invitation,
                object_id=object_id,
            )


def test_staff_lock_any_organizations_object_with_its_organization(org, invitations):
    account, _people = org
    ours_, theirs = invitations
    found, found_account = lock_staff_object(Invitation, ours_.id)
    assert (found.id, found_account.id) == (ours_.id, account.id)
    found, found_account = lock_staff_object(Invitation, theirs.id)
    assert found_account.id == theirs.account_id != account.id
    for object_id in (2**62, 2**70, -1):
        with pytest.raises(NotFound):
            lock_staff_object(Invitation, object_id)


def test_the_permission_comes_before_the_object(org, invitations):
    """A role that may not act gets 403 whatever it names (even what does not exist)."""
    account, people = org
    _ours, theirs = invitations
    for object_id in (theirs.id, 2**62):
        with pytest.raises(NotAllowed):
            require_object(
                ours(people["viewer"]),
                account.id,
                Permission.MEMBERS_MANAGE,
                Invitation,
                object_id=object_id,
            )


def test_a_non_member_learns_nothing(org, invitations, dbs):
    account, _people = org
    ours_, _theirs = invitations
    with pytest.raises(NotFound):
        require_object(
            ours(factories.UserFactory()),
            account.id,
            Permission.ACCOUNT_READ,
            Invitation,
            object_id=ours_.id,
        )


def test_require_object_by_condition_and_with_a_joined_row(org, invitations):
    account, people = org
    ours_, _theirs = invitations
    _a, _m, found = require_object(
        ours(people["owner"]),
        account.id,
        Permission.ACCOUNT_READ,
        Invitation,
        Invitation.email == "ours@example.com",
    )
    assert found.id == ours_.id
    _a, _m, (found, owner) = require_object(
        ours(people["owner"]),
        account.id,
        Permission.ACCOUNT_READ,
        AccountMember,
        AccountMember.role == "owner",
        join=(User, User.id == AccountMember.user_id),
    )
    assert (found.account_id, owner.id) == (account.id, people["owner"].id)


def test_lock_locks_the_account_then_the_object(org, invitations, count_queries):
    account, people = org
    ours_, _theirs = invitations
    owner = ours(people["owner"])
    with count_queries() as queries:
        require_object(
            owner, account.id, Permission.MEMBERS_MANAGE, Invitation, object_id=ours_.id, lock=True
        )
    assert len(queries) == 2
    assert "FOR UPDATE OF accounts, account_members" in queries[0]
    assert "FROM invitations" in queries[1] and queries[1].rstrip().endswith("FOR UPDATE")
    with count_queries() as queries:
        require_object(owner, account.id, Permission.MEMBERS_MANAGE, Invitation, object_id=ours_.id)
    assert not any("FOR UPDATE" in q for q in queries)


# ----------------------------------------------------------------- other checks ---
@pytest.mark.parametrize("value", [0, -1, 2**63, "12", None, 1.0])
def test_impossible_ids_are_not_found(value):
    with pytest.raises(NotFound):
        check_id(value)


def test_possible_ids_pass():
    assert check_id(1) == 1 and check_id(2**63 - 1) == 2**63 - 1


def test_only_platform_admins_pass_the_staff_check(app_ctx, dbs):
    require_platform_admin(factories.AdminFactory())
    for user in (factories.UserFactory(), None):
        with pytest.raises(NotAllowed) as caught:
            require_platform_admin(user)
        assert caught.value.message == "This area is for PrimeCloud staff."


@pytest.mark.parametrize(
    ("role", "grantable"),
    [
        ("owner", ["owner", "admin", "member", "billing", "viewer"]),
        ("admin", ["admin", "member", "billing", "viewer"]),
        ("member", []),
        ("billing", []),
        ("viewer", []),
    ],
)
def test_grantable_roles(role, grantable):
    assert grantable_roles(role) == grantable
