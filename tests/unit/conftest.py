"""What the service tests share: ``ours()`` and the every-role organization.

Factories write through the test's ``dbs`` session; services use ``db.session``. Both are on
the same connection, but objects belong to one session: ``ours(obj)`` is the same row through
the services' session, to pass to a service.
"""

from __future__ import annotations

import pytest

from portal.extensions import db
from tests import factories


def ours(obj):
    """The same row through the services' session (db.session)."""
    return db.session.get(type(obj), obj.id)


@pytest.fixture
def org(app_ctx, dbs) -> factories.Org:
    """An active organization "Acme Ltda" with one person of each role ("Owner Person"…),
    the owner reading English: ``account, people = org``; ``org.members[role]`` is the
    membership id."""
    org = factories.every_role_org()
    org.people["owner"].locale = "en"
    dbs.commit()
    return org
