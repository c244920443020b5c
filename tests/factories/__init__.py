"""factory_boy factories. They write through the test's ``dbs`` session (bound by the
fixture), committing a savepoint, so the rows are visible to requests in the same test.

One module per domain (users, accounts, ...); everything is re-exported here, so tests
write ``factories.UserFactory()``.
"""

from __future__ import annotations

from factory.alchemy import SQLAlchemyModelFactory

PASSWORD = "correct horse battery staple"  # noqa: S105 - the password of every factory user

_session = None
_password_hash: str | None = None


def bind(session) -> None:
    global _session
    _session = session


def current_session():
    if _session is None:
        raise RuntimeError("factories need the `dbs` fixture (a session on the test connection)")
    return _session


def password_hash() -> str:
    """One argon2 hash of PASSWORD, computed once per run (hashing is slow on purpose)."""
    global _password_hash
    if _password_hash is None:
        from portal.users.services import hash_password

        _password_hash = hash_password(PASSWORD)
    return _password_hash


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = current_session
        sqlalchemy_session_persistence = "commit"


from tests.factories.accounts import *  # noqa: E402,F403
from tests.factories.activity import *  # noqa: E402,F403
from tests.factories.auth import *  # noqa: E402,F403
from tests.factories.billing import *  # noqa: E402,F403
from tests.factories.quotas import *  # noqa: E402,F403
from tests.factories.storage import *  # noqa: E402,F403
from tests.factories.users import *  # noqa: E402,F403
