"""/admin/accounts: the platform admin's organizations page (list, filters, keyset pages)
and its status moves (htmx row swaps, redirects without JavaScript, refusals as 422)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select, update

from portal.models import Account, AuditLog, Notification
from tests import factories
from tests.functional.conftest import HTMX, snapshot

T0 = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)
URL = "/admin/accounts"


def tag() -> str:
    return "Tg" + datetime.now(UTC).strftime("%H%M%S%f")


def make_org(status="pending", name=None, members=0):
    owner = factories.UserFactory()
    kwargs = {"name": name} if name else {}
    account = factories.AccountFactory(owner=owner, status=status, **kwargs)
    for _ in range(members):
        factories.MemberFactory(account=account, role="member")
    return account, owner


# Everything a status move could write.
WRITES = (
    select(
        func.concat(Account.id, Account.status, Account.suspended_at, Account.suspension_reason)
    ).order_by(Account.id),
    AuditLog,
    Notification,
)


def row_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr id="account-(\d+)"', html)]


def action_url(account, action):
    return f"{URL}/{account.id}/{action}"


@pytest.fixture
def admin(login, dbs):
    return login(factories.AdminFactory())


# --------------------------------------------------------------------------- access ---
@pytest.mark.parametrize("action", ["approve", "suspend"])
def test_csrf_is_required(client, admin, dbs, action):
    account, _ = make_org("approved")
    before = snapshot(dbs, *WRITES)
    response = client.post(action_url(account, action), data={"reason": "fraud"})
    assert response.status_code == 400
    assert snapshot(dbs, *WRITES) == before


@pytest.mark.parametrize("path", [URL + "/{id}/delete", URL + "/{id}/approve/x"])
def test_unknown_actions_are_404(client, admin, csrf_token, dbs, path):
    account, _ = make_org()
    response = client.post(path.format(id=account.id), data={"csrf_token": csrf_token()})
    assert response.status_code == 404


def test_a_missing_organization_is_404(client, admin, csrf_token, dbs):
    response = client.post(f"{URL}/{2**62}/approve", data={"csrf_token": csrf_token()})
    assert response.status_code == 404


# ----------------------------------------------------------------------------- list ---
def test_the_list_shows_status_cnpj_date_and_member_count(client, admin, dbs):
    t = tag()
    account, _ = make_org("active", name=f"{t} Alfa", members=2)
    response = client.get(URL, query_string={"q": t})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" in html and 'id="accounts-list"' in html
    cnpj = account.cnpj
    assert f"{cnpj[:2]}.{cnpj[2:5]}.{cnpj[5:8]}/{cnpj[8:12]}-{cnpj[12:]}" in html
    row = re.search(rf'<tr id="account-{account.id}">.*?</tr>', html, re.S).group(0)
    assert "status-active" in row
    assert re.search(r"<td[^>]*>3</td>", row)  # the owner and two members
    assert "<time datetime=" in row
    # Only the moves DOMAIN.md allows from 'active'.
    assert f"/{account.id}/suspend" in row
    for action in ("approve", "activate", "reactivate"):
        assert f"/{account.id}/{action}" not in row


@pytest.mark.parametrize(
    ("status", "offered"),
    [
        ("pending", ["approve"]),
        ("approved", ["activate", "suspend"]),
        ("active", ["suspend"]),
        ("suspended", ["reactivate"]),
    ],
)
def test_each_row_offers_only_the_allowed_moves(client, admin, dbs, status, offered):
    account, _ = make_org(status)
    html = client.get(URL, query_string={"q": account.cnpj}).get_data(as_text=True)
    found = re.findall(rf'action="{URL}/{account.id}/(\w+)"', html)
    assert found == offered


def test_htmx_gets_the_list_alone(client, admin, dbs):
    make_org()
    html = client.get(URL, headers=HTMX).get_data(as_text=True)
    assert '<div id="accounts-list">' in html
    assert "<html" not in html and "<h1>" not in html


def test_filters_by_status_and_search_by_name_or_cnpj(client, admin, dbs):
    t = tag()
    pending, _ = make_org("pending", name=f"{t} Alfa")
    active, _ = make_org("active", name=f"{t} Beta")
    suspended, _ = make_org("suspended", name=f"{t} Gama")

    def ids(**args):
        response = client.get(URL, query_string=args)
        assert response.status_code == 200
        return row_ids(response.get_data(as_text=True))

    assert ids(q=t) == [suspended.id, active.id, pending.id]
    assert ids(q=t, status="pending") == [pending.id]
    assert ids(q=t, status="suspended") == [suspended.id]
    assert ids(q=f"{t} beta".upper()) == [active.id]
    c = active.cnpj
    assert ids(q=f"{c[:2]}.{c[2:5]}.{c[5:8]}/{c[8:12]}-{c[12:]}") == [active.id]
    assert ids(q=f"{t} nobody") == []


def test_the_status_filter_is_kept_in_the_url_and_the_form(client, admin, dbs):
    html = client.get(URL, query_string={"status": "pending"}).get_data(as_text=True)
    assert re.search(r'<option selected value="pending">|<option value="pending" selected', html)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"status": "deleted"}, "Choose one of the statuses in the list."),
        ({"before": "not-a-cursor"}, "This page link is not valid."),
        ({"q": "x" * 121}, "120"),
    ],
)
def test_bad_filters_are_422_with_the_message(client, admin, dbs, args, message):
    response = client.get(URL, query_string=args)
    assert response.status_code == 422
    assert message in unescape(response.get_data(as_text=True))


def test_keyset_pages_with_equal_created_at(client, admin, dbs, app, monkeypatch):
    monkeypatch.setitem(app.config, "ADMIN_ACCOUNTS_PAGE_SIZE", 2)
    t = tag()
    accounts = [make_org(name=f"{t} {i}")[0] for i in range(5)]
    ids = [a.id for a in accounts]
    dbs.execute(update(Account).where(Account.id.in_(ids[:4])).values(created_at=T0))
    dbs.execute(
        update(Account).where(Account.id == ids[4]).values(created_at=T0 - timedelta(days=1))
    )
    dbs.commit()

    seen, url, pages = [], f"{URL}?q={t}&status=pending", 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        seen += row_ids(html)
        pages += 1
        match = re.search(r'rel="next" href="([^"]+)"', html)
        url = unescape(match.group(1)) if match else None
        if url:
            query = parse_qs(urlsplit(url).query)
            assert query["q"] == [t] and query["status"] == ["pending"]  # filters kept
            assert "offset" not in query
    assert seen == sorted(ids[:4], reverse=True) + [ids[4]]
    assert pages == 3
    assert "Newest organizations" in html  # the last page links back to the first


def test_the_query_count_does_not_grow(client, admin, dbs, count_queries):
    def measure(n):
        t = tag()
        for i in range(n):
            make_org(name=f"{t} {i}", members=1)
        with count_queries() as queries:
            response = client.get(URL, query_string={"q": t})
        assert response.status_code == 200
        assert len(row_ids(response.get_data(as_text=True))) == min(n, 25)
        assert not any("OFFSET" in q.upper() for q in queries)
        return len(queries)

    assert measure(5) == measure(30) <= 4


# -------------------------------------------------------------------------- actions ---
@pytest.mark.parametrize(
    ("start", "action", "end"),
    [
        ("pending", "approve", "approved"),
        ("approved", "activate", "active"),
        ("active", "suspend", "suspended"),
        ("suspended", "reactivate", "active"),
    ],
)
def test_a_move_without_javascript_redirects_back_with_a_flash(
    client, admin, csrf_token, dbs, start, action, end
):
    account, owner = make_org(start)
    back = f"{URL}?status={start}&q={account.cnpj}"
    response = client.post(
        action_url(account, action),
        data={"csrf_token": csrf_token(), "reason": "Unpaid invoices", "back": back},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == back
    dbs.expire_all()
    assert dbs.get(Account, account.id).status == end
    audit = dbs.scalars(
        select(AuditLog).where(
            AuditLog.account_id == account.id, AuditLog.action == "account.status_changed"
        )
    ).all()
    assert len(audit) == 1 and audit[0].details["to"] == end
    notes = dbs.scalars(select(Notification).where(Notification.account_id == account.id)).all()
    assert [n.user_id for n in notes] == [owner.id]
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "flash-success" in html and f"{account.name} is now" in unescape(html)


@pytest.mark.parametrize("back", ["https://evil.example/admin/accounts", "/admin/", "//evil"])
def test_back_never_leaves_the_list(client, admin, csrf_token, dbs, back):
    account, _ = make_org("pending")
    response = client.post(
        action_url(account, "approve"), data={"csrf_token": csrf_token(), "back": back}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == URL


def test_htmx_swaps_the_row(client, admin, csrf_token, dbs):
    account, _ = make_org("pending", members=1)
    response = client.post(
        action_url(account, "approve"), data={"csrf_token": csrf_token()}, headers=HTMX
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<tr id="account-{account.id}">')
    assert "<html" not in html
    assert "status-approved" in html and re.search(r"<td[^>]*>2</td>", html)
    assert f"/{account.id}/activate" in html and f"/{account.id}/suspend" in html
    assert f"/{account.id}/approve" not in html


def test_suspending_sets_the_reason_and_reactivating_clears_it(client, admin, csrf_token, dbs):
    account, _ = make_org("active")
    client.post(
        action_url(account, "suspend"),
        data={"csrf_token": csrf_token(), "reason": "Chargebacks"},
        headers=HTMX,
    )
    dbs.expire_all()
    a = dbs.get(Account, account.id)
    assert (a.status, a.suspension_reason) == ("suspended", "Chargebacks")
    assert a.suspended_at is not None
    client.post(action_url(account, "reactivate"), data={"csrf_token": csrf_token()})
    dbs.expire_all()
    a = dbs.get(Account, account.id)
    assert (a.status, a.suspended_at, a.suspension_reason) == ("active", None, None)


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "no-js"])
def test_suspend_without_reason_is_422_next_to_the_field(client, admin, csrf_token, dbs, headers):
    account, _ = make_org("active")
    before = snapshot(dbs, *WRITES)
    response = client.post(
        action_url(account, "suspend"),
        data={"csrf_token": csrf_token(), "reason": "   "},
        headers=headers,
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(
        rf'<textarea name="reason" id="reason-{account.id}"[^>]*aria-invalid="true"'
        rf'[^>]*aria-describedby="reason-{account.id}-error"',
        html,
        re.S,
    )
    assert (
        f'<p class="error" id="reason-{account.id}-error">Give the reason for the suspension.</p>'
        in html
    )
    assert ("<html" in html) == (not headers)
    assert snapshot(dbs, *WRITES) == before


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "no-js"])
@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("pending", "activate"),
        ("active", "approve"),
        ("suspended", "suspend"),
        ("active", "reactivate"),
    ],
)
def test_an_impossible_move_is_422_with_a_clear_message(
    client, admin, csrf_token, dbs, headers, status, action
):
    account, _ = make_org(status)
    before = snapshot(dbs, *WRITES)
    response = client.post(
        action_url(account, action),
        data={"csrf_token": csrf_token(), "reason": "x"},
        headers=headers,
    )
    assert response.status_code == 422
    html = unescape(response.get_data(as_text=True))
    assert f'<p class="error" id="account-{account.id}-error" role="alert">' in html
    assert "Reload the page to see its current state." in html
    assert f'<tr id="account-{account.id}">' in html  # the row as it is now
    assert f"status-{status}" in html
    assert snapshot(dbs, *WRITES) == before


def test_the_admin_home_links_to_the_page(client, admin, dbs):
    assert f'href="{URL}"' in client.get("/admin/").get_data(as_text=True)


def test_the_page_and_the_owners_notification_read_in_portuguese(client, login, csrf_token, dbs):
    login(factories.AdminFactory(locale="pt_BR"))
    account, owner = make_org("pending")
    html = unescape(client.get(URL, query_string={"q": account.cnpj}).get_data(as_text=True))
    assert "Organizações" in html and "Aprovar" in html and "Em análise" in html
    response = client.post(
        action_url(account, "activate"), data={"csrf_token": csrf_token()}, headers=HTMX
    )
    assert response.status_code == 422
    assert "não pode ser ativada" in unescape(response.get_data(as_text=True))
    client.post(action_url(account, "approve"), data={"csrf_token": csrf_token()})

    owner.locale = "pt_BR"
    dbs.commit()
    login(owner)
    page = unescape(client.get("/notifications").get_data(as_text=True))
    assert f"A situação de {account.name} agora é: Aprovada." in page
