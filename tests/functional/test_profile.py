"""/profile (name, language, time zone), the pages that name the time zone, and the small
things of issue 13: the favicon, the staff 403 page, where staff land after logging in,
pt-BR role and resource names in sentences."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from portal.audit import Action
from portal.models import AuditLog, User
from tests import factories


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def save(client, csrf_token, **data):
    form = {"name": "Ana Souza", "locale": "en", "timezone": "America/Sao_Paulo"}
    form.update(data)
    return client.post("/profile", data={**form, "csrf_token": csrf_token()})


def test_the_profile_page_offers_name_language_and_every_time_zone(client, login, dbs):
    login(factories.UserFactory(name="Ana Souza"))
    html = client.get("/profile").get_data(as_text=True)
    assert 'value="Ana Souza"' in html
    assert '<option selected value="America/Sao_Paulo">' in html
    for zone in ("America/Manaus", "Europe/Lisbon", "Asia/Tokyo", "UTC"):
        assert f'value="{zone}"' in html
    assert 'href="/sessions"' in html


def test_changing_the_time_zone_changes_every_page_and_is_audited(client, login, csrf_token, dbs):
    user = login(factories.UserFactory(name="Ana Souza"))
    account = factories.AccountFactory(owner=user)
    factories.AuditLogFactory(
        account=account, actor=user, created_at=datetime(2025, 3, 10, 15, 0, tzinfo=UTC)
    )
    html = client.get(f"/accounts/{account.id}/audit").get_data(as_text=True)
    assert "Times are in your time zone (America/Sao_Paulo)." in html
    assert "12:00" in html  # 15:00 UTC in São Paulo
    response = save(client, csrf_token, timezone="Asia/Tokyo", name="Ana  Souza Lima")
    assert response.status_code == 302 and response.headers["Location"] == "/profile"
    dbs.expire_all()
    stored = dbs.get(User, user.id)
    assert stored.timezone == "Asia/Tokyo" and stored.name == "Ana Souza Lima"
    html = client.get(f"/accounts/{account.id}/audit").get_data(as_text=True)
    assert "Times are in your time zone (Asia/Tokyo)." in html
    assert "00:00" in html  # 15:00 UTC is midnight in Tokyo
    row = dbs.scalar(select(AuditLog).where(AuditLog.action == Action.USER_PROFILE_UPDATED))
    assert row.details == {"name": "Ana Souza Lima", "timezone": "Asia/Tokyo"}


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone", "Choose a time zone from the list."),
        ({"timezone": "Etc/GMT+3"}, "timezone", "Choose a time zone from the list."),
        ({"locale": "fr"}, "locale", "Choose a language from the list."),
        ({"name": "x" * 121}, "name", "Enter your name (at most 120 characters)."),
        ({"name": "\u200b"}, "name", "Remove the invisible or control characters"),
    ],
)
def test_bad_profile_input_is_422_next_to_the_field(
    client, login, csrf_token, dbs, data, field, message
):
    user = login(factories.UserFactory(name="Ana Souza"))
    response = save(client, csrf_token, **data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(rf'id="{field}-error">[^<]*{re.escape(message)}', html)
    dbs.expire_all()
    assert dbs.get(User, user.id).timezone == "America/Sao_Paulo"
    assert (
        dbs.scalar(select(AuditLog).where(AuditLog.action == Action.USER_PROFILE_UPDATED)) is None
    )


def test_the_language_chosen_in_the_profile_is_used(client, login, csrf_token, dbs):
    login(factories.UserFactory())
    save(client, csrf_token, locale="pt_BR")
    assert 'lang="pt-BR"' in client.get("/profile").get_data(as_text=True)


# ----------------------------------------------------------------------- favicon ---
def test_the_favicon_is_served_and_linked(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    response.close()
    html = client.get("/login").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.ico"' in html


# ------------------------------------------------------------------- staff pages ---
@pytest.mark.parametrize("path", ["/admin/", "/admin/accounts", "/admin/audit"])
def test_a_customer_in_the_admin_area_reads_that_it_is_for_staff(client, login, dbs, path):
    login(factories.UserFactory())
    response = client.get(path)
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "For PrimeCloud staff only" in html
    assert "This area is for PrimeCloud staff." in html
    assert "Your role in this organization" not in html
    assert "You cannot do that" not in html


def test_a_role_that_lacks_a_permission_still_reads_the_role_message(client, login, dbs):
    owner = factories.UserFactory()
    account = factories.AccountFactory(owner=owner)
    viewer = factories.UserFactory()
    factories.MemberFactory(account=account, user=viewer, role="viewer")
    login(viewer)
    html = client.get(f"/accounts/{account.id}/audit").get_data(as_text=True)
    assert "Your role in this organization does not allow this action." in html


@pytest.mark.parametrize(("admin", "expected"), [(True, "/admin/"), (False, "/")])
def test_staff_land_on_the_admin_home_after_logging_in(client, csrf_token, dbs, admin, expected):
    user = (factories.AdminFactory if admin else factories.UserFactory)()
    response = client.post(
        "/login",
        data={"email": user.email, "password": factories.PASSWORD, "csrf_token": csrf_token()},
    )
    assert response.headers["Location"] == expected


def test_staff_follow_next_when_there_is_one(client, csrf_token, dbs):
    user = factories.AdminFactory()
    response = client.post(
        "/login",
        data={
            "email": user.email,
            "password": factories.PASSWORD,
            "next": "/notifications",
            "csrf_token": csrf_token(),
        },
    )
    assert response.headers["Location"] == "/notifications"


# ---------------------------------------------------------- pt-BR wording (item 12) ---
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("owner", "Proprietário(a)"),
        ("admin", "Administrador(a)"),
        ("member", "Membro"),
        ("billing", "Financeiro"),
        ("viewer", "Leitor(a)"),
    ],
)
def test_roles_read_as_roles_in_portuguese_sentences(
    client, login, csrf_token, dbs, role, expected
):
    owner = login(factories.UserFactory(locale="pt_BR"))
    account = factories.AccountFactory(owner=owner)
    response = client.post(
        f"/accounts/{account.id}/invitations",
        data={"email": f"{role}@example.com", "role": role, "csrf_token": csrf_token()},
    )
    assert response.status_code == 302
    html = client.get(f"/accounts/{account.id}/invitations").get_data(as_text=True)
    assert f"Convite enviado para {role}@example.com como {expected}." in html
    assert "como Administração" not in html


def test_the_admin_area_is_still_called_administracao(client, login, dbs):
    login(factories.AdminFactory(locale="pt_BR"))
    html = client.get("/admin/").get_data(as_text=True)
    assert ">Administração<" in html


def test_resources_are_named_not_coded_in_notifications_and_labels(app_ctx):
    from flask_babel import force_locale

    from portal.notifications.messages import KIND_MESSAGES, render
    from portal.quotas.labels import resource_label

    with force_locale("pt_BR"):
        assert resource_label("storage_gb") == "Armazenamento (GB)"
        assert resource_label("access_keys") == "Chaves de acesso ativas"
        KIND_MESSAGES["test.resource"] = "%(resource)s"
        try:
            # Inside a sentence, the resource is a noun: "armazenamento (GB)".
            assert render("test.resource", {"resource": "storage_gb"}) == "armazenamento (GB)"
        finally:
            del KIND_MESSAGES["test.resource"]
