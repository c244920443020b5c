"""Password-reset tokens."""

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

import factory

from portal import models
from tests.factories import BaseFactory

__all__ = ["PasswordResetFactory"]


class PasswordResetFactory(BaseFactory):
    """An unused reset token valid for an hour. ``PasswordResetFactory.with_token(user=...)``
    returns (row, raw token)."""

    class Meta:
        model = models.PasswordReset
        exclude = ("user",)

    user = factory.SubFactory("tests.factories.users.UserFactory")
    user_id = factory.LazyAttribute(lambda o: o.user.id)
    token_hash = factory.LazyFunction(lambda: hashlib.sha256(secrets.token_bytes(16)).hexdigest())
    created_at = factory.LazyFunction(lambda: datetime.now(UTC))
    expires_at = factory.LazyAttribute(lambda o: o.created_at + timedelta(hours=1))

    @classmethod
    def with_token(cls, **kwargs):
        token = secrets.token_urlsafe(32)
        digest = hashlib.sha256(token.encode()).hexdigest()
        return cls(token_hash=digest, **kwargs), token
