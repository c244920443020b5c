"""People."""

import factory

from portal import models
from tests.factories import BaseFactory, password_hash

__all__ = ["AdminFactory", "UserFactory"]


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
