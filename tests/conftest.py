"""Test fixtures: one PostgreSQL server per run, the schema from migrations, each test
inside a transaction that is rolled back.

- ``app``: the Flask app; every ``db.session`` (in requests and in ``app_ctx``) is bound to
  one connection whose outer transaction is rolled back after the test, and a service's
  ``commit()`` only releases a savepoint.
- ``dbs``: a plain SQLAlchemy session on that same connection, for arranging data
  (factories use it) and for checking what a request wrote.
- ``client``, ``login(user)``, ``app_ctx`` (an app context for calling services directly).
- ``mailbox``: the messages an ``aiosmtpd`` server on 127.0.0.1 received during the test.
- ``live_server``: the portal served from a thread, on its own database (real commits), for
  the browser tests.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from pathlib import Path

import psycopg
import pytest
from flask.testing import FlaskClient
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from portal import create_app
from portal.extensions import db, limiter
from tests import factories

ROOT = Path(__file__).resolve().parent.parent
TEST_SECRET = "test-secret-key-not-for-production"  # noqa: S105


def pytest_sessionstart(session):
    """Compile the pt-BR catalog, so the tests see the translations of the working tree."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po_path in (ROOT / "translations").glob("*/LC_MESSAGES/messages.po"):
        with po_path.open("rb") as fh:
            catalog = read_po(fh)
        with po_path.with_suffix(".mo").open("wb") as fh:
            write_mo(fh, catalog)


# --------------------------------------------------------------------------- server ---
def _server_url() -> str:
    """The server the tests use: DATABASE_URL's, or an embedded one under instance/."""
    url = os.environ.get("DATABASE_URL")
    if url:
        from portal.dbserver import to_sqlalchemy_url

        return to_sqlalchemy_url(url)
    from portal import dbserver

    return dbserver.start(ROOT / "instance" / "pgdata-test", database="postgres")


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Databases:
    """Creates throw-away databases on the test server and drops them at the end."""

    def __init__(self, server_url: str):
        self.server_url = server_url
        self.created: list[str] = []

    def create(self, label: str) -> str:
        name = f"portal_test_{label}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(_libpq(self.server_url), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return make_url(self.server_url).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with psycopg.connect(_libpq(self.server_url), autocommit=True) as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def databases():
    dbs = Databases(_server_url())
    yield dbs
    dbs.drop_all()


# ------------------------------------------------------------------------------ smtp ---
class Mailbox(list):
    """Messages received by the test SMTP server (email.message.EmailMessage objects)."""

    def wait_for(self, count: int = 1, timeout: float = 5.0):
        import time

        deadline = time.monotonic() + timeout
        while len(self) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self


@pytest.fixture(scope="session")
def smtp_server():
    from email import message_from_bytes
    from email.policy import default

    from aiosmtpd.controller import Controller

    received = Mailbox()

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
            received.append(message_from_bytes(envelope.original_content, policy=default))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller, received
    controller.stop()


@pytest.fixture
def mailbox(smtp_server):
    _controller, received = smtp_server
    received.clear()
    yield received
    received.clear()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------------------- app ---
def make_test_app(database_url: str, smtp_port: int, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_port,
        "MAIL_TIMEOUT": 2.0,
        "PORTAL_BASE_URL": "http://localhost",
        "SERVER_NAME": None,
    }
    config.update(overrides)
    return create_app(config)


def upgrade(app) -> None:
    from flask_migrate import upgrade as alembic_upgrade

    with app.app_context():
        alembic_upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def _app(databases, smtp_server):
    controller, _received = smtp_server
    app = make_test_app(databases.create("main"), controller.port)
    upgrade(app)
    yield app
    with app.app_context():
        db.engine.dispose()  # close pooled connections before the database is dropped


class _TestSession(Session):
    """The test's session, on the test's connection, for the test's app only. ``db.session``
    is global: another app in this process (the live server of the browser tests, still
    answering a page a browser left open) would otherwise run its requests on this
    connection, from its own thread, and release this test's savepoints under it."""

    app = None

    def get_bind(self, *args, **kwargs):
        from flask import current_app, has_app_context

        if has_app_context() and current_app._get_current_object() is not self.app:
            raise RuntimeError("another app used the test's database session")
        return super().get_bind(*args, **kwargs)


