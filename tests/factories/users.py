"""People and their sessions."""

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

import factory

from portal import models
from tests.factories import BaseFactory, password_hash

__all__ = ["AdminFactory", "UserFactory", "UserSessionFactory"]


class UserFactory(BaseFactory):
    class Meta:
        model = models.User

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    name = factory.Faker("name", locale="pt_BR")
    password_hash = factory.LazyFunction(password_hash)
    locale = "en"
    is_platform_admin = False


class AdminFactory(UserFactory):
    is_platform_admin = True


class UserSessionFactory(BaseFactory):
    """A server-side session of ``user`` on some other device (its random id is not kept:
    use the ``login`` fixture for a session a test acts with)."""

    class Meta:
        model = models.UserSession
        exclude = ("user",)

    user = factory.SubFactory(UserFactory)
    user_id = factory.LazyAttribute(lambda o: o.user.id)
    token_hash = factory.LazyFunction(lambda: hashlib.sha256(secrets.token_bytes(32)).hexdigest())
    session_version = factory.LazyAttribute(lambda o: o.user.session_version)
    remember = True
    expires_at = factory.LazyFunction(lambda: datetime.now(UTC) + timedelta(days=30))
    ip = "177.38.10.24"
    user_agent = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Safari/604.1"
