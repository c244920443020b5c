"""Buckets and access keys. Rows start in their initial state and are moved step by step
to the requested one, as the database's state-machine triggers require."""

import secrets
import string
from datetime import UTC, datetime

import factory

from portal import models
from tests.factories import BaseFactory, current_session
from tests.factories.accounts import AccountFactory

__all__ = ["AccessKeyFactory", "BucketFactory", "make_key_id", "move_to"]


def move_to(
    row, column: str, path: list[str], stamps: dict | None = None, sets: dict | None = None
):
    """Flush ``row``, then set ``column`` to each state of ``path`` in turn (with the
    timestamps ``stamps[state]`` names and the values ``sets[state]`` gives), flushing each
    step through the triggers."""
    session = current_session()
    session.add(row)
    session.flush()
    for state in path:
        setattr(row, column, state)
        for attribute in (stamps or {}).get(state, ()):
            setattr(row, attribute, datetime.now(UTC))
        for attribute, value in (sets or {}).get(state, {}).items():
            setattr(row, attribute, value)
        session.flush()
    session.commit()
    return row


def make_key_id() -> str:
    """A public access-key id: "PC" and 18 upper-case letters or digits."""
    return "PC" + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(18))


_VERSIONING_PATH = {"unversioned": [], "enabled": [], "suspended": ["suspended"]}
_KEY_PATH = {"active": [], "inactive": ["inactive"], "revoked": ["revoked"]}


class BucketFactory(BaseFactory):
    """A bucket; ``versioning="suspended"`` is created enabled, then suspended."""

    class Meta:
        model = models.Bucket
        exclude = ("account",)

    account = factory.SubFactory(AccountFactory)
    account_id = factory.LazyAttribute(lambda o: o.account.id)
    name = factory.Sequence(lambda n: f"bucket-{n:04d}")
    versioning = "unversioned"
    lifecycle_rules = factory.LazyFunction(list)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        target = kwargs.get("versioning", "unversioned")
        if target == "suspended":
            kwargs["versioning"] = "enabled"
        return move_to(model_class(*args, **kwargs), "versioning", _VERSIONING_PATH[target])


class AccessKeyFactory(BaseFactory):
    """An access key, created active and moved to ``status``. The ciphertext is opaque
    random bytes (tests that decrypt make their own with the keys module)."""

    class Meta:
        model = models.AccessKey
        exclude = ("account",)

    account = factory.SubFactory(AccountFactory)
    account_id = factory.LazyAttribute(lambda o: o.account.id)
    key_id = factory.LazyFunction(make_key_id)
    name = factory.Sequence(lambda n: f"chave {n}")
    secret_ciphertext = factory.LazyFunction(lambda: secrets.token_bytes(64))
    status = "active"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        target = kwargs.pop("status", "active")
        return move_to(
            model_class(*args, status="active", **kwargs),
            "status",
            _KEY_PATH[target],
            {"revoked": ("revoked_at",)},
        )
