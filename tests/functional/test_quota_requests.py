"""/accounts/<id>/quotas as customers use it: asking for more (owners and admins; htmx swaps
#quota-requests, no-JS posts redirect), bad input (422, nothing written), one pending
request per resource (refused with a link to it), the history's keyset pages, suspended
organizations (the form drawn disabled with the reason) and the page's query count."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from portal.models import Account, AuditLog, Notification, QuotaRequest
from tests import factories

ROLES = ["owner", "admin", "member", "billing", "viewer"]
ASKERS = {"owner", "admin"}
HTMX = {"HX-Request": "true"}
REASON = "Vamos migrar os arquivos de três clientes novos neste mês."


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def org(dbs):
    account = factories.AccountFactory(name="Acme Ltda")
    people = {}
    for role in ROLES:
        people[role] = factories.UserFactory()
        factories.MemberFactory(account=account, user=people[role], role=role)
    return account, people


def url(account, suffix=""):
    return f"/accounts/{account.id}/quotas{suffix}"


def snapshot(dbs):
    dbs.expire_all()
    return (
        dbs.execute(select(QuotaRequest.id, QuotaRequest.status).order_by(QuotaRequest.id)).all(),
        dbs.scalar(select(func.count()).select_from(AuditLog)),
        dbs.scalar(select(func.count()).select_from(Notification)),
        dbs.execute(select(Account.id, Account.quota_buckets).order_by(Account.id)).all(),
    )


def ask(client, csrf_token, account, headers=None, **data):
    form = {"csrf_token": csrf_token(), "resource": "buckets", "value": "25", "reason": REASON}
    form.update(data)
    return client.post(url(account, "/requests"), data=form, headers=headers or {})


# --------------------------------------------------------------------------- page ---
@pytest.mark.parametrize("role", ROLES)
def test_every_member_sees_the_page_only_owners_and_admins_the_form(client, login, org, role):
    account, people = org
    login(people[role])
    response = client.get(url(account))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="quota-meters"' in html and 'id="quota-history"' in html
    assert "No request yet." in html
    has_form = f'action="{url(account, "/requests")}"' in html
    assert has_form is (role in ASKERS)
    assert ("Owners and admins of the organization can ask" in html) is (role not in ASKERS)


def test_visitors_log_in_and_other_organizations_are_404(client, login, csrf_token, org, dbs):
    account, _ = org
    before = snapshot(dbs)
    for response in (client.get(url(account)), ask(client, csrf_token, account)):
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    login(factories.UserFactory())
    assert client.get(url(account)).status_code == 404
    assert ask(client, csrf_token, account).status_code == 404
    assert snapshot(dbs) == before


# ---------------------------------------------------------------------------- ask ---
@pytest.mark.parametrize("role", ["member", "billing", "viewer"])
def test_other_roles_get_403_whatever_they_send(client, login, csrf_token, org, dbs, role):
    account, people = org
    login(people[role])
    before = snapshot(dbs)
    assert ask(client, csrf_token, account).status_code == 403
    assert ask(client, csrf_token, account, value="x", reason="").status_code == 403
    assert snapshot(dbs) == before


def test_csrf_is_required(client, login, org, dbs):
    account, people = org
    login(people["owner"])
    before = snapshot(dbs)
    response = client.post(
        url(account, "/requests"), data={"resource": "buckets", "value": "25", "reason": REASON}
    )
    assert response.status_code == 400
    assert snapshot(dbs) == before


@pytest.mark.parametrize("role", sorted(ASKERS))
def test_asking_without_javascript_redirects_with_a_flash(
    client, login, csrf_token, org, dbs, role
):
    account, people = org
    login(people[role])
    response = ask(client, csrf_token, account, value=" 40 ")
    assert response.status_code == 302 and response.headers["Location"] == url(account)
    request = dbs.scalars(select(QuotaRequest).where(QuotaRequest.account_id == account.id)).one()
    assert (request.status, request.requested_value, request.requested_by_id) == (
        "pending",
        40,
        people[role].id,
    )
    html = client.get(url(account)).get_data(as_text=True)
    assert "Your request for 40 buckets was sent." in html
    row = re.search(rf'<tr id="quota-request-{request.id}".*?</tr>', html, re.S).group(0)
    assert "status-pending" in row and ">40<" in row and REASON in row
    assert f'href="#quota-request-{request.id}"' in html  # the pending note links to it


def test_asking_with_htmx_swaps_the_form_and_history(client, login, csrf_token, org, dbs):
    account, people = org
    login(people["owner"])
    response = ask(client, csrf_token, account, headers=HTMX, resource="access_keys", value="9")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="quota-requests">') and "<html" not in html
    assert "Your request for 9 active access keys was sent." in html
    assert 'class="is-new"' in html
    # access_keys is pending now: the form offers the other two.
    assert 'value="access_keys"' not in re.search(r"<select.*?</select>", html, re.S).group(0)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"value": ""}, "value", "Enter the new limit you need."),
        ({"value": "abc"}, "value", "Enter a whole number, digits only."),
        ({"value": "2.5"}, "value", "Enter a whole number, digits only."),
        ({"value": "-5"}, "value", "Enter a whole number, digits only."),
        ({"value": "9" * 19}, "value", "Enter a whole number, digits only."),
        ({"value": "10"}, "value", "Ask for more than the current limit of 10."),
        ({"value": "1001"}, "value", "Ask for at most 1,000 here."),
        ({"reason": "short"}, "reason", "Explain what you need it for in 20 to 2000 characters."),
        (
            {"reason": "x" * 2001},
            "reason",
            "Explain what you need it for in 20 to 2000 characters.",
        ),
        ({"resource": "objects"}, "resource", "Choose one of the options in the list."),
        ({"resource": ""}, "resource", "Choose one of the quotas in the list."),
    ],
)
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["no-js", "htmx"])
def test_bad_input_is_422_next_to_the_field_and_nothing_is_written(
    client, login, csrf_token, org, dbs, data, field, message, headers
):
    account, people = org
    login(people["admin"])
    before = snapshot(dbs)
    response = ask(client, csrf_token, account, headers=headers, **data)
    assert response.status_code == 422
    html = unescape(response.get_data(as_text=True))
    error = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', html, re.S)
    assert error and message in error.group(1)
    assert ("<html" in html) is (not headers)
    assert snapshot(dbs) == before


def test_a_second_pending_request_is_refused_with_a_link_to_it(client, login, csrf_token, org, dbs):
    account, people = org
    login(people["owner"])
    ask(client, csrf_token, account, value="20")
    pending = dbs.scalars(select(QuotaRequest).where(QuotaRequest.account_id == account.id)).one()
    login(people["admin"])
    before = snapshot(dbs)
    response = ask(client, csrf_token, account, headers=HTMX, value="30")
    assert response.status_code == 422
    html = unescape(response.get_data(as_text=True))
    assert "A request for more buckets is already pending." in html
    assert f'<p class="error-link"><a href="#quota-request-{pending.id}">' in html
    assert f'<tr id="quota-request-{pending.id}"' in html  # the target is on the page
    assert snapshot(dbs) == before


def test_a_suspended_organization_shows_the_form_disabled_with_the_reason(
    client, login, csrf_token, dbs
):
    owner = factories.UserFactory()
    account = factories.AccountFactory(owner=owner, status="suspended")
    account.suspension_reason = "Fatura de março em atraso"
    dbs.commit()
    login(owner)
    html = unescape(client.get(url(account)).get_data(as_text=True))
    assert f'action="{url(account, "/requests")}"' not in html
    assert re.search(
        r'<button type="button" class="" disabled aria-describedby="ask-reason">', html
    )
    assert "suspended and read-only: Fatura de março em atraso." in html
    before = snapshot(dbs)
    response = ask(client, csrf_token, account)
    assert response.status_code == 422
    assert "Fatura de março em atraso" in unescape(response.get_data(as_text=True))
    assert snapshot(dbs) == before


# ------------------------------------------------------------------------ history ---
def test_the_history_is_newest_first_in_keyset_pages(client, login, org, app, monkeypatch):
    monkeypatch.setitem(app.config, "QUOTA_HISTORY_PAGE_SIZE", 2)
    account, people = org
    t0 = datetime(2025, 6, 1, tzinfo=UTC)
    made = [
        factories.QuotaRequestFactory(
            account=account,
            status="approved" if i % 2 else "rejected",
            granted_value=12 if i % 2 else None,
            review_note=f"nota {i}",
            created_at=t0 + timedelta(days=i),
        )
        for i in range(5)
    ]
    login(people["viewer"])
    seen, next_url = [], url(account)
    while next_url:
        response = client.get(next_url)
        assert response.status_code == 200
        html = unescape(response.get_data(as_text=True))
        seen += [int(i) for i in re.findall(r'<tr id="quota-request-(\d+)"', html)]
        found = re.search(r'<a class="button secondary" rel="next" href="([^"]+)"', html)
        next_url = found.group(1) if found else None
    assert seen == [m.id for m in reversed(made)]
    first = unescape(client.get(url(account)).get_data(as_text=True))
    row = re.search(rf'<tr id="quota-request-{made[3].id}".*?</tr>', first, re.S).group(0)
    assert "status-approved" in row and ">12<" in row and "nota 3" in row


def test_the_pager_swaps_the_history_alone(client, login, org, app, monkeypatch):
    monkeypatch.setitem(app.config, "QUOTA_HISTORY_PAGE_SIZE", 1)
    account, people = org
    for _ in range(2):
        factories.QuotaRequestFactory(account=account, status="rejected", review_note="não")
    login(people["owner"])
    html = client.get(url(account)).get_data(as_text=True)
    next_url = unescape(re.search(r'rel="next" href="([^"]+)"', html).group(1))
    piece = client.get(next_url, headers=HTMX).get_data(as_text=True)
    assert piece.lstrip().startswith('<section id="quota-history"') and "<html" not in piece


def test_a_bad_cursor_is_422(client, login, org):
    account, people = org
    login(people["owner"])
    response = client.get(url(account), query_string={"before": "garbage"})
    assert response.status_code == 422
    assert "This page link is not valid." in unescape(response.get_data(as_text=True))


def test_the_page_issues_a_fixed_number_of_queries(client, login, dbs, count_queries):
    def measure(requests):
        owner = factories.UserFactory()
        account = factories.AccountFactory(owner=owner)
        for i in reversed(range(requests)):  # decided ones first: one pending per resource
            factories.QuotaRequestFactory(
                account=account,
                resource=("buckets", "storage_gb", "access_keys")[i % 3],
                status="pending" if i < 3 else "rejected",
                review_note=None if i < 3 else "não",
            )
        login(owner)
        with count_queries() as queries:
            assert client.get(url(account)).status_code == 200
        return len(queries)

    # user with their membership (the access check), usage, pending requests, history
    # page, navigation with the unread badge
    assert measure(0) == measure(30) == 5


def test_the_dashboard_links_here_when_a_limit_is_reached(client, login, dbs):
    owner = factories.UserFactory()
    account = factories.AccountFactory(owner=owner)
    account.quota_buckets = 2
    dbs.commit()
    for _ in range(2):
        factories.BucketFactory(account=account)
    login(owner)
    html = client.get(f"/accounts/{account.id}/").get_data(as_text=True)
    assert f'<a href="/accounts/{account.id}/quotas#ask" id="dash-buckets-more">' in html
    assert 'id="dash-access_keys-more"' not in html  # keys are far from their limit
