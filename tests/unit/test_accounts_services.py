"""Organizations: creation, where "/" leads, the dashboard's figures."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.accounts import services
from portal.errors import Invalid, NotFound
from portal.extensions import db
from portal.models import AccessKey, Account, AccountMember, AuditLog, Bucket, User
from tests import factories
from tests.unit.conftest import ours


@pytest.fixture
def person(app_ctx, dbs):
    return ours(factories.UserFactory())


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("11.222.333/0001-81", "11222333000181"), ("12.abc.345/01de-35", "12ABC34501DE35")],
)
def test_create_account_makes_the_creator_owner_of_a_pending_account(person, typed, stored):
    account = services.create_account(person, "  Acme   Armazenamento Ltda ", typed)
    assert account.cnpj == stored
    assert account.status == "pending"
    assert account.name == "Acme Armazenamento Ltda"
    assert account.created_by_id == person.id
    member = db.session.scalar(select(AccountMember).where(AccountMember.account_id == account.id))
    assert (member.user_id, member.role) == (person.id, "owner")
    assert person.last_account_id == account.id
    log = db.session.scalar(select(AuditLog).where(AuditLog.account_id == account.id))
    assert log.action == "account.created"
    assert log.actor_id == person.id
    assert log.details == {"name": "Acme Armazenamento Ltda", "cnpj": stored}


@pytest.mark.parametrize("typed", ["12ABC34501DE35", "12.abc.345/01de-35", " 12 ABC 345 01DE 35 "])
def test_a_registered_cnpj_is_refused_however_it_is_typed(person, dbs, typed):
    factories.AccountFactory(cnpj="12ABC34501DE35")
    with pytest.raises(Invalid) as caught:
        services.create_account(person, "Another", typed)
    assert caught.value.field == "cnpj"
    assert "already registered" in caught.value.message
    assert db.session.scalar(select(Account).where(Account.name == "Another")) is None


def test_a_race_on_the_unique_cnpj_gives_the_same_message(person, dbs, monkeypatch):
    """Two people register one CNPJ at the same moment: both pass the check, the database's
    unique constraint stops the second, which gets the field message, not a 500."""
    factories.AccountFactory(cnpj="11222333000181")
    from portal import cnpj

    monkeypatch.setattr(services, "check_cnpj", cnpj.validate)  # the check saw nothing yet
    with pytest.raises(Invalid) as caught:
        services.create_account(person, "Late Ltda", "11.222.333/0001-81")
    assert caught.value.field == "cnpj"
    assert "already registered" in caught.value.message
    # The savepoint kept the transaction usable.
    assert db.session.scalar(select(User.id).where(User.id == person.id)) == person.id


@pytest.mark.parametrize(
    ("name", "typed", "field"),
    [
        ("Acme", "11.222.333/0001-82", "cnpj"),
        ("Acme", "", "cnpj"),
        ("Acme", "1122233300018", "cnpj"),
        ("A", "11.222.333/0001-81", "name"),
        ("   ", "11.222.333/0001-81", "name"),
        ("x" * 121, "11.222.333/0001-81", "name"),
    ],
)
def test_bad_input_is_refused_with_its_field(person, name, typed, field):
    with pytest.raises(Invalid) as caught:
        services.create_account(person, name, typed)
    assert caught.value.field == field
    assert db.session.scalar(select(AuditLog).where(AuditLog.actor_id == person.id)) is None


def test_check_cnpj_normalizes_and_spots_duplicates(app_ctx, dbs):
    factories.AccountFactory(cnpj="11222333000181")
    assert services.check_cnpj("12.abc.345/01de-35") == "12ABC34501DE35"
    with pytest.raises(Invalid, match="already registered"):
        services.check_cnpj("11.222.333/0001-81")


def test_home_is_none_without_memberships(person):
    assert services.home_account_id(person) is None


def test_home_is_the_last_used_organization_while_still_a_member(app_ctx, dbs):
    user = factories.UserFactory()
    first = factories.AccountFactory(owner=user)
    second = factories.AccountFactory(owner=user)
    other = factories.AccountFactory()
    me = ours(user)
    assert services.home_account_id(me) == first.id  # no last one: the first membership
    me.last_account_id = second.id
    assert services.home_account_id(me) == second.id
    me.last_account_id = other.id  # no longer (or never) a member there
    assert services.home_account_id(me) == first.id


def test_dashboard_counts_and_remembers_the_organization(app_ctx, dbs):
    owner = factories.UserFactory()
    account = factories.AccountFactory(owner=owner)
    factories.MemberFactory(account=account, role="viewer")
    dbs.add_all(
        [
            Bucket(account_id=account.id, name="fotos", size_bytes=3 * 1024**3),
            Bucket(account_id=account.id, name="backups", size_bytes=1024**3),
            AccessKey(
                account_id=account.id, key_id="PC" + "A" * 18, name="ci", secret_ciphertext=b"x"
            ),
            AccessKey(
                account_id=account.id, key_id="PC" + "B" * 18, name="old", secret_ciphertext=b"x"
            ),
        ]
    )
    dbs.flush()
    revoked = dbs.scalar(select(AccessKey).where(AccessKey.key_id == "PC" + "B" * 18))
    revoked.status, revoked.revoked_at = "revoked", db.func.now()
    dbs.commit()
    me = ours(owner)
    data = services.dashboard(me, account.id)
    u = data.usage
    assert (data.member_count, u.buckets.used, u.access_keys.used) == (2, 2, 1)
    assert u.storage_gb.used == Decimal("4.00") and u.storage_bytes == 4 * 1024**3
    assert (u.buckets.quota, u.storage_gb.quota, u.access_keys.quota) == (10, 100, 5)
    assert data.membership.role == "owner"
    assert me.last_account_id == account.id


def test_dashboard_of_another_organization_is_not_found(person, dbs):
    account = factories.AccountFactory(owner=factories.UserFactory())
    with pytest.raises(NotFound):
        services.dashboard(person, account.id)
    assert person.last_account_id is None
