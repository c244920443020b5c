"""/accounts/<id>/buckets: the list (quota meters, search, keyset pages), creation with the
live name check, and one bucket's page (overview, versioning, deletion) — per role, with and
without JavaScript."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.accounts.services import set_status
from portal.models import AuditLog, Bucket, Notification
from tests import factories

ROLES = ["owner", "admin", "member", "billing", "viewer"]
WRITERS = {"owner", "admin", "member"}
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def org(dbs):
    """An active account with one person of each role and a bucket: (account, people)."""
    account = factories.AccountFactory(name="Acme Ltda")
    people = {}
    for role in ROLES:
        people[role] = factories.UserFactory(name=f"{role.title()} Person")
        factories.MemberFactory(account=account, user=people[role], role=role)
    factories.BucketFactory(
        account=account,
        name="fotos",
        object_count=1234,
        size_bytes=1536 * 1024**2,
        lifecycle_rules=[
            {
                "id": "logs",
                "status": "Enabled",
                "filter": {"prefix": "logs/"},
                "expiration": {"days": 30},
            }
        ],
    )
    return account, people


def url(account, suffix=""):
    return f"/accounts/{account.id}/buckets{suffix}"


def snapshot(dbs):
    """Everything a buckets request could write."""
    dbs.expire_all()
    return (
        dbs.execute(
            select(Bucket.name, Bucket.versioning, Bucket.lifecycle_rules).order_by(Bucket.id)
        ).all(),
        dbs.scalar(select(func.count()).select_from(AuditLog)),
        dbs.scalar(select(func.count()).select_from(Notification)),
    )


def bucket(dbs, account, name="fotos"):
    dbs.expire_all()
    return dbs.scalar(select(Bucket).where(Bucket.account_id == account.id, Bucket.name == name))


# --------------------------------------------------------------------------- list ---
@pytest.mark.parametrize("role", ROLES)
def test_every_member_sees_the_list_writers_get_the_form(client, login, org, role):
    account, people = org
    login(people[role])
    response = client.get(url(account))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'href="{url(account, "/fotos")}"' in html
    assert "1,234" in html and "1.5 GB" in html  # objects and size in human units
    assert 'id="buckets-quota"' in html and "1 of 10" in html
    assert 'id="storage-quota"' in html
    assert ('id="create-bucket"' in html) is (role in WRITERS)
    assert ("can see buckets and their rules" in html) is (role not in WRITERS)
    assert 'aria-current="page">Buckets</a>' in html  # the organization's tab


def test_sizes_and_counts_follow_the_reader_locale(client, login, org, dbs):
    account, people = org
    people["viewer"].locale = "pt_BR"
    dbs.commit()
    login(people["viewer"])
    html = client.get(url(account)).get_data(as_text=True)
    assert "1.234" in html and "1,5 GB" in html


def test_another_organization_is_404_and_visitors_log_in(client, login, org, csrf_token):
    account, _ = org
    paths = ["", "/fotos", "/fotos/lifecycle.json", "/fotos/rules/edit?rule=logs"]
    for path in paths:
        response = client.get(url(account, path))
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    login(factories.UserFactory())
    for path in paths:
        assert client.get(url(account, path)).status_code == 404
    for path in ["", "/_check-name", "/fotos/versioning", "/fotos/delete", "/fotos/rules"]:
        response = client.post(url(account, path), data={"csrf_token": csrf_token(), "name": "x"})
        assert response.status_code == 404


@pytest.mark.parametrize("path", ["/Fotos", "/fo_to", "/ab", "/fotos%00", "/" + "a" * 64])
def test_impossible_bucket_names_match_no_route(client, login, org, path):
    account, people = org
    login(people["owner"])
    assert client.get(url(account, path)).status_code == 404


def test_list_partial_for_htmx(client, login, org):
    account, people = org
    login(people["viewer"])
    html = client.get(url(account), headers=HTMX).get_data(as_text=True)
    assert "<html" not in html and html.lstrip().startswith('<div id="buckets-list"')


def test_search_by_prefix_and_keyset_pages_in_the_url(client, login, app, org, dbs):
    account, people = org
    for i in range(5):
        factories.BucketFactory(account=account, name=f"logs-{i}")
    app.config["BUCKETS_PAGE_SIZE"] = 2
    try:
        login(people["viewer"])
        html = client.get(url(account, "?q=LOGS")).get_data(as_text=True)
        assert re.findall(r'<tr id="bucket-\d+">\s*<th[^>]*><a[^>]*>([^<]+)<', html) == [
            "logs-0",
            "logs-1",
        ]
        assert 'value="logs"' in html  # the search stays in the form
        next_url = re.search(r'rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
        assert "q=logs" in next_url and "before=" in next_url and "offset" not in next_url
        html = client.get(next_url).get_data(as_text=True)
        assert (
            "logs-2" in html and "logs-3" in html and "logs-1" not in html and "fotos" not in html
        )
    finally:
        app.config["BUCKETS_PAGE_SIZE"] = 50


@pytest.mark.parametrize("query", ["?q=fo_to", "?before=a.b", "?q=" + "a" * 64])
def test_a_bad_search_or_cursor_is_422_with_a_message(client, login, org, query):
    account, people = org
    login(people["viewer"])
    response = client.get(url(account, query))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Fix the search above" in html and 'class="error"' in html


def test_list_query_count_does_not_grow(client, login, dbs, count_queries):
    def measure(size):
        owner = factories.UserFactory()
        account = factories.AccountFactory(owner=owner)
        account.quota_buckets = 100
        dbs.commit()
        for i in range(size):
            factories.BucketFactory(account=account, name=f"b-{i:03d}")
        login(owner)
        with count_queries() as queries:
            response = client.get(url(account))
        assert response.status_code == 200
        assert response.get_data(as_text=True).count('<tr id="bucket-') == size
        return len(queries)

    assert measure(2) == measure(40) <= 6


# ------------------------------------------------------------------------- create ---
def test_create_without_javascript_redirects_to_the_bucket(client, login, org, csrf_token, dbs):
    account, people = org
    login(people["member"])
    response = client.post(
        url(account),
        data={
            "name": "videos-2026",
            "region": "sa-east-sp1",
            "versioning": "enabled",
            "abort_uploads": "y",
            "csrf_token": csrf_token(),
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == url(account, "/videos-2026")
    created = bucket(dbs, account, "videos-2026")
    assert created.versioning == "enabled" and len(created.lifecycle_rules) == 1
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The bucket videos-2026 was created." in page


def test_create_with_htmx_leaves_for_the_bucket_page(client, login, org, csrf_token):
    account, people = org
    login(people["owner"])
    response = client.post(
        url(account), data={"name": "videos", "csrf_token": csrf_token()}, headers=HTMX
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == url(account, "/videos")


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"name": "My_Bucket"}, ["lower-case letters only", "remove “_”"]),
        ({"name": "ab"}, ["3 to 63"]),
        ({"name": "192.168.0.1"}, ["IP address"]),
        ({"name": "fotos"}, ["already used by a bucket of this organization"]),
        ({"name": "ok-name", "region": "us-east-1"}, ["Choose one of the regions"]),
    ],
)
def test_bad_input_is_422_next_to_the_field_and_nothing_is_written(
    client, login, org, csrf_token, dbs, data, words
):
    account, people = org
    login(people["admin"])
    before = snapshot(dbs)
    for headers in ({}, HTMX):
        response = client.post(
            url(account), data={**data, "csrf_token": csrf_token()}, headers=headers
        )
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert ("<html" in html) is (not headers)
        assert 'id="create-bucket"' in html and 'aria-invalid="true"' in html
        for word in words:
            assert word in html
    assert snapshot(dbs) == before


@pytest.mark.parametrize("role", ["billing", "viewer"])
def test_readers_may_not_create(client, login, org, csrf_token, dbs, role):
    account, people = org
    login(people[role])
    before = snapshot(dbs)
    response = client.post(url(account), data={"name": "nova", "csrf_token": csrf_token()})
    assert response.status_code == 403
    response = client.post(
        url(account, "/_check-name"), data={"name": "nova", "csrf_token": csrf_token()}
    )
    assert response.status_code == 403
    assert snapshot(dbs) == before


def test_the_live_check_gives_a_reason_per_rule(client, login, org, csrf_token):
    account, people = org
    login(people["member"])

    def check(name):
        response = client.post(
            url(account, "/_check-name"),
            data={"name": name, "csrf_token": csrf_token()},
            headers=HTMX,
        )
        assert response.status_code == 200
        return response.get_data(as_text=True)

    html = check("-Meu_Bucket..")
    assert html.lstrip().startswith('<div id="bucket-name-feedback"')
    assert html.count('<li class="error">') == 5
    assert "already used" in check("fotos")
    assert "is a valid name and is free" in check("fotos-novas")
    assert 'class="error"' not in check("")


def test_at_the_quota_the_form_is_disabled_and_links_to_the_quotas(client, login, org, dbs):
    account, people = org
    account.quota_buckets = 1
    dbs.commit()
    for role, link_text in (("owner", "Request a higher quota"), ("member", "See quotas")):
        login(people[role])
        html = client.get(url(account)).get_data(as_text=True)
        assert "reached its quota of 1 bucket." in html
        assert f'<a href="/accounts/{account.id}/quotas">{link_text}</a>' in html
        assert re.search(r'<fieldset class="plain" disabled', html)


@pytest.mark.parametrize("status", ["approved", "suspended"])
def test_a_not_active_organization_sees_the_form_disabled_with_the_reason(
    client, login, dbs, status
):
    owner = factories.UserFactory()
    account = factories.AccountFactory(owner=owner)
    factories.BucketFactory(account=account, name="fotos")
    if status == "suspended":
        set_status(account, "suspended", reason="Fatura em atraso")
    else:  # an approved organization never had buckets; recreate one without them
        account = factories.AccountFactory(owner=owner, status="approved")
    dbs.commit()
    login(owner)
    html = client.get(url(account)).get_data(as_text=True)
    assert re.search(r'<fieldset class="plain" disabled', html)
    if status == "suspended":
        assert "Reason: Fatura em atraso" in html
    else:
        assert "once the organization is active" in html


# ----------------------------------------------------------------------- one bucket ---
@pytest.mark.parametrize("role", ROLES)
def test_the_bucket_page_per_role(client, login, org, role):
    account, people = org
    login(people[role])
    response = client.get(url(account, "/fotos"))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "https://s3.sa-east-sp1.primecloud.com.br/fotos" in html
    assert "https://fotos.s3.sa-east-sp1.primecloud.com.br" in html
    assert "aws s3 ls s3://fotos --endpoint-url https://s3.sa-east-sp1.primecloud.com.br" in html
    assert "never turned off" in html
    assert "Delete current objects 30 days after they are created" in html
    assert 'id="export-link"' in html  # everyone may export
    writes = [
        url(account, "/fotos/versioning"),
        url(account, "/fotos/delete"),
        url(account, "/fotos/rules"),
        url(account, "/fotos/rules/status"),
        url(account, "/fotos/lifecycle/import"),
    ]
    for action in writes:
        assert (f'action="{action}"' in html) is (role in WRITERS), action


def test_the_endpoint_comes_from_configuration(client, login, app, org):
    account, people = org
    app.config["S3_ENDPOINT"] = "http://minio.local:9000"
    try:
        login(people["viewer"])
        html = client.get(url(account, "/fotos")).get_data(as_text=True)
        assert "http://minio.local:9000/fotos" in html and "http://fotos.minio.local:9000" in html
    finally:
        app.config["S3_ENDPOINT"] = "https://s3.{region}.primecloud.com.br"


def test_bucket_page_query_count_does_not_grow_with_rules(client, login, dbs, count_queries):
    def measure(size):
        owner = factories.UserFactory()
        account = factories.AccountFactory(owner=owner)
        factories.BucketFactory(
            account=account,
            name="fotos",
            lifecycle_rules=[
                {
                    "id": f"r{i}",
                    "status": "Enabled",
                    "filter": {"prefix": f"p{i}/"},
                    "expiration": {"days": 1},
                }
                for i in range(size)
            ],
        )
        login(owner)
        with count_queries() as queries:
            response = client.get(url(account, "/fotos"))
        assert response.status_code == 200
        assert response.get_data(as_text=True).count('class="rule-row') == size
        return len(queries)

    assert measure(1) == measure(300) <= 5


def test_a_suspended_organization_sees_its_buckets_read_only_with_the_reason(
    client, login, org, dbs, csrf_token
):
    account, people = org
    set_status(account, "suspended", reason="Fatura em atraso")
    dbs.commit()
    login(people["owner"])
    html = client.get(url(account, "/fotos")).get_data(as_text=True)
    assert "read-only until it is restored. Reason: Fatura em atraso" in html
    for action in ("/fotos/versioning", "/fotos/delete", "/fotos/rules", "/fotos/rules/status"):
        assert f'action="{url(account, action)}"' not in html
    assert 'id="export-link"' in html
    before = snapshot(dbs)
    response = client.post(
        url(account, "/fotos/versioning"), data={"action": "enable", "csrf_token": csrf_token()}
    )
    assert response.status_code == 422 and "Fatura em atraso" in response.get_data(as_text=True)
    assert snapshot(dbs) == before


# ----------------------------------------------------------------------- versioning ---
def test_versioning_without_javascript(client, login, org, csrf_token, dbs):
    account, people = org
    login(people["member"])
    response = client.post(
        url(account, "/fotos/versioning"), data={"action": "enable", "csrf_token": csrf_token()}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == url(account, "/fotos#versioning")
    assert bucket(dbs, account).versioning == "enabled"
    html = client.get(url(account, "/fotos")).get_data(as_text=True)
    assert "Versioning of fotos: Enabled." in html and ">Suspend versioning<" in html
    assert (
        dbs.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.kind == "bucket.versioning_enabled")
        )
        == 2
    )  # the owner and the admin


def test_versioning_with_htmx_swaps_the_card_and_the_rules_flags(client, login, org, csrf_token):
    account, people = org
    login(people["owner"])
    response = client.post(
        url(account, "/fotos/versioning"),
        data={"action": "enable", "csrf_token": csrf_token()},
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="versioning"')
    assert '<tbody id="rules-body" hx-swap-oob="true">' in html
    assert "Enable versioning again" not in html and ">Suspend versioning<" in html
    response = client.post(
        url(account, "/fotos/versioning"),
        data={"action": "suspend", "csrf_token": csrf_token()},
        headers=HTMX,
    )
    assert "Enable versioning again" in response.get_data(as_text=True)


@pytest.mark.parametrize("action", ["suspend", "unversion", ""])
def test_a_refused_versioning_move_is_422_with_the_reason(
    client, login, org, csrf_token, dbs, action
):
    account, people = org
    login(people["admin"])
    before = snapshot(dbs)
    for headers in ({}, HTMX):
        response = client.post(
            url(account, "/fotos/versioning"),
            data={"action": action, "csrf_token": csrf_token()},
            headers=headers,
        )
        assert response.status_code == 422
        assert 'id="versioning-error"' in response.get_data(as_text=True)
    assert snapshot(dbs) == before


# --------------------------------------------------------------------------- delete ---
def test_a_bucket_with_objects_cannot_be_deleted(client, login, org, csrf_token, dbs):
    account, people = org
    login(people["owner"])
    html = client.get(url(account, "/fotos")).get_data(as_text=True)
    assert "This bucket holds 1,234 objects (1.5 GB). Empty it first" in html
    before = snapshot(dbs)
    response = client.post(
        url(account, "/fotos/delete"),
        data={"confirm_name": "fotos", "csrf_token": csrf_token()},
        headers=HTMX,
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="delete-bucket"')
    assert "still holds 1234 objects" in html and 'aria-invalid="true"' in html
    assert snapshot(dbs) == before


def test_delete_an_empty_bucket_by_typing_its_name(client, login, org, csrf_token, dbs):
    account, people = org
    factories.BucketFactory(account=account, name="vazio")
    login(people["member"])
    response = client.post(
        url(account, "/vazio/delete"), data={"confirm_name": "vazi", "csrf_token": csrf_token()}
    )
    assert response.status_code == 422
    assert "Type the bucket&#39;s name, vazio, to confirm." in response.get_data(as_text=True)
    assert bucket(dbs, account, "vazio") is not None
    response = client.post(
        url(account, "/vazio/delete"),
        data={"confirm_name": "vazio", "csrf_token": csrf_token()},
        headers=HTMX,
    )
    assert response.status_code == 204 and response.headers["HX-Redirect"] == url(account)
    assert bucket(dbs, account, "vazio") is None
    html = client.get(url(account)).get_data(as_text=True)
    assert "The bucket vazio was deleted." in html


# ------------------------------------------------------------- audit and notices ---
def test_audit_entries_link_to_the_bucket_and_read_as_sentences(client, login, org, csrf_token):
    account, people = org
    login(people["owner"])
    client.post(
        url(account, "/fotos/versioning"), data={"action": "enable", "csrf_token": csrf_token()}
    )
    client.post(url(account), data={"name": "novo", "csrf_token": csrf_token()})
    html = client.get(f"/accounts/{account.id}/audit").get_data(as_text=True)
    assert "Enabled versioning on the bucket fotos." in html
    assert "Created the bucket novo." in html
    assert f'href="{url(account, "/fotos")}"' in html and f'href="{url(account, "/novo")}"' in html


def test_owners_read_the_versioning_notification(client, login, org, csrf_token):
    account, people = org
    login(people["member"])
    client.post(
        url(account, "/fotos/versioning"), data={"action": "enable", "csrf_token": csrf_token()}
    )
    login(people["owner"])
    html = client.get("/notifications").get_data(as_text=True)
    assert "Member Person enabled versioning on the bucket fotos of Acme Ltda." in html


def test_the_dashboard_card_links_to_the_list(client, login, org):
    account, people = org
    login(people["viewer"])
    html = client.get(f"/accounts/{account.id}/").get_data(as_text=True)
    assert f'<a href="{url(account)}">See buckets</a>' in html
