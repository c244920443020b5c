"""`flask create-admin`: create a platform admin, or promote an existing user."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.audit import Action
from portal.models import AuditLog, User
from portal.users.services import check_password
from tests import factories


def promotions(dbs) -> list[AuditLog]:
    dbs.expire_all()
    return list(dbs.scalars(select(AuditLog).where(AuditLog.action == Action.USER_PROMOTED_ADMIN)))


def test_create_admin_creates_a_new_admin(runner, dbs):
    result = runner.invoke(
        args=["create-admin", "Chefe@PrimeCloud.com.br", "--password", "senha do admin 2026"]
    )
    assert result.exit_code == 0, result.output
    assert "Chefe@PrimeCloud.com.br is a platform admin" in result.output
    dbs.expire_all()
    user = dbs.scalar(select(User).where(func.lower(User.email) == "chefe@primecloud.com.br"))
    assert user.is_platform_admin
    assert user.name == "Chefe"
    assert check_password(user, "senha do admin 2026")
    (row,) = promotions(dbs)
    assert row.target_id == str(user.id) and row.account_id is None
    signed_up = dbs.scalar(select(AuditLog).where(AuditLog.action == Action.USER_SIGNED_UP))
    assert signed_up.details == {"source": "cli"}


def test_create_admin_promotes_an_existing_user(runner, dbs):
    user = factories.UserFactory(email="promovida@example.com")
    result = runner.invoke(args=["create-admin", "PROMOVIDA@example.com"])
    assert result.exit_code == 0, result.output
    dbs.expire_all()
    user = dbs.get(User, user.id)
    assert user.is_platform_admin
    assert check_password(user, factories.PASSWORD)  # the password is left alone
    assert dbs.scalar(select(func.count()).select_from(User)) == 1
    (row,) = promotions(dbs)
    assert row.target_label == "promovida@example.com"


def test_create_admin_for_an_admin_changes_nothing(runner, dbs):
    factories.AdminFactory(email="ja-admin@example.com")
    result = runner.invoke(args=["create-admin", "ja-admin@example.com"])
    assert result.exit_code == 0, result.output
    assert promotions(dbs) == []


def test_create_admin_refuses_a_weak_password(runner, dbs):
    result = runner.invoke(args=["create-admin", "fraco@example.com", "--password", "123"])
    assert result.exit_code != 0
    # The policy's message (in the default language, pt-BR once the catalog is merged).
    assert "Error:" in result.output and "10" in result.output
    assert "Traceback" not in result.output
    dbs.expire_all()
    assert dbs.scalar(select(func.count()).select_from(User)) == 0
