"""Organizations, members and invitations."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import factory
from sqlalchemy import select
from stdnum.br import cnpj as stdnum_cnpj

from portal import models, states
from portal.accounts.services import set_status
from tests.factories import BaseFactory, current_session

__all__ = [
    "AccountFactory",
    "InvitationFactory",
    "MemberFactory",
    "Org",
    "every_role_org",
    "make_cnpj",
    "token_pair",
]


def make_cnpj(n: int | None = None, alphanumeric: bool = False) -> str:
    """A valid, normalized CNPJ (14 characters; the 2026 alphanumeric form on request)."""
    if n is None:
        n = secrets.randbelow(10**8)
    if alphanumeric:
        base = (
            "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(8)) + "0001"
        )
    else:
        base = f"{n % 10**8:08d}0001"
    return base + stdnum_cnpj.calc_check_digits(base)


class AccountFactory(BaseFactory):
    """An account created 'pending', then moved step by step to ``status``.

    ``owner=<User>`` adds that user as owner (most tests want one)."""

    class Meta:
        model = models.Account
        exclude = ("target_status",)

    name = factory.Sequence(lambda n: f"Organização {n} Ltda")
    cnpj = factory.Sequence(lambda n: make_cnpj(n))
    target_status = "active"

    @classmethod
    def _create(cls, model_class, *args, owner=None, status=None, **kwargs):
        target = status or kwargs.pop("target_status", "active")
        kwargs.pop("target_status", None)
        session = current_session()
        account = model_class(*args, **kwargs)
        session.add(account)
        session.flush()
        if owner is not None:
            session.add(models.AccountMember(account_id=account.id, user_id=owner.id, role="owner"))
            session.flush()
        # Step by step, as the database only allows (portal.states), with the columns each
        # status needs (portal.accounts.services.set_status).
        for step in states.ACCOUNT.reach(target):
            set_status(account, step)
            session.flush()
        session.commit()
        return account


class MemberFactory(BaseFactory):
    class Meta:
        model = models.AccountMember

    account_id = factory.LazyAttribute(lambda o: o.account.id)
    user_id = factory.LazyAttribute(lambda o: o.user.id)
    role = "member"

    class Params:
        account = factory.SubFactory(AccountFactory)
        user = factory.SubFactory("tests.factories.users.UserFactory")


def token_pair() -> tuple[str, str]:
    """A raw invitation token and the SHA-256 hex digest the database stores."""
    token = secrets.token_urlsafe(32)
    return token, hashlib.sha256(token.encode()).hexdigest()


class InvitationFactory(BaseFactory):
    """A pending invitation. ``InvitationFactory.with_token(...)`` returns (row, raw token)."""

    class Meta:
        model = models.Invitation
        exclude = ("account",)

    account = factory.SubFactory(AccountFactory)
    account_id = factory.LazyAttribute(lambda o: o.account.id)
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = "member"
    token_hash = factory.LazyFunction(lambda: token_pair()[1])
    expires_at = factory.LazyFunction(lambda: datetime.now(UTC) + timedelta(days=7))

    @classmethod
    def with_token(cls, **kwargs):
        token, digest = token_pair()
        return cls(token_hash=digest, **kwargs), token


@dataclass
class Org:
    """An organization with one person of each role. Unpacks as ``account, people``;
    ``members`` holds each role's membership id."""

    account: models.Account
    people: dict[str, models.User]
    members: dict[str, int]

    def __iter__(self):
        return iter((self.account, self.people))


def every_role_org(status: str = "active", **kwargs) -> Org:
    """An account "Acme Ltda" (CNPJ 12.ABC.345/01DE-35) whose owner, admin, member, billing
    and viewer are "Owner Person", "Admin Person", …"""
    from tests.factories.users import UserFactory

    kwargs.setdefault("name", "Acme Ltda")
    kwargs.setdefault("cnpj", "12ABC34501DE35")
    people = {role.value: UserFactory(name=f"{role.value.title()} Person") for role in models.Role}
    account = AccountFactory(owner=people["owner"], status=status, **kwargs)
    session = current_session()
    members = {
        "owner": session.scalar(
            select(models.AccountMember.id).where(
                models.AccountMember.account_id == account.id,
                models.AccountMember.user_id == people["owner"].id,
            )
        )
    }
    for role, person in people.items():
        if role != "owner":
            members[role] = MemberFactory(account=account, user=person, role=role).id
    return Org(account, people, members)
