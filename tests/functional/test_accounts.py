"""/accounts/new (with the inline CNPJ check), the dashboard, and where "/" leads."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.models import Account, AccountMember, AuditLog, Bucket, User
from tests import factories
from tests.functional.conftest import ROLES

pytestmark = pytest.mark.usefixtures("english")


def counts(dbs):
    dbs.expire_all()
    return tuple(
        dbs.scalar(select(func.count()).select_from(model))
        for model in (Account, AccountMember, AuditLog)
    )


def create(client, csrf_token, **data):
    form = {"name": "Nova Nuvem Ltda", "cnpj": "11.222.333/0001-81", "csrf_token": csrf_token()}
    form.update(data)
    return client.post("/accounts/new", data=form)


def test_new_organization_form_checks_the_cnpj_inline(client, login, dbs):
    login(factories.UserFactory())
    html = client.get("/accounts/new").get_data(as_text=True)
    assert 'name="name"' in html and 'name="cnpj"' in html
    assert 'hx-post="/accounts/new/cnpj"' in html
    assert 'hx-trigger="change, keyup changed delay:500ms"' in html
    assert 'id="cnpj-feedback"' in html


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("11.222.333/0001-81", "11222333000181"),
        ("11222333000181", "11222333000181"),
        ("12.abc.345/01de-35", "12ABC34501DE35"),
        ("12ABC34501DE35", "12ABC34501DE35"),
    ],
)
def test_create_organization(client, login, csrf_token, dbs, typed, stored):
    user = login(factories.UserFactory())
    response = create(client, csrf_token, cnpj=typed)
    assert response.status_code == 302
    account = dbs.scalar(select(Account).where(Account.cnpj == stored))
    assert response.headers["Location"] == f"/accounts/{account.id}/"
    assert account.status == "pending" and account.name == "Nova Nuvem Ltda"
    member = dbs.scalar(select(AccountMember).where(AccountMember.account_id == account.id))
    assert (member.user_id, member.role) == (user.id, "owner")
    log = dbs.scalar(select(AuditLog).where(AuditLog.account_id == account.id))
    assert (log.action, log.actor_id, str(log.ip)) == ("account.created", user.id, "127.0.0.1")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "was created and is waiting for our review" in page
    assert "usually within one business day" in page
    # "/" now leads there.
    assert client.get("/").headers["Location"] == f"/accounts/{account.id}/"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"cnpj": "11.222.333/0001-82"}, "cnpj", "check digits do not match"),
        ({"cnpj": "12ABC34501DE36"}, "cnpj", "check digits do not match"),
        ({"cnpj": "1122233300018"}, "cnpj", "14 characters"),
        ({"cnpj": "11.222.333/0001-8?"}, "cnpj", "only digits and letters"),
        ({"cnpj": ""}, "cnpj", "Enter the organization"),
        ({"name": ""}, "name", "Enter the organization"),
        ({"name": "A"}, "name", "between 2 and 120"),
        ({"name": "x" * 121}, "name", "between 2 and 120"),
    ],
)
def test_bad_input_is_422_next_to_the_field(client, login, csrf_token, dbs, data, field, message):
    login(factories.UserFactory())
    before = counts(dbs)
    response = create(client, csrf_token, **data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html and message in html
    assert counts(dbs) == before


@pytest.mark.parametrize("typed", ["12.ABC.345/01DE-35", "12abc34501de35"])
def test_duplicate_cnpj(client, login, csrf_token, dbs, org, typed):
    login(factories.UserFactory())
    before = counts(dbs)
    response = create(client, csrf_token, cnpj=typed)
    assert response.status_code == 422
    assert "An organization with this CNPJ is already registered" in response.get_data(as_text=True)
    assert counts(dbs) == before


def test_create_without_csrf_is_refused(client, login, dbs):
    login(factories.UserFactory())
    before = counts(dbs)
    response = client.post("/accounts/new", data={"name": "Acme", "cnpj": "11222333000181"})
    assert response.status_code == 400
    assert counts(dbs) == before


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("12abc34501de35", "Valid CNPJ: 12.ABC.345/01DE-35"),
        ("11.222.333/0001-81", "Valid CNPJ: 11.222.333/0001-81"),
        ("11.222.333/0001-82", "check digits do not match"),
        ("1122", "14 characters"),
        ("33.444.555/0001-81", "already registered"),
        ("", ""),
    ],
)
def test_inline_cnpj_check_returns_the_feedback_partial(
    client, login, csrf_token, dbs, typed, expected
):
    factories.AccountFactory(cnpj=factories.make_cnpj(33444555))
    login(factories.UserFactory())
    before = counts(dbs)
    response = client.post(
        "/accounts/new/cnpj",
        data={"cnpj": typed, "csrf_token": csrf_token()},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html and 'id="cnpj-feedback"' in html
    assert expected in html
    if not expected:
        assert "error" not in html and "Valid" not in html
    assert counts(dbs) == before


def test_inline_check_needs_csrf(client, login, dbs):
    login(factories.UserFactory())
    assert client.post("/accounts/new/cnpj", data={"cnpj": "11222333000181"}).status_code == 400


# ------------------------------------------------------------------------ dashboard ---
@pytest.mark.parametrize("role", ROLES)
def test_every_member_sees_the_dashboard(client, login, dbs, org, role):
    account, people = org
    login(people[role])
    response = client.get(f"/accounts/{account.id}/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Acme Ltda" in html and "12.ABC.345/01DE-35" in html
    assert f'href="/accounts/{account.id}/members"' in html
    manages = role in ("owner", "admin")
    assert (f'href="/accounts/{account.id}/invitations"' in html) is manages
    assert (f'href="/accounts/{account.id}/audit"' in html) is manages
    dbs.expire_all()
    assert dbs.get(User, people[role].id).last_account_id == account.id


@pytest.mark.parametrize(
    ("status", "explanation"),
    [
        ("pending", "usually within one business day"),
        ("approved", "becomes active with its first subscription"),
        ("active", "you can create buckets and access keys"),
        ("suspended", "Contact support"),
    ],
)
def test_dashboard_explains_the_status(client, login, dbs, status, explanation):
    owner = login(factories.UserFactory())
    account = factories.AccountFactory(owner=owner, status=status)
    html = client.get(f"/accounts/{account.id}/").get_data(as_text=True)
    assert f"status-{status}" in html and explanation in html


def test_dashboard_figures(client, login, dbs, org):
    account, people = org
    dbs.add_all([Bucket(account_id=account.id, name=f"b-{i}") for i in range(3)])
    dbs.commit()
    login(people["viewer"])
    html = client.get(f"/accounts/{account.id}/").get_data(as_text=True)
    assert "3 of 10" in html  # buckets used / quota
    assert "0 of 5" in html  # access keys used / quota
    assert "100 GB" in html
    assert '<p class="stat">5</p>' in html  # members


def test_dashboard_of_another_organization_is_404(client, login, dbs, org):
    account, _ = org
    stranger = login(factories.UserFactory())
    factories.AccountFactory(owner=stranger)
    assert client.get(f"/accounts/{account.id}/").status_code == 404
    assert client.get("/accounts/999999/").status_code == 404
    # Beyond PostgreSQL's bigint: not found either (psycopg refused the number: a 500).
    for too_big in (2**63, 10**30):
        assert client.get(f"/accounts/{too_big}/").status_code == 404
    dbs.expire_all()
    assert dbs.get(User, stranger.id).last_account_id is None


def test_dashboard_partial_for_htmx(client, login, org):
    account, people = org
    login(people["member"])
    partial = client.get(f"/accounts/{account.id}/", headers={"HX-Request": "true"})
    html = partial.get_data(as_text=True)
    assert partial.status_code == 200 and "<html" not in html and 'id="dashboard"' in html
    full = client.get(f"/accounts/{account.id}/").get_data(as_text=True)
    assert "<html" in full and 'id="dashboard"' in full


def test_dashboard_query_count_does_not_grow(client, login, dbs, count_queries):
    def measure(size):
        owner = factories.UserFactory()
        account = factories.AccountFactory(owner=owner)
        for _ in range(size - 1):
            factories.MemberFactory(account=account)
        dbs.add_all([Bucket(account_id=account.id, name=f"bucket-{i}") for i in range(size)])
        dbs.commit()
        login(owner)
        client.get(f"/accounts/{account.id}/")  # first visit also stores last_account_id
        with count_queries() as queries:
            assert client.get(f"/accounts/{account.id}/").status_code == 200
        return len(queries)

    small, large = measure(1), measure(20)
    assert small == large
    assert small <= 6


def test_home_leads_to_the_last_used_organization(client, login, dbs):
    user = login(factories.UserFactory())
    assert client.get("/").headers["Location"] == "/accounts/new"
    first = factories.AccountFactory(owner=user)
    second = factories.AccountFactory(owner=user)
    assert client.get("/").headers["Location"] == f"/accounts/{first.id}/"
    client.get(f"/accounts/{second.id}/")
    assert client.get("/").headers["Location"] == f"/accounts/{second.id}/"


def test_switcher_lists_every_organization(client, login, dbs):
    user = login(factories.UserFactory())
    a = factories.AccountFactory(owner=user, name="Alpha Ltda")
    factories.AccountFactory(owner=user, name="Beta Ltda")
    html = client.get(f"/accounts/{a.id}/").get_data(as_text=True)
    assert "Alpha Ltda" in html and "Beta Ltda" in html and 'href="/accounts/new"' in html


def test_new_organization_page_points_back_to_a_pending_invitation(client, login, dbs):
    login(factories.UserFactory())
    with client.session_transaction() as session:
        session["invitation_token"] = "abc_DEF-123"
    html = client.get("/accounts/new").get_data(as_text=True)
    assert 'href="/invitations/abc_DEF-123"' in html and "Open your invitation" in html
