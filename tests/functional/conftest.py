"""What the functional tests share: the roles, the every-role organization, English
messages, htmx's request header, and a snapshot of what a request could have written.

    from tests.functional.conftest import HTMX, MANAGERS, ROLES

    pytestmark = pytest.mark.usefixtures("english")   # messages compared with msgids
"""

from __future__ import annotations

import pytest

from tests import factories
from tests.conftest import snapshot
from tests.roles import MANAGERS, ROLES

__all__ = ["HTMX", "MANAGERS", "ROLES", "snapshot"]

HTMX = {"HX-Request": "true"}  # a real htmx request (partials, row swaps)


@pytest.fixture
def english(client):
    """Messages in English (the msgids); the portal's default is pt-BR."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def org(dbs) -> factories.Org:
    """An active organization "Acme Ltda" with one person of each role:
    ``account, people = org``; ``org.members[role]`` is that person's membership id."""
    return factories.every_role_org()


@pytest.fixture
def outsider(dbs):
    """Someone who belongs to another organization only."""
    person = factories.UserFactory(name="Otto Outsider")
    factories.AccountFactory(owner=person, name="Outra Empresa Ltda")
    return person
