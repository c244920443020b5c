"""Organizations, members and invitations."""

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

import factory
from stdnum.br import cnpj as stdnum_cnpj

from portal import models, states
from portal.accounts.services import set_status
from tests.factories import BaseFactory, current_session

__all__ = ["AccountFactory", "InvitationFactory", "MemberFactory", "make_cnpj", "token_pair"]


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
