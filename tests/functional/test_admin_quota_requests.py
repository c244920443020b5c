"""/admin/quota-requests: the staff queue (pending first, filters, keyset pages) and the
decisions (approve with a granted value, reject with a note) — htmx swaps the request's
card, no-JS posts redirect back; refusals are 422 with nothing written; customers get 403,
visitors the login page; the requester and the owners get a notification and an email."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from portal.models import Account, AuditLog, EmailOutbox, Notification, QuotaRequest
from tests import factories

ROLES = ["owner", "admin", "member", "billing", "viewer"]
HTMX = {"HX-Request": "true"}
QUEUE = "/admin/quota-requests"


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def org(dbs):
    """An active organization with one person of each role and a pending request for 25
    buckets (quota 10) asked by its admin."""
    account = factories.AccountFactory(name="Acme Ltda")
    people = {}
    for role in ROLES:
        people[role] = factories.UserFactory()
        factories.MemberFactory(account=account, user=people[role], role=role)
    request = factories.QuotaRequestFactory(
        account=account, requested_value=25, requested_by_id=people["admin"].id
    )
    return account, people, request


@pytest.fixture
def staff(login, dbs):
    return login(factories.AdminFactory(name="Sofia Staff"))


def snapshot(dbs):
    dbs.expire_all()
    return (
        dbs.execute(
            select(
                QuotaRequest.id,
                QuotaRequest.status,
                QuotaRequest.granted_value,
                QuotaRequest.review_note,
            ).order_by(QuotaRequest.id)
        ).all(),
        dbs.execute(select(Account.id, Account.quota_buckets).order_by(Account.id)).all(),
        dbs.scalar(select(func.count()).select_from(AuditLog)),
        dbs.scalar(select(func.count()).select_from(Notification)),
        dbs.scalar(select(func.count()).select_from(EmailOutbox)),
    )


def decide(client, csrf_token, request, action, headers=None, **data):
    form = {"csrf_token": csrf_token(), **data}
    return client.post(f"{QUEUE}/{request.id}/{action}", data=form, headers=headers or {})


def card(html, request):
    return re.search(
        rf'<article class="card review" id="review-{request.id}".*?</article>', html, re.S
    )


# --------------------------------------------------------------------------- access ---
@pytest.mark.parametrize(
    ("method", "suffix"), [("get", ""), ("post", "/{id}/approve"), ("post", "/{id}/reject")]
)
def test_visitors_get_the_login_page(client, csrf_token, org, dbs, method, suffix):
    _, _, request = org
    before = snapshot(dbs)
    data = {"csrf_token": csrf_token(), "review_note": "x"} if method == "post" else None
    response = getattr(client, method)(QUEUE + suffix.format(id=request.id), data=data)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert snapshot(dbs) == before


@pytest.mark.parametrize("role", ROLES)
def test_customers_of_every_role_get_403_and_nothing_is_written(
    client, login, csrf_token, org, dbs, role
):
    _, people, request = org
    login(people[role])
    before = snapshot(dbs)
    response = client.get(QUEUE)
    assert response.status_code == 403
    assert "This area is for PrimeCloud staff." in response.get_data(as_text=True)
    for action in ("approve", "reject"):
        response = decide(client, csrf_token, request, action, granted_value="x", review_note="")
        assert response.status_code == 403
    assert snapshot(dbs) == before


def test_csrf_is_required(client, staff, org, dbs):
    _, _, request = org
    before = snapshot(dbs)
    assert client.post(f"{QUEUE}/{request.id}/approve").status_code == 400
    assert snapshot(dbs) == before


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_a_missing_request_is_404(client, staff, csrf_token, dbs, action):
    response = client.post(
        f"{QUEUE}/{2**62}/{action}",
        data={"csrf_token": csrf_token(), "review_note": "n", "granted_value": "x"},
    )
    assert response.status_code == 404


# ---------------------------------------------------------------------------- queue ---
def test_the_queue_shows_what_staff_need_to_decide(client, staff, org, dbs):
    account, people, request = org
    for _ in range(4):
        factories.BucketFactory(account=account)
    response = client.get(QUEUE, query_string={"status": "pending"})
    assert response.status_code == 200
    html = unescape(response.get_data(as_text=True))
    found = card(html, request)
    assert found, html
    row = found.group(0)
    assert f'<a href="/admin/accounts/{account.id}">Acme Ltda</a>' in row
    assert "Buckets" in row and "status-pending" in row
    assert "Mais projetos de clientes neste trimestre." in row  # the justification
    assert "<dt>Current quota</dt><dd>10</dd>" in row
    assert "<strong>25</strong>" in row  # asked
    assert "4 of 10" in row  # usage from portal.quotas.usage
    assert people["admin"].email in row
    assert f'action="{QUEUE}/{request.id}/approve"' in row
    assert f'action="{QUEUE}/{request.id}/reject"' in row
    assert re.search(r'name="granted_value"[^>]*min="11" max="25"', row)
    assert 'value="25"' in row  # the default grant is the ask


def test_pending_first_then_decided_with_filters_and_keyset_pages(
    client, staff, dbs, app, monkeypatch
):
    monkeypatch.setitem(app.config, "QUOTA_REVIEW_PAGE_SIZE", 2)
    owner = factories.UserFactory()
    t0 = datetime(2030, 1, 1, tzinfo=UTC)
    accounts = [factories.AccountFactory(owner=owner, name=f"Fila {i} Ltda") for i in range(3)]
    decided = [
        factories.QuotaRequestFactory(
            account=a,
            resource="storage_gb",
            status="rejected",
            review_note="não",
            reviewed_at=t0 + timedelta(days=50 + i),
        )
        for i, a in enumerate(accounts)
    ]
    pending = [
        factories.QuotaRequestFactory(account=a, created_at=t0 + timedelta(days=i))
        for i, a in enumerate(accounts)
    ]

    def walk(**args):
        ids, url = [], QUEUE + ("?" + "&".join(f"{k}={v}" for k, v in args.items()) if args else "")
        while url:
            response = client.get(url)
            assert response.status_code == 200
            html = unescape(response.get_data(as_text=True))
            ids += [int(i) for i in re.findall(r'id="review-(\d+)"', html)]
            found = re.search(r'rel="next" href="([^"]+)"', html)
            url = found.group(1) if found else None
        return ids

    assert walk(status="pending", resource="buckets")[-3:] == [p.id for p in pending]
    assert walk(status="rejected", resource="storage_gb")[:3] == [d.id for d in reversed(decided)]
    everything = walk()
    ours = [i for i in everything if i in {r.id for r in pending + decided}]
    assert ours == [p.id for p in pending] + [d.id for d in reversed(decided)]


def test_htmx_gets_the_queue_alone(client, staff, org):
    html = client.get(QUEUE, headers=HTMX).get_data(as_text=True)
    assert html.lstrip().startswith('<div id="review-queue">') and "<html" not in html


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"status": "deleted"}, "Choose one of the options in the list."),
        ({"resource": "objects"}, "Choose one of the options in the list."),
        ({"before": "garbage"}, "This page link is not valid."),
        ({"before": "7.123.4"}, "This page link is not valid."),
        ({"before": "0.abc"}, "This page link is not valid."),
    ],
)
def test_bad_filters_are_422(client, staff, org, args, message):
    response = client.get(QUEUE, query_string=args)
    assert response.status_code == 422
    assert message in unescape(response.get_data(as_text=True))


def test_the_queue_issues_a_fixed_number_of_queries(client, staff, dbs, count_queries):
    def measure():
        with count_queries() as queries:
            assert client.get(QUEUE).status_code == 200
        return len(queries)

    few = measure()
    owner = factories.UserFactory()
    for _ in range(8):
        account = factories.AccountFactory(owner=owner)
        factories.BucketFactory(account=account)
        factories.QuotaRequestFactory(account=account, status="rejected", review_note="n")
        factories.QuotaRequestFactory(account=account)
    # user, the page (one statement), navigation, unread badge
    assert few == measure() == 4


def test_the_admin_home_card_links_to_the_pending_queue(client, staff, org):
    html = client.get("/admin/").get_data(as_text=True)
    assert f'<a href="{QUEUE}?status=pending" id="stat-quota-pending">' in html
    assert '<a href="/admin/accounts?status=pending" id="stat-accounts-pending">' in html


# ------------------------------------------------------------------------ decisions ---
def test_approving_without_javascript_redirects_back_to_the_filtered_queue(
    client, staff, csrf_token, org, dbs, mailbox
):
    account, people, request = org
    back = f"{QUEUE}?status=pending&resource=buckets"
    response = decide(
        client,
        csrf_token,
        request,
        "approve",
        granted_value="20",
        review_note="Por ora, 20.",
        back=back,
    )
    assert response.status_code == 302 and response.headers["Location"] == back
    dbs.expire_all()
    decided = dbs.get(QuotaRequest, request.id)
    assert (decided.status, decided.granted_value, decided.review_note) == (
        "approved",
        20,
        "Por ora, 20.",
    )
    assert dbs.get(Account, account.id).quota_buckets == 20
    html = client.get(back).get_data(as_text=True)
    assert "Approved: Acme Ltda may now use 20 buckets." in html
    # The requester (admin) and the owner are notified and emailed.
    told = dbs.scalars(
        select(Notification.user_id).where(
            Notification.account_id == account.id, Notification.kind == "quota.approved"
        )
    ).all()
    assert sorted(told) == sorted([people["admin"].id, people["owner"].id])
    mailbox.wait_for(2)
    assert sorted(m["To"] for m in mailbox) == sorted(
        [people["admin"].email, people["owner"].email]
    )
    assert all(
        "Granted: 20. The limit is now 20." in m.get_body(("plain",)).get_content() for m in mailbox
    )


def test_approving_with_htmx_swaps_the_card(client, staff, csrf_token, org, dbs):
    account, _, request = org
    response = decide(client, csrf_token, request, "approve", headers=HTMX, granted_value="")
    assert response.status_code == 200
    html = unescape(response.get_data(as_text=True))
    assert html.lstrip().startswith(f'<article class="card review" id="review-{request.id}"')
    assert "status-approved" in html and "Approved: Acme Ltda may now use 25 buckets." in html
    assert "<dt>Granted</dt><dd><strong>25</strong></dd>" in html
    assert "/approve" not in html and "/reject" not in html  # decided: no more forms
    dbs.expire_all()
    assert dbs.get(Account, account.id).quota_buckets == 25


def test_rejecting_needs_a_note(client, staff, csrf_token, org, dbs):
    account, _, request = org
    before = snapshot(dbs)
    for headers in ({}, HTMX):
        response = decide(client, csrf_token, request, "reject", headers=headers, review_note="  ")
        assert response.status_code == 422
        html = unescape(response.get_data(as_text=True))
        assert re.search(
            rf'<p class="error" id="reject-note-{request.id}-error">Tell the customer why', html
        )
        assert ("<html" in html) is (not headers)
    assert snapshot(dbs) == before
    response = decide(
        client, csrf_token, request, "reject", headers=HTMX, review_note="Uso atual é baixo."
    )
    assert response.status_code == 200
    html = unescape(response.get_data(as_text=True))
    assert "status-rejected" in html and "Uso atual é baixo." in html
    dbs.expire_all()
    assert dbs.get(Account, account.id).quota_buckets == 10


@pytest.mark.parametrize(
    ("granted", "message"),
    [
        ("abc", "Enter a whole number, digits only."),
        ("2.5", "Enter a whole number, digits only."),
        ("10", "Grant between 11 (more than the current quota) and 25 (what was asked)."),
        ("26", "Grant between 11 (more than the current quota) and 25 (what was asked)."),
    ],
)
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["no-js", "htmx"])
def test_a_bad_granted_value_is_422_next_to_the_field(
    client, staff, csrf_token, org, dbs, granted, message, headers
):
    _, _, request = org
    before = snapshot(dbs)
    response = decide(
        client,
        csrf_token,
        request,
        "approve",
        headers=headers,
        granted_value=granted,
        review_note="kept",
    )
    assert response.status_code == 422
    html = unescape(response.get_data(as_text=True))
    error = re.search(rf'<p class="error" id="granted-{request.id}-error">(.*?)</p>', html)
    assert error and message in error.group(1)
    assert f'value="{granted}"' in html and ">kept</textarea>" in html  # what was typed stays
    assert snapshot(dbs) == before


def test_a_decision_on_a_decided_request_is_refused_with_who_decided(
    client, staff, csrf_token, org, dbs
):
    account, _, request = org
    decide(client, csrf_token, request, "approve", granted_value="15")
    before = snapshot(dbs)
    for action in ("approve", "reject"):
        response = decide(
            client, csrf_token, request, action, headers=HTMX, granted_value="20", review_note="n"
        )
        assert response.status_code == 422
        html = unescape(response.get_data(as_text=True))
        assert "This request was already approved by Sofia Staff, granting 15" in html
    assert snapshot(dbs) == before
    dbs.expire_all()
    assert dbs.get(Account, account.id).quota_buckets == 15


@pytest.mark.parametrize(
    ("back", "expected"),
    [
        ("https://evil.example/admin/quota-requests", QUEUE),
        ("//evil.example/x", QUEUE),
        ("/accounts/1/quotas", QUEUE),
        ("/admin/accounts/{account}", "/admin/accounts/{account}"),
        ("/admin/quota-requests?resource=buckets", "/admin/quota-requests?resource=buckets"),
    ],
)
def test_back_is_the_queue_or_the_organization_page(client, staff, csrf_token, org, back, expected):
    account, _, request = org
    response = decide(
        client, csrf_token, request, "reject", review_note="n", back=back.format(account=account.id)
    )
    assert response.status_code == 302
    assert response.headers["Location"] == expected.format(account=account.id)
