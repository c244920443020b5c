"""Lifecycle rules on /accounts/<id>/buckets/<name>: add (presets), edit in place,
enable/disable, delete — each an htmx swap of its row, the same forms without JavaScript —
and the S3 LifecycleConfiguration JSON export and import (paste, upload, malformed, too
large, hostile)."""

from __future__ import annotations

import io
import json
import re
from html import unescape

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from portal.buckets.rules import dom_id_of
from portal.models import AuditLog, Bucket
from tests import factories

ROLES = ["owner", "admin", "member", "billing", "viewer"]
WRITERS = {"owner", "admin", "member"}
HTMX = {"HX-Request": "true"}
LOGS = {
    "id": "logs",
    "status": "Enabled",
    "filter": {"prefix": "logs/"},
    "expiration": {"days": 30},
}


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def org(dbs):
    account = factories.AccountFactory(name="Acme Ltda")
    people = {}
    for role in ROLES:
        people[role] = factories.UserFactory(name=f"{role.title()} Person")
        factories.MemberFactory(account=account, user=people[role], role=role)
    factories.BucketFactory(account=account, name="fotos", lifecycle_rules=[dict(LOGS)])
    return account, people


def url(account, suffix=""):
    return f"/accounts/{account.id}/buckets/fotos{suffix}"


def stored(dbs, account):
    dbs.expire_all()
    return dbs.scalar(
        select(Bucket.lifecycle_rules).where(
            Bucket.account_id == account.id, Bucket.name == "fotos"
        )
    )


def snapshot(dbs, account):
    return stored(dbs, account), dbs.scalar(select(func.count()).select_from(AuditLog))


def rule_form(csrf, **values):
    data = {
        "rule_id": "tmp",
        "prefix": "tmp/",
        "expiration_days": "7",
        "enabled": "y",
        "csrf_token": csrf,
    }
    data.update(values)
    return {k: v for k, v in data.items() if v is not None}


# ---------------------------------------------------------------------------- add ---
def test_add_without_javascript(client, login, org, csrf_token, dbs):
    account, people = org
    login(people["member"])
    response = client.post(url(account, "/rules"), data=rule_form(csrf_token()))
    assert response.status_code == 302
    assert response.headers["Location"] == url(account, f"#{dom_id_of('tmp')}")
    assert [r["id"] for r in stored(dbs, account)] == ["logs", "tmp"]
    html = client.get(url(account)).get_data(as_text=True)
    assert "The rule “tmp” was added." in html


def test_add_with_htmx_appends_the_row_and_resets_the_form(client, login, org, csrf_token):
    account, people = org
    login(people["owner"])
    response = client.post(
        url(account, "/rules"),
        data=rule_form(csrf_token(), rule_id="old-logs", prefix="logs/2020/"),
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="rule-add"')
    assert 'id="add-rule_id" name="rule_id" value=""' in html  # a fresh form
    assert '<template><tbody hx-swap-oob="beforeend:#rules-body">' in html
    assert f'<tr id="{dom_id_of("old-logs")}" class="rule-row"' in html
    # The existing rule's overlap flag changed with it: its row comes out of band.
    assert f'<tr id="{dom_id_of("logs")}" class="rule-row" hx-swap-oob="true">' in html
    assert "overlaps the rule “old-logs”" in html


def test_the_first_rule_replaces_the_empty_message(client, login, org, csrf_token, dbs):
    account, people = org
    factories.BucketFactory(account=account, name="vazio")
    login(people["owner"])
    html = client.get(f"/accounts/{account.id}/buckets/vazio").get_data(as_text=True)
    assert 'id="rules-empty"' in html
    response = client.post(
        f"/accounts/{account.id}/buckets/vazio/rules", data=rule_form(csrf_token()), headers=HTMX
    )
    assert '<tr id="rules-empty" hx-swap-oob="delete">' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"rule_id": ""}, "rule_id", "Enter an ID"),
        ({"rule_id": "logs"}, "rule_id", "already used"),
        ({"expiration_days": "0"}, "expiration_days", "whole number"),
        ({"expiration_days": "1e3"}, "expiration_days", "whole number"),
        ({"expiration_days": ""}, "expiration_days", "at least one action"),
        ({"prefix": "", "enabled": None}, "acknowledge", "deletes every object"),
        ({"prefix": "x" * 1025}, "prefix", "1024"),
    ],
)
def test_a_refused_rule_is_422_next_to_its_field(
    client, login, org, csrf_token, dbs, values, field, words
):
    account, people = org
    login(people["admin"])
    before = snapshot(dbs, account)
    for headers in ({}, HTMX):
        response = client.post(
            url(account, "/rules"), data=rule_form(csrf_token(), **values), headers=headers
        )
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert ("<html" in html) is (not headers)
        assert f'id="add-{field}" name="{field}"' in html
        error = re.search(rf'<p class="error" id="add-{field}-error">([^<]+)</p>', html)
        assert error and words in error.group(1)
    assert snapshot(dbs, account) == before


