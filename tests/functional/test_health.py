"""/healthz answers 200 when the database is reachable and 503 when it is not."""

from sqlalchemy import text

from portal.extensions import db
from tests import factories


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_database_down(databases, smtp_server):
    from sqlalchemy.engine import make_url

    from tests.conftest import make_test_app

    controller, _ = smtp_server
    # A database that does not exist: every connection attempt fails.
    url = make_url(databases.server_url).set(database="portal_test_does_not_exist")
    app = make_test_app(url.render_as_string(hide_password=False), controller.port)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def test_factories_write_through_the_test_connection(app, dbs):
    user = factories.UserFactory(email="Ana@Example.com")
    assert user.id is not None and user.created_at is not None
    with app.app_context():
        assert (
            db.session.execute(
                text("SELECT email FROM users WHERE id = :i"), {"i": user.id}
            ).scalar()
            == "Ana@Example.com"
        )


def test_account_factory_walks_the_status_path(app, dbs):
    owner = factories.UserFactory()
    account = factories.AccountFactory(owner=owner, status="suspended")
    assert account.status == "suspended"
    member = factories.MemberFactory(account=account, role="viewer")
    invitation, token = factories.InvitationFactory.with_token(account=account)
    assert member.role == "viewer" and len(token) > 20 and invitation.id
