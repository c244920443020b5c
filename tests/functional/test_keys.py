"""/accounts/<id>/keys: the list (ceiling, status filter, revoked apart, keyset pages),
creation with a scope and the secret shown once, rotation, deactivation, reactivation,
revocation, edits — per role, with and without JavaScript; the secret never appears again
(later pages, logs, emails, audit rows, notifications)."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.accounts.services import set_status
from portal.models import (
    AccessKey,
    AccessKeyBucket,
    AuditLog,
    Bucket,
    EmailOutbox,
    Notification,
)
from tests import factories
from tests.conftest import snapshot
from tests.functional.conftest import HTMX, ROLES

pytestmark = pytest.mark.usefixtures("english")

WRITERS = {"owner", "admin", "member"}
SECRET_RE = re.compile(r'id="secret-value-(PC[A-Z0-9]{18})"[^>]*>([^<]+)</textarea>')


def url(account, suffix=""):
    return f"/accounts/{account.id}/keys{suffix}"


def key_url(account, key, action=""):
    return f"/accounts/{account.id}/keys/{key.key_id}{action}"


def writes(dbs):
    return snapshot(
        dbs,
        select(AccessKey.key_id, AccessKey.status, AccessKey.name, AccessKey.scope).order_by(
            AccessKey.id
        ),
        select(AccessKeyBucket.access_key_id, AccessKeyBucket.bucket_id),
        AuditLog,
        Notification,
    )


def create(client, csrf_token, account, headers=None, **fields):
    data = {"csrf_token": csrf_token(), "name": "deploy", "permission": "read-write"}
    data.update({"scope": "all", **fields})
    return client.post(url(account), data=data, headers=headers or {})


def secret_of(html: str) -> tuple[str, str]:
    match = SECRET_RE.search(html)
    assert match, "no secret in the response"
    return match.group(1), match.group(2)


def key(dbs, key_id):
    dbs.expire_all()
    return dbs.scalar(select(AccessKey).where(AccessKey.key_id == key_id))


# --------------------------------------------------------------------------- list ---
@pytest.mark.parametrize("role", ROLES)
def test_everyone_sees_the_list_only_writers_get_controls(client, login, org, role):
    account, people = org
    factories.AccessKeyFactory(account=account, name="ci-deploy")
    login(people[role])
    response = client.get(url(account))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "ci-deploy" in html
    assert "1 of 10" in html or "1 of" in html
    assert ('id="create-key"' in html) == (role in WRITERS)
    assert (">Deactivate<" in html) == (role in WRITERS)
    assert "secret-value" not in html
    assert response.headers["Cache-Control"] == "no-store"


def test_list_shows_scope_permission_expiry_and_last_used(client, login, dbs, org):
    account, people = org
    bucket = factories.BucketFactory(account=account, name="fotos")
    soon = factories.AccessKeyFactory(
        account=account, name="soon", expires_at=datetime.now(UTC) + timedelta(days=3)
    )
    soon.scope = "buckets"
    soon.permission = "read-only"
    dbs.add(AccessKeyBucket(access_key_id=soon.id, bucket_id=bucket.id, account_id=account.id))
    used = factories.AccessKeyFactory(account=account, name="used")
    used.last_used_at = datetime.now(UTC) - timedelta(hours=3)
    dbs.commit()
    login(people["viewer"])
    html = client.get(url(account)).get_data(as_text=True)
    row = html[html.index(f'id="key-{soon.id}"') :]
    row = row[: row.index("</tr>")]
    assert "fotos" in row and "Read-only" in row
    assert "expiry-soon" in row and ("in 2 days" in row or "in 3 days" in row)
    assert "never" in row  # never used
    used_row = html[html.index(f'id="key-{used.id}"') :]
    used_row = used_row[: used_row.index("</tr>")]
    assert "All buckets" in used_row
    last_used = used_row.split('data-label="Last used">')[1].split("</td>")[0]
    assert "<time" in last_used and "never" not in last_used


def test_expired_keys_are_red_and_revoked_keys_apart(client, login, dbs, org):
    account, people = org
    expired = factories.AccessKeyFactory(account=account, name="old")
    # An expiry in the past (the CHECK wants it after the creation).
    expired.created_at = datetime.now(UTC) - timedelta(days=20)
    expired.expires_at = datetime.now(UTC) - timedelta(days=1)
    dbs.commit()
    revoked = factories.AccessKeyFactory(account=account, name="gone", status="revoked")
    login(people["owner"])
    html = client.get(url(account)).get_data(as_text=True)
    live, _, apart = html.partition('id="revoked-keys"')
    assert f'id="key-{expired.id}"' in live and "expiry-expired" in live
    assert f'id="key-{revoked.id}"' not in live and f'id="key-{revoked.id}"' in apart
    # The expired key cannot be reactivated nor rotated: no such buttons on its row.
    row = live[live.index(f'id="key-{expired.id}"') :]
    row = row[: row.index("</tr>")]
    assert ">Reactivate<" not in row and ">Rotate<" not in row
    # The status filter.
    only = client.get(url(account, "?status=expired")).get_data(as_text=True)
    assert "old" in only and f'id="key-{revoked.id}"' not in only
    assert client.get(url(account, "?status=bogus")).status_code == 422


def test_keyset_pages(client, login, app, org):
    account, people = org
    app.config["KEYS_PAGE_SIZE"] = 2
    try:
        for i in range(5):
            factories.AccessKeyFactory(account=account, name=f"k{i}")
        login(people["owner"])
        seen = []
        next_url = url(account)
        while next_url:
            html = client.get(next_url).get_data(as_text=True)
            seen += re.findall(r'<th scope="row"[^>]*>(k\d)</th>', html)
            m = re.search(r'rel="next" href="([^"]+)"', html)
            next_url = m.group(1).replace("&amp;", "&") if m else None
        assert seen == ["k4", "k3", "k2", "k1", "k0"]
    finally:
        app.config.pop("KEYS_PAGE_SIZE")


def test_the_list_issues_a_fixed_number_of_queries(client, login, dbs, org, count_queries):
    account, people = org
    bucket = factories.BucketFactory(account=account, name="fotos")
    login(people["owner"])
    client.get(url(account))

    def measure():
        with count_queries() as queries:
            assert client.get(url(account)).status_code == 200
        return len(queries)

    first = factories.AccessKeyFactory(account=account, name="first")
    first.scope = "buckets"
    dbs.add(AccessKeyBucket(access_key_id=first.id, bucket_id=bucket.id, account_id=account.id))
    factories.AccessKeyFactory(account=account, name="revoked", status="revoked")
    dbs.commit()
    few = measure()
    # session, user, access, usage, the page, its scopes, the revoked ones, buckets to choose
    assert few <= 9
    for i in range(8):
        k = factories.AccessKeyFactory(account=account, name=f"k{i}")
        k.scope = "buckets"
        dbs.add(AccessKeyBucket(access_key_id=k.id, bucket_id=bucket.id, account_id=account.id))
        factories.AccessKeyFactory(account=account, name=f"r{i}", status="revoked")
    dbs.commit()
    assert measure() == few


def test_the_edit_page_issues_a_fixed_number_of_queries(client, login, dbs, org, count_queries):
    """Whatever the number of buckets (ticked or typed) and of the key's scoped buckets."""
    account, people = org
    login(people["owner"])

    def measure(buckets: int) -> int:
        for i in range(buckets):
            factories.BucketFactory(account=account, name=f"b{buckets}-{i:03d}")
        k = factories.AccessKeyFactory(account=account, name=f"edit-{buckets}")
        k.scope = "buckets"
        for b in dbs.scalars(select(Bucket).where(Bucket.account_id == account.id)).all()[:5]:
            dbs.add(AccessKeyBucket(access_key_id=k.id, bucket_id=b.id, account_id=account.id))
        dbs.commit()
        with count_queries() as queries:
            assert client.get(key_url(account, k, "/edit")).status_code == 200
        return len(queries)

    assert measure(5) == measure(60)  # checkboxes, then typed names past 50 buckets


# ------------------------------------------------------------------------- create ---
@pytest.mark.parametrize("htmx", [False, True])
def test_create_shows_the_secret_once_and_never_again(
    client, login, dbs, org, csrf_token, caplog, mailbox, htmx
):
    account, people = org
    bucket = factories.BucketFactory(account=account, name="fotos")
    login(people["member"])
    caplog.set_level(logging.DEBUG)
    response = create(
        client,
        csrf_token,
        account,
        headers=HTMX if htmx else None,
        name="backup",
        permission="read-only",
        scope="buckets",
        buckets=[str(bucket.id)],
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    key_id, secret = secret_of(html)
    assert len(secret) >= 40
    # One panel, whatever else the response holds (with htmx: the list, refreshed).
    assert html.count('class="secret-panel"') == 1
    assert html.count(secret) == 4  # the field, the profile, the CSV, the variables
    assert "[primecloud]" in html and f"aws_secret_access_key = {secret}" in html
    assert "User Name,Access key ID,Secret access key" in html
    assert f"export AWS_SECRET_ACCESS_KEY={secret}" in html
    assert 'data-copy="#secret-value-' in html and "data-download=" in html
    row = key(dbs, key_id)
    assert row.permission == "read-only" and row.scope == "buckets"
    assert secret.encode() not in bytes(row.secret_ciphertext)
    assert dbs.scalars(
        select(AccessKeyBucket.bucket_id).where(AccessKeyBucket.access_key_id == row.id)
    ).all() == [bucket.id]
    # Never again: the list, the edit page, the audit log, the dashboard, notifications.
    for path in (
        url(account),
        url(account, "?status=active"),
        key_url(account, row, "/edit"),
        f"/accounts/{account.id}/",
        "/notifications",
    ):
        later = client.get(path)
        assert secret not in later.get_data(as_text=True), path
    login(people["owner"])
    audit = client.get(f"/accounts/{account.id}/audit").get_data(as_text=True)
    assert secret not in audit
    assert f'href="/accounts/{account.id}/keys"' in audit  # key entries lead to the keys page
    assert secret not in client.get(f"/accounts/{account.id}/audit.csv").get_data(as_text=True)
    for log in dbs.scalars(select(AuditLog)):
        assert secret not in str(log.details)
    for mail in dbs.scalars(select(EmailOutbox)):
        assert secret not in f"{mail.subject} {mail.body_text} {mail.body_html}"
    assert secret not in caplog.text


def test_rotate_gives_a_new_secret_under_the_same_key_id(client, login, dbs, org, csrf_token):
    account, people = org
    login(people["member"])
    key_id, first = secret_of(create(client, csrf_token, account).get_data(as_text=True))
    row = key(dbs, key_id)
    old_cipher = bytes(row.secret_ciphertext)
    response = client.post(
        key_url(account, row, "/rotate"),
        data={"csrf_token": csrf_token(), "confirmed": "1"},
        headers=HTMX,
    )
    assert response.status_code == 200
    same_id, second = secret_of(response.get_data(as_text=True))
    assert response.get_data(as_text=True).count('class="secret-panel"') == 1
    assert same_id == key_id and second != first
    row = key(dbs, key_id)
    assert row.rotated_at is not None and bytes(row.secret_ciphertext) != old_cipher
    assert second not in client.get(url(account)).get_data(as_text=True)
    # Owners and admins are told (not the actor); the notification holds no secret.
    notes = dbs.scalars(select(Notification).where(Notification.kind == "key.rotated")).all()
    assert {n.user_id for n in notes} == {people["owner"].id, people["admin"].id}
    assert all(second not in str(n.params) for n in notes)


def test_rotate_without_javascript_asks_first_then_shows_the_page(
    client, login, dbs, org, csrf_token
):
    account, people = org
    k = factories.AccessKeyFactory(account=account, name="ci")
    login(people["admin"])
    before = writes(dbs)
    asked = client.post(key_url(account, k, "/rotate"), data={"csrf_token": csrf_token()})
    assert asked.status_code == 200 and "Rotate the secret of ci?" in asked.get_data(as_text=True)
    assert writes(dbs) == before
    done = client.post(
        key_url(account, k, "/rotate"), data={"csrf_token": csrf_token(), "confirmed": "1"}
    )
    assert done.status_code == 200
    assert secret_of(done.get_data(as_text=True))[0] == k.key_id


@pytest.mark.parametrize(
    ("fields", "field_message"),
    [
        ({"name": ""}, "Enter a name for the key."),
        ({"name": "x" * 65}, "Use at most 64 characters"),
        ({"permission": "admin"}, "Choose read-only or read and write."),
        ({"scope": "buckets"}, "Choose at least one bucket."),
        ({"scope": "buckets", "buckets": "999999"}, "Choose buckets of this organization"),
        ({"scope": "buckets", "buckets": "abc"}, "Choose buckets of this organization"),
        ({"scope": "elsewhere"}, "Choose all buckets or some buckets."),
        ({"expires_on": "2020-01-01"}, "Choose a date after today."),
        ({"expires_on": "2099-01-01"}, "Choose a date within"),
        ({"expires_on": "31/12/2026"}, "Enter a date as YYYY-MM-DD."),
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_bad_input_is_422_next_to_the_field_and_writes_nothing(
    client, login, dbs, org, csrf_token, fields, field_message, htmx
):
    account, people = org
    login(people["owner"])
    before = writes(dbs)
    response = create(client, csrf_token, account, headers=HTMX if htmx else None, **fields)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_message in html
    assert "secret-value" not in html
    assert writes(dbs) == before


def test_another_organizations_bucket_cannot_be_in_a_scope(client, login, dbs, org, csrf_token):
    account, people = org
    other = factories.BucketFactory(name="alheio")
    login(people["owner"])
    before = writes(dbs)
    response = create(client, csrf_token, account, scope="buckets", buckets=str(other.id))
    assert response.status_code == 422
    assert writes(dbs) == before


def test_with_many_buckets_their_names_are_typed_and_every_bucket_is_reachable(
    client, login, dbs, org, csrf_token
):
    """Past 50 buckets the form asks for names instead of a checkbox each; a bucket far
    down the list can be chosen; an unknown name (or another organization's) is refused
    next to the field, nothing written."""
    from portal.keys.services import CHOICES_SHOWN

    account, people = org
    for i in range(CHOICES_SHOWN + 10):
        factories.BucketFactory(account=account, name=f"dados-{i:03d}")
    factories.BucketFactory(name="alheio-999")
    login(people["owner"])
    page = client.get(url(account)).get_data(as_text=True)
    assert 'name="bucket_names"' in page and 'name="buckets"' not in page
    before = writes(dbs)
    bad = create(
        client, csrf_token, account, scope="buckets", bucket_names="dados-059\nalheio-999, nada"
    )
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "This organization has no buckets named alheio-999, nada." in html
    assert writes(dbs) == before
    ok = create(client, csrf_token, account, scope="buckets", bucket_names="dados-059, dados-001")
    assert ok.status_code == 200
    made = dbs.scalar(select(AccessKey).order_by(AccessKey.id.desc()))
    names = dbs.scalars(
        select(Bucket.name)
        .join(AccessKeyBucket, AccessKeyBucket.bucket_id == Bucket.id)
        .where(AccessKeyBucket.access_key_id == made.id)
        .order_by(Bucket.name)
    ).all()
    assert names == ["dados-001", "dados-059"]
    edit = client.get(key_url(account, made, "/edit")).get_data(as_text=True)
    assert "dados-001\ndados-059</textarea>" in edit


def test_at_the_ceiling_creation_is_refused_with_a_link_to_ask_for_more(
    client, login, dbs, org, csrf_token
):
    account, people = org
    account.quota_access_keys = 1
    dbs.commit()
    factories.AccessKeyFactory(account=account)
    login(people["owner"])
    html = client.get(url(account)).get_data(as_text=True)
    assert "reached its limit of 1 active access key" in html
    assert f'href="/accounts/{account.id}/quotas#ask"' in html
    before = writes(dbs)
    response = create(client, csrf_token, account)
    assert response.status_code == 422
    assert "reached its limit of 1 active access key" in response.get_data(as_text=True)
    assert writes(dbs) == before


# ------------------------------------------------------------------------ actions ---
def test_deactivate_reactivate_revoke_swap_the_row(client, login, dbs, org, csrf_token):
    account, people = org
    k = factories.AccessKeyFactory(account=account, name="ci")
    login(people["member"])
    data = {"csrf_token": csrf_token()}
    r = client.post(key_url(account, k, "/deactivate"), data=data, headers=HTMX)
    assert r.status_code == 200 and "is inactive" in r.get_data(as_text=True)
    assert r.get_data(as_text=True).lstrip().startswith("<tr")
    assert key(dbs, k.key_id).status == "inactive"
    r = client.post(key_url(account, k, "/reactivate"), data=data, headers=HTMX)
    assert r.status_code == 200 and key(dbs, k.key_id).status == "active"
    r = client.post(key_url(account, k, "/revoke"), data=data, headers=HTMX)
    assert r.status_code == 200 and key(dbs, k.key_id).status == "revoked"
    assert key(dbs, k.key_id).revoked_at is not None
    # Final: nothing moves it again.
    for action in ("/reactivate", "/rotate", "/deactivate", "/revoke"):
        r = client.post(key_url(account, k, action), data=data, headers=HTMX)
        assert r.status_code == 422, action
    actions = dbs.scalars(
        select(AuditLog.action).where(AuditLog.target_id == k.key_id).order_by(AuditLog.id)
    ).all()
    assert actions == ["key.deactivated", "key.reactivated", "key.revoked"]
    revoked_notes = dbs.scalars(
        select(Notification.user_id).where(Notification.kind == "key.revoked")
    ).all()
    assert set(revoked_notes) == {people["owner"].id, people["admin"].id}


def test_revoke_without_javascript_asks_for_a_confirmation(client, login, dbs, org, csrf_token):
    account, people = org
    k = factories.AccessKeyFactory(account=account, name="ci")
    login(people["owner"])
    before = writes(dbs)
    r = client.post(key_url(account, k, "/revoke"), data={"csrf_token": csrf_token()})
    assert r.status_code == 200 and "This is final" in r.get_data(as_text=True)
    assert writes(dbs) == before
    r = client.post(
        key_url(account, k, "/revoke"), data={"csrf_token": csrf_token(), "confirmed": "1"}
    )
    assert r.status_code == 302 and key(dbs, k.key_id).status == "revoked"


def test_an_expired_key_cannot_be_reactivated(client, login, dbs, org, csrf_token):
    account, people = org
    k = factories.AccessKeyFactory(account=account, name="old", status="inactive")
    k.created_at = datetime.now(UTC) - timedelta(days=20)
    k.expires_at = datetime.now(UTC) - timedelta(days=1)
    dbs.commit()
    login(people["owner"])
    before = writes(dbs)
    r = client.post(key_url(account, k, "/reactivate"), data={"csrf_token": csrf_token()})
    assert r.status_code == 422
    assert "expired and cannot be reactivated" in r.get_data(as_text=True)
    assert writes(dbs) == before


def test_a_suspended_organization_may_switch_keys_off_only(client, login, dbs, org, csrf_token):
    account, people = org
    k = factories.AccessKeyFactory(account=account, name="leak")
    off = factories.AccessKeyFactory(account=account, name="off", status="inactive")
    set_status(account, "suspended", reason="Fatura em atraso")
    dbs.commit()
    login(people["owner"])
    html = client.get(url(account)).get_data(as_text=True)
    assert "suspended" in html and ">Rotate<" not in html and ">Reactivate<" not in html
    data = {"csrf_token": csrf_token(), "confirmed": "1"}
    before = writes(dbs)
    assert create(client, csrf_token, account).status_code == 422
    assert client.post(key_url(account, k, "/rotate"), data=data).status_code == 422
    assert client.post(key_url(account, off, "/reactivate"), data=data).status_code == 422
    r = client.post(key_url(account, k, "/edit"), data={**data, "name": "x", "scope": "all"})
    assert r.status_code == 422
    assert writes(dbs) == before
    assert client.post(key_url(account, k, "/deactivate"), data=data).status_code == 302
    assert client.post(key_url(account, off, "/revoke"), data=data).status_code == 302
    assert key(dbs, k.key_id).status == "inactive"
    assert key(dbs, off.key_id).status == "revoked"


def test_edit_name_and_scope(client, login, dbs, org, csrf_token):
    account, people = org
    fotos = factories.BucketFactory(account=account, name="fotos")
    videos = factories.BucketFactory(account=account, name="videos")
    k = factories.AccessKeyFactory(account=account, name="ci")
    login(people["member"])
    page = client.get(key_url(account, k, "/edit"))
    assert page.status_code == 200 and "secret" not in page.get_data(as_text=True).lower()
    r = client.post(
        key_url(account, k, "/edit"),
        data={
            "csrf_token": csrf_token(),
            "name": "ci-fotos",
            "scope": "buckets",
            "buckets": [str(fotos.id), str(videos.id)],
        },
    )
    assert r.status_code == 302
    row = key(dbs, k.key_id)
    assert row.name == "ci-fotos" and row.scope == "buckets"
    actions = dbs.scalars(
        select(AuditLog.action).where(AuditLog.target_id == k.key_id).order_by(AuditLog.id)
    ).all()
    assert actions == ["key.renamed", "key.scope_changed"]
    bad = client.post(
        key_url(account, k, "/edit"),
        data={"csrf_token": csrf_token(), "name": "", "scope": "all"},
    )
    assert bad.status_code == 422 and "Enter a name for the key." in bad.get_data(as_text=True)


def test_a_key_whose_buckets_were_deleted_reaches_no_bucket(client, login, dbs, org):
    account, people = org
    fotos = factories.BucketFactory(account=account, name="fotos")
    k = factories.AccessKeyFactory(account=account, name="ci")
    k.scope = "buckets"
    dbs.add(AccessKeyBucket(access_key_id=k.id, bucket_id=fotos.id, account_id=account.id))
    dbs.commit()
    dbs.delete(fotos)
    dbs.commit()
    assert key(dbs, k.key_id).scope == "buckets"
    login(people["viewer"])
    html = client.get(url(account)).get_data(as_text=True)
    row = html[html.index(f'id="key-{k.id}"') :]
    row = row[: row.index("</tr>")]
    assert "No bucket" in row and "All buckets" not in row


def test_unknown_key_ids_are_404(client, login, org, csrf_token):
    account, people = org
    other = factories.AccessKeyFactory()
    login(people["owner"])
    assert client.get(key_url(account, other, "/edit")).status_code == 404
    r = client.post(key_url(account, other, "/deactivate"), data={"csrf_token": csrf_token()})
    assert r.status_code == 404
    assert client.get(url(account, "/pcnotakey/edit")).status_code == 404


# ----------------------------------------------------------------- expiry notices ---
def test_expiry_notices_are_sent_once(runner, dbs, org):
    account, people = org
    soon = factories.AccessKeyFactory(
        account=account, name="soon", expires_at=datetime.now(UTC) + timedelta(days=3)
    )
    later = factories.AccessKeyFactory(
        account=account, name="later", expires_at=datetime.now(UTC) + timedelta(days=30)
    )
    gone = factories.AccessKeyFactory(account=account, name="gone")
    gone.created_at = datetime.now(UTC) - timedelta(days=20)
    gone.expires_at = datetime.now(UTC) - timedelta(days=1)
    dbs.commit()
    result = runner.invoke(args=["keys", "expiry-notices"])
    assert result.exit_code == 0, result.output
    assert "expiring 1, expired 1" in result.output
    again = runner.invoke(args=["keys", "expiry-notices"])
    assert "expiring 0, expired 0" in again.output
    dbs.expire_all()
    notes = dbs.execute(select(Notification.kind, Notification.user_id, Notification.params)).all()
    expiring = [n for n in notes if n.kind == "key.expiring"]
    expired = [n for n in notes if n.kind == "key.expired"]
    managers = {people["owner"].id, people["admin"].id}
    assert {n.user_id for n in expiring} == managers
    assert {n.user_id for n in expired} == managers
    assert all(n.params["key_id"] == soon.key_id for n in expiring)
    assert all(n.params["key_id"] == gone.key_id for n in expired)
    assert later.key_id not in str(notes)
    assert dbs.scalar(select(func.count()).select_from(Notification)) == 4


def test_edit_with_htmx_swaps_the_row(client, login, dbs, org, csrf_token):
    account, people = org
    fotos = factories.BucketFactory(account=account, name="fotos")
    k = factories.AccessKeyFactory(account=account, name="ci")
    login(people["admin"])
    form = client.get(key_url(account, k, "/edit"), headers=HTMX)
    html = form.get_data(as_text=True)
    assert form.status_code == 200 and html.lstrip().startswith("<tr")
    assert 'id="edit-name"' in html and 'for="edit-name"' in html
    assert f'id="edit-bucket-choice-{fotos.id}"' in html
    bad = client.post(
        key_url(account, k, "/edit"),
        data={"csrf_token": csrf_token(), "name": "ci", "scope": "buckets"},
        headers=HTMX,
    )
    assert bad.status_code == 422 and "Choose at least one bucket." in bad.get_data(as_text=True)
    done = client.post(
        key_url(account, k, "/edit"),
        data={"csrf_token": csrf_token(), "name": "ci", "scope": "buckets", "buckets": fotos.id},
        headers=HTMX,
    )
    row = done.get_data(as_text=True)
    assert done.status_code == 200 and "The key ci was saved." in row and "fotos" in row


def test_staff_see_counts_and_the_newest_keys_never_a_secret(client, login, dbs, org, csrf_token):
    account, people = org
    login(people["owner"])
    key_id, secret = secret_of(create(client, csrf_token, account, name="staff-vê").data.decode())
    factories.AccessKeyFactory(account=account, name="parada", status="inactive")
    login(factories.AdminFactory(name="Sofia Staff"))
    html = client.get(f"/admin/accounts/{account.id}").get_data(as_text=True)
    section = html[html.index('id="keys"') :]
    assert key_id in section and "staff-vê" in section
    assert "2 keys in all:" in section and "1 active, 1 inactive, 0 expired, 0 revoked." in section
    assert secret not in html
    # An audit entry of a key leads staff to that section.
    audit = client.get(f"/admin/audit?account={account.id}").get_data(as_text=True)
    assert f"/admin/accounts/{account.id}#keys" in audit