def test_an_acknowledged_empty_prefix_rule_is_saved_and_marked(client, login, org, csrf_token):
    account, people = org
    login(people["member"])
    response = client.post(
        url(account, "/rules"),
        data=rule_form(csrf_token(), rule_id="all", prefix="", acknowledge="y"),
        headers=HTMX,
    )
    assert response.status_code == 200
    html = client.get(url(account)).get_data(as_text=True)
    assert "Deletes every object of the bucket as it expires (empty prefix)." in html


def test_presets_fill_the_add_form(client, login, org):
    account, people = org
    login(people["member"])
    response = client.get(url(account, "/rules/new?preset=keep-last-version"), headers=HTMX)
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="rule-add"')
    assert 'value="keep-only-the-last-version"' in html
    assert re.search(r'id="add-noncurrent_days" name="noncurrent_days" value="1"', html)
    # Without JavaScript the preset link opens the page with the form filled in.
    html = client.get(url(account, "?preset=abort-incomplete-uploads")).get_data(as_text=True)
    assert re.search(r'id="add-abort_days" name="abort_days" value="7"', html)
    assert 'value="abort-incomplete-uploads"' in html


# ---------------------------------------------------------------------------- edit ---
def test_edit_in_place_with_htmx(client, login, org, csrf_token, dbs):
    account, people = org
    login(people["member"])
    row_id = dom_id_of("logs")
    html = client.get(url(account, "/rules/edit?rule=logs"), headers=HTMX).get_data(as_text=True)
    assert html.lstrip().startswith(f'<tr id="{row_id}" class="rule-editing"')
    assert f'id="{row_id}-expiration_days" name="expiration_days" value="30"' in html
    response = client.post(
        url(account, "/rules/update"),
        data=rule_form(
            csrf_token(), rule="logs", rule_id="logs", prefix="logs/", expiration_days="90"
        ),
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<tr id="{row_id}" class="rule-row"')
    assert "Delete current objects 90 days after they are created" in html
    assert "The rule “logs” was saved." in html
    assert stored(dbs, account)[0]["expiration"] == {"days": 90}
    cancel = client.get(url(account, "/rules/row?rule=logs"), headers=HTMX).get_data(as_text=True)
    assert cancel.lstrip().startswith(f'<tr id="{row_id}" class="rule-row"')


def test_edit_refused_keeps_the_form_with_the_typed_values(client, login, org, csrf_token, dbs):
    account, people = org
    login(people["member"])
    before = snapshot(dbs, account)
    data = rule_form(csrf_token(), rule="logs", rule_id="logs", expiration_days="-1")
    response = client.post(url(account, "/rules/update"), data=data, headers=HTMX)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    row_id = dom_id_of("logs")
    assert 'class="rule-editing"' in html and 'value="-1"' in html
    assert f'id="{row_id}-expiration_days-error">Enter a whole number of days' in html
    # Without JavaScript: the page, with the row in edit mode and the message, 422.
    response = client.post(url(account, "/rules/update"), data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<html" in html and 'class="rule-editing"' in html and 'value="-1"' in html
    assert snapshot(dbs, account) == before


def test_edit_without_javascript(client, login, org, csrf_token, dbs):
    account, people = org
    login(people["member"])
    html = client.get(url(account, "/rules/edit?rule=logs")).get_data(as_text=True)
    assert "<html" in html and 'class="rule-editing"' in html
    response = client.post(
        url(account, "/rules/update"),
        data=rule_form(csrf_token(), rule="logs", rule_id="logs-v2", prefix="logs/"),
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("#lifecycle")
    assert stored(dbs, account)[0]["id"] == "logs-v2"


def test_editing_a_rule_deleted_meanwhile(client, login, org, csrf_token):
    account, people = org
    login(people["member"])
    data = rule_form(csrf_token(), rule="ghost")
    response = client.post(url(account, "/rules/update"), data=data, headers=HTMX)
    assert response.status_code == 204 and response.headers["HX-Redirect"].endswith("#lifecycle")
    html = client.get(url(account)).get_data(as_text=True)
    assert "This rule no longer exists" in html


# -------------------------------------------------------------- enable / disable ---
def test_disable_and_enable_keep_the_rule(client, login, org, csrf_token, dbs):
    account, people = org
    login(people["member"])
    response = client.post(
        url(account, "/rules/status"),
        data={"rule": "logs", "status": "Disabled", "csrf_token": csrf_token()},
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "is-disabled" in html and "is disabled: it is kept" in html
    assert stored(dbs, account) == [{**LOGS, "status": "Disabled"}]
    response = client.post(
        url(account, "/rules/status"),
        data={"rule": "logs", "status": "Enabled", "csrf_token": csrf_token()},
    )
    assert response.status_code == 302
    assert stored(dbs, account) == [LOGS]


def test_enabling_a_rule_that_deletes_everything_asks_first_without_javascript(
    client, login, org, csrf_token, dbs
):
    account, people = org
    bucket = dbs.scalar(select(Bucket).where(Bucket.name == "fotos"))
    everything = {**LOGS, "id": "all", "status": "Disabled", "filter": {"prefix": ""}}
    bucket.lifecycle_rules = [dict(LOGS), everything]
    dbs.commit()
    login(people["member"])
    html = client.get(url(account)).get_data(as_text=True)
    assert 'hx-confirm="Enable the rule “all”? Its prefix is empty' in html
    data = {"rule": "all", "status": "Enabled", "csrf_token": csrf_token()}
    response = client.post(url(account, "/rules/status"), data=data)
    assert response.status_code == 200 and "Please confirm" in response.get_data(as_text=True)
    assert stored(dbs, account)[1]["status"] == "Disabled"
    response = client.post(url(account, "/rules/status"), data={**data, "confirmed": "1"})
    assert response.status_code == 302
    assert stored(dbs, account)[1]["status"] == "Enabled"


# --------------------------------------------------------------------------- delete ---
def test_delete_a_rule(client, login, org, csrf_token, dbs):
    account, people = org
    login(people["admin"])
    data = {"rule": "logs", "csrf_token": csrf_token()}
    response = client.post(url(account, "/rules/delete"), data=data)
    assert "Please confirm" in response.get_data(as_text=True)  # without JavaScript
    assert stored(dbs, account) == [LOGS]
    response = client.post(url(account, "/rules/delete"), data=data, headers=HTMX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'<tr id="{dom_id_of("logs")}" class="gone-row"' in html
    assert "The rule “logs” was deleted." in html
    assert stored(dbs, account) == []


@pytest.mark.parametrize("role", ["billing", "viewer"])
def test_readers_may_not_change_rules(client, login, org, csrf_token, dbs, role):
    account, people = org
    login(people[role])
    before = snapshot(dbs, account)
    csrf = csrf_token()
    posts = [
        ("/rules", rule_form(csrf)),
        ("/rules/update", rule_form(csrf, rule="logs")),
        ("/rules/status", {"rule": "logs", "status": "Disabled", "csrf_token": csrf}),
        ("/rules/delete", {"rule": "logs", "csrf_token": csrf, "confirmed": "1"}),
        ("/lifecycle/import", {"document": '{"Rules": []}', "csrf_token": csrf}),
        ("/versioning", {"action": "enable", "csrf_token": csrf}),
        ("/delete", {"confirm_name": "fotos", "csrf_token": csrf}),
    ]
    for path, data in posts:
        assert client.post(url(account, path), data=data).status_code == 403, path
    assert snapshot(dbs, account) == before


def test_posts_need_csrf(client, login, org, dbs):
    account, people = org
    login(people["owner"])
    before = snapshot(dbs, account)
    assert client.post(url(account, "/rules/delete"), data={"rule": "logs"}).status_code == 400
    assert snapshot(dbs, account) == before


# ------------------------------------------------------------------ import / export ---
def test_export_is_an_attachment_in_s3_shape(client, login, org):
    account, people = org
    login(people["viewer"])
    response = client.get(url(account, "/lifecycle.json"))
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == 'attachment; filename="fotos-lifecycle.json"'
    assert json.loads(response.get_data()) == {
        "Rules": [
            {
                "ID": "logs",
                "Filter": {"Prefix": "logs/"},
                "Status": "Enabled",
                "Expiration": {"Days": 30},
            }
        ]
    }


def test_round_trip_through_the_pages(client, login, org, csrf_token, dbs):
    account, people = org
    login(people["member"])
    client.post(
        url(account, "/rules"),
        data=rule_form(
            csrf_token(), rule_id="nc", prefix="", expiration_days="", noncurrent_days="3"
        ),
    )
    before = stored(dbs, account)
    exported = client.get(url(account, "/lifecycle.json")).get_data()
    client.post(
        url(account, "/rules/delete"),
        data={"rule": "logs", "csrf_token": csrf_token(), "confirmed": "1"},
    )
    response = client.post(
        url(account, "/lifecycle/import"),
        data={"file": (io.BytesIO(exported), "fotos-lifecycle.json"), "csrf_token": csrf_token()},
        content_type="multipart/form-data",
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="lifecycle"')
    assert "2 rules replace the 1 there were" in html
    assert stored(dbs, account) == before


def test_import_by_paste_without_javascript(client, login, org, csrf_token, dbs):
    account, people = org
    login(people["owner"])
    document = {
        "Rules": [
            {
                "ID": "tmp",
                "Status": "Enabled",
                "Filter": {"Prefix": "tmp/"},
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
            }
        ]
    }
    response = client.post(
        url(account, "/lifecycle/import"),
        data={"document": json.dumps(document), "csrf_token": csrf_token()},
    )
    assert response.status_code == 302
    assert [r["id"] for r in stored(dbs, account)] == ["tmp"]


@pytest.mark.parametrize(
    ("document", "words"),
    [
        ("{not json", ["not valid JSON (line 1, column 2"]),
        (
            '{"Rules": [{"ID": "a", "Status": "On", "Expiration": {"Days": 1}}, {"ID": "b", "Status": "Enabled"}]}',
            [
                "2 problems were found",
                'Rule #1 "a": Status must be Enabled or Disabled.',
                'Rule #2 "b" needs at least one action',
            ],
        ),
        (
            '{"Rules": [{"ID": "<script>alert(1)</script>", "Status": "Nope", "Expiration": {"Days": 1}}]}',
            ["&lt;script&gt;alert(1)&lt;/script&gt;"],
        ),
        (
            '{"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}}]}',
            ["deletes every object", "Tick the box"],
        ),
        ("[" * 50_000, ["nested too deeply"]),
        (
            '{"Rules": [{"ID": "\\ud800", "Status": "Enabled", "Expiration": {"Days": 1}}]}',
            ["cannot be stored"],
        ),
    ],
    ids=["malformed", "several", "html", "unacknowledged", "deep", "surrogate"],
)
def test_a_refused_import_lists_the_problems_and_changes_nothing(
    client, login, org, csrf_token, dbs, document, words
):
    account, people = org
    login(people["member"])
    before = snapshot(dbs, account)
    for headers in ({}, HTMX):
        response = client.post(
            url(account, "/lifecycle/import"),
            data={"document": document, "csrf_token": csrf_token()},
            headers=headers,
        )
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert 'id="import-error"' in html
        assert "<script>alert" not in html
        for word in words:
            assert word in unescape(html) or word in html
    assert snapshot(dbs, account) == before


def multipart(data: dict) -> dict:
    """A multipart body in memory (the test client spools big ones to a temporary file that
    nobody closes when the request is refused unread)."""
    stream, length, boundary = stream_encode_multipart(data, use_tempfile=False)
    return {
        "input_stream": stream,
        "content_length": length,
        "content_type": f"multipart/form-data; boundary={boundary}",
    }


def test_an_import_over_1_mb_is_refused_with_a_message(client, login, org, csrf_token, dbs):
    account, people = org
    login(people["member"])
    before = snapshot(dbs, account)
    big = b'{"Rules": []}' + b" " * (1024 * 1024 + 10)
    for headers in ({}, HTMX):
        response = client.post(
            url(account, "/lifecycle/import"),
            headers=headers,
            **multipart(
                {
                    "file": FileStorage(
                        io.BytesIO(big), "big.json", content_type="application/json"
                    ),
                    "csrf_token": csrf_token(),
                }
            ),
        )
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert "A lifecycle configuration can have at most 1 MB" in html, re.findall(
            r"class=\"(?:error|flash[^\"]*)\"[^>]*>([^<]*)", html
        )
    assert snapshot(dbs, account) == before


def test_an_oversized_post_elsewhere_is_the_ordinary_413(client, login, org, csrf_token):
    account, people = org
    login(people["member"])
    response = client.post(
        url(account, "/rules"),
        data={"prefix": "x" * (1024 * 1024 + 10), "csrf_token": csrf_token()},
    )
    assert response.status_code == 413