@pytest.fixture
def app(_app):
    """The app, with every session of this test on one connection rolled back at the end."""
    with _app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original_session = db.session
        # A plain SQLAlchemy session class: Flask-SQLAlchemy's own get_bind() would route
        # mapped tables to the engine and bypass the test connection.
        db.session = scoped_session(
            sessionmaker(
                bind=connection, join_transaction_mode="create_savepoint", class_=_TestSession
            ),
            scopefunc=_app_ctx_id,
        )
        _TestSession.app = _app
        limiter.reset()
    try:
        yield _app
    finally:
        with _app.app_context():
            db.session.remove()
        db.session = original_session
        outer.rollback()
        connection.close()


@pytest.fixture
def dbs(app):
    """A plain session on the test's connection: arrange data, check what requests wrote."""
    session = Session(
        bind=db.session.session_factory.kw["bind"],
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
    )
    factories.bind(session)
    yield session
    factories.bind(None)
    session.close()


def snapshot(session, *what) -> tuple:
    """What a request or a service could have written, to compare before and after: for a
    model, its row count; for a select, its rows. ``session`` is re-read (expire_all)."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import DeclarativeBase

    session.expire_all()
    taken = []
    for item in what:
        if isinstance(item, type) and issubclass(item, DeclarativeBase):
            taken.append(session.scalar(select(func.count()).select_from(item)))
        else:
            taken.append(tuple(session.execute(item).all()))
    return tuple(taken)


@pytest.fixture
def count_queries(app):
    """``with count_queries() as queries: client.get(...)``; ``queries`` lists the SQL
    statements the block sent (savepoint bookkeeping of the test harness left out)."""
    from contextlib import contextmanager

    from sqlalchemy import event

    connection = db.session.session_factory.kw["bind"]
    skip = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")

    @contextmanager
    def counting():
        statements: list[str] = []

        def before(conn, cursor, statement, parameters, context, executemany):
            if not statement.lstrip().upper().startswith(skip):
                statements.append(statement)

        event.listen(connection, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            event.remove(connection, "before_cursor_execute", before)

    return counting


@pytest.fixture
def app_ctx(app):
    """An app context for calling services directly (not together with ``client``)."""
    # In English, so tests can compare messages with their msgids (pt-BR is the default).
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield app


class ClosingClient(FlaskClient):
    """Closes every response, as a real server does once it has sent it: callbacks
    registered with ``response.call_on_close`` (email delivery) run. A test of a streamed
    response passes ``buffered=False``."""

    def open(self, *args, buffered=True, **kwargs):
        return super().open(*args, buffered=buffered, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = ClosingClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def login(app, client):
    """Log ``user`` in without the form: a server-side session (portal.sessions) and its id
    in Flask-Login's session keys, as a real login leaves them. ``remember=True`` also
    sets the remember-me cookie's value in ``user.session_token``."""

    def do_login(user, remember: bool = False):
        from portal.sessions import services as sessions

        with app.test_request_context():
            sessions.start(user, remember=remember, ip="127.0.0.1", user_agent="pytest")
            db.session.commit()
        with client.session_transaction() as session:
            session["_user_id"] = user.session_token
            session["_fresh"] = True
        return user

    return do_login


@pytest.fixture
def csrf_token(client):
    """A valid CSRF token for ``client``'s session, made as Flask-WTF makes it (a random
    value kept in the session, signed with the secret key)."""
    import hashlib

    from itsdangerous import URLSafeTimedSerializer

    def token() -> str:
        with client.session_transaction() as sess:
            raw = sess.setdefault("csrf_token", hashlib.sha1(os.urandom(64)).hexdigest())  # noqa: S324
        app = client.application
        return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)

    return token


# ----------------------------------------------------------------------- live server ---
@pytest.fixture(scope="session")
def live_server(databases, smtp_server):
    """The portal on 127.0.0.1:<free port>, in a thread, on a database of its own."""
    from werkzeug.serving import make_server

    controller, _received = smtp_server
    app = make_test_app(databases.create("live"), controller.port, TESTING=False)
    upgrade(app)
    server = make_server("127.0.0.1", _free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    server.app = app
    yield server
    server.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        db.engine.dispose()


# --------------------------------------------------------------------------- browser ---
CHROMIUM = "/usr/lib/chromium/chromium"


@pytest.fixture(scope="session")
def base_url():
    """Replaces pytest-playwright's ``base_url``, a session fixture written as an instance
    method, which pytest 9 deprecates with a warning (an error under filterwarnings=error).
    Browser tests use absolute URLs built from ``live_server.url``."""
    return None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Never a skip: without Chromium the browser tests fail and say how to install it
    # (`make test` and .ci/run install it when they can).
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Debian's Chromium is not installed ({CHROMIUM}): apt-get install -y chromium")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }
