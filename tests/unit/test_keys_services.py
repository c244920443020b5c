"""Access-key services: creation (ceiling, status, scope, expiry), the secret (sealed,
shown once, its files), state moves, scopes whose buckets are deleted, expiry notices."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from portal import clock
from portal.accounts.services import set_status
from portal.crypto import unseal
from portal.errors import Invalid, NotAllowed, NotFound
from portal.extensions import db
from portal.keys import services
from portal.models import AccessKey, AuditLog, Bucket
from tests import factories
from tests.unit.conftest import ours


def me(org, role="member"):
    return ours(org.people[role])


def stored(key_id):
    db.session.expire_all()
    return db.session.scalar(select(AccessKey).where(AccessKey.key_id == key_id))


# ------------------------------------------------------------------------- create ---
def test_a_new_key_is_active_with_its_secret_sealed(org):
    issued = services.create_key(me(org), org.account.id, "  deploy  ci ")
    key = stored(issued.row.key_id)
    assert key.name == "deploy ci" and key.status == "active"
    assert key.permission == "read-write" and key.scope == "all"
    assert len(issued.secret.secret) >= 40
    assert unseal(key.secret_ciphertext).decode() == issued.secret.secret
    assert issued.secret.secret.encode() not in bytes(key.secret_ciphertext)
    assert key.key_id.startswith("PC") and len(key.key_id) == 20 and key.key_id.isupper()
    assert "<hidden>" in repr(issued.secret) and issued.secret.secret not in repr(issued.secret)
    log = db.session.scalar(select(AuditLog).where(AuditLog.action == "key.created"))
    assert log.target_id == key.key_id and issued.secret.secret not in str(log.details)


@pytest.mark.parametrize("role", ["billing", "viewer"])
def test_billing_and_viewers_cannot_create(org, role):
    with pytest.raises(NotAllowed):
        services.create_key(me(org, role), org.account.id, "x")


def test_another_organization_is_not_found(org):
    stranger = factories.UserFactory()
    with pytest.raises(NotFound):
        services.create_key(ours(stranger), org.account.id, "x")


def test_the_ceiling_counts_active_unexpired_keys_only(org, dbs):
    account = org.account
    account.quota_access_keys = 2
    dbs.commit()
    factories.AccessKeyFactory(account=account, status="inactive")
    factories.AccessKeyFactory(account=account, status="revoked")
    expired = factories.AccessKeyFactory(account=account)
    expired.created_at = datetime.now(UTC) - timedelta(days=9)
    expired.expires_at = datetime.now(UTC) - timedelta(days=1)
    dbs.commit()
    services.create_key(me(org), account.id, "one")
    services.create_key(me(org), account.id, "two")
    with pytest.raises(Invalid, match="reached its limit of 2 active access keys"):
        services.create_key(me(org), account.id, "three")


@pytest.mark.parametrize("status", ["pending", "approved", "suspended"])
def test_only_an_active_organization_creates_keys(org, dbs, status):
    account = org.account
    if status == "suspended":
        set_status(account, "suspended", reason="Fatura")
        dbs.commit()
    else:
        account = factories.AccountFactory(owner=org.people["owner"], status=status)
    with pytest.raises(Invalid):
        services.create_key(me(org, "owner"), account.id, "x")


def test_expiry_is_the_end_of_the_chosen_day_within_1000_days(org):
    today = clock.now().astimezone(UTC).date()
    issued = services.create_key(
        me(org), org.account.id, "x", expires_on=today + timedelta(days=1000)
    )
    key = stored(issued.row.key_id)
    assert key.expires_at == datetime.combine(
        today + timedelta(days=1001), datetime.min.time(), UTC
    )
    for bad in (today, today - timedelta(days=1), today + timedelta(days=1001)):
        with pytest.raises(Invalid) as info:
            services.create_key(me(org), org.account.id, "x", expires_on=bad)
        assert info.value.field == "expires_on"


@pytest.mark.parametrize("name", ["", "   ", "x" * 65, "a\u0000b", "\u200b"])
def test_bad_names_are_refused(org, name):
    with pytest.raises(Invalid) as info:
        services.create_key(me(org), org.account.id, name)
    assert info.value.field == "name"


def test_scope_to_chosen_buckets_of_the_organization_only(org):
    fotos = factories.BucketFactory(account=org.account, name="fotos")
    alheio = factories.BucketFactory(name="alheio")
    issued = services.create_key(
        me(org), org.account.id, "x", scope="buckets", bucket_ids=[str(fotos.id)]
    )
    assert issued.row.buckets == ["fotos"] and issued.row.scope == "buckets"
    for ids in ([], [str(alheio.id)], ["nope"], [str(2**70)]):
        with pytest.raises(Invalid) as info:
            services.create_key(me(org), org.account.id, "y", scope="buckets", bucket_ids=ids)
        assert info.value.field == "buckets"


# ------------------------------------------------------------------- secret files ---
def _aws_cli_csv_import(contents: str) -> list[tuple[str, str, str]]:
    """The rules `aws configure import --csv` applies (awscli's CSVCredentialParser),
    restated: lines split on line breaks; the first is the header, split on commas, each
    name trimmed and lower-cased (older releases do not drop a BOM, so the file has none);
    "User Name", "Access Key ID" and "Secret Access key" must be there; every other line is
    split on commas (no quoting) and each of the three values must be non-empty."""
    assert contents.strip(), "empty CSV"
    lines = contents.splitlines()
    headers = [h.lower().strip() for h in lines[0].split(",")]
    wanted = ["user name", "access key id", "secret access key"]
    for name in wanted:
        assert name in headers, f"header {name!r} not found in {headers!r}"
    index = [headers.index(name) for name in wanted]
    rows = []
    for line in lines[1:]:
        cols = line.split(",")
        values = tuple(cols[i].strip() if i < len(cols) else "" for i in index)
        assert all(values), f"a value is missing in {line!r}"
        rows.append(values)
    return rows


def test_the_csv_is_what_aws_configure_import_accepts(org):
    issued = services.create_key(me(org), org.account.id, "nome, com vírgula")
    text = issued.secret.csv
    assert not text.startswith("\ufeff") and text.isascii()
    assert text.splitlines()[0] == "User Name,Access key ID,Secret access key"
    assert _aws_cli_csv_import(text) == [("primecloud", issued.row.key_id, issued.secret.secret)]


def test_the_profile_and_the_environment_variables(app, org):
    issued = services.create_key(me(org), org.account.id, "x")
    secret = issued.secret
    import configparser

    parser = configparser.ConfigParser()
    parser.read_string(secret.profile)
    section = parser["primecloud"]
    assert section["aws_access_key_id"] == issued.row.key_id
    assert section["aws_secret_access_key"] == secret.secret
    assert section["region"] == app.config["STORAGE_REGIONS"][0][0]
    assert section["endpoint_url"].startswith("http")
    env = dict(line.removeprefix("export ").split("=", 1) for line in secret.env.splitlines())
    assert env["AWS_ACCESS_KEY_ID"] == issued.row.key_id
    assert env["AWS_SECRET_ACCESS_KEY"] == secret.secret
    assert env["AWS_ENDPOINT_URL"] == section["endpoint_url"]


# -------------------------------------------------------------------- state moves ---
def test_moves_and_their_audit_rows(org):
    key_id = services.create_key(me(org), org.account.id, "x").row.key_id
    aid = org.account.id
    assert services.deactivate_key(me(org), aid, key_id).status == "inactive"
    with pytest.raises(Invalid):
        services.deactivate_key(me(org), aid, key_id)
    assert services.reactivate_key(me(org), aid, key_id).status == "active"
    with pytest.raises(Invalid):
        services.reactivate_key(me(org), aid, key_id)
    rotated = services.rotate_key(me(org), aid, key_id)
    assert rotated.row.key_id == key_id and rotated.row.rotated_at is not None
    assert unseal(stored(key_id).secret_ciphertext).decode() == rotated.secret.secret
    row = services.revoke_key(me(org), aid, key_id)
    assert row.status == "revoked" and row.revoked_at is not None
    for move in (
        services.deactivate_key,
        services.reactivate_key,
        services.rotate_key,
        services.revoke_key,
    ):
        with pytest.raises(Invalid, match="revoked"):
            move(me(org), aid, key_id)
    actions = db.session.scalars(
        select(AuditLog.action).where(AuditLog.target_id == key_id).order_by(AuditLog.id)
    ).all()
    assert actions == [
        "key.created",
        "key.deactivated",
        "key.reactivated",
        "key.rotated",
        "key.revoked",
    ]


def test_an_expired_key_is_shown_expired_and_cannot_come_back(org, dbs):
    key = factories.AccessKeyFactory(account=org.account, status="inactive")
    key.created_at = datetime.now(UTC) - timedelta(days=9)
    key.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    dbs.commit()
    row = services.key_row(me(org), org.account.id, key.key_id)
    assert row.shown_status == "expired" and row.expiry_tone == "expired"
    assert not row.may_reactivate and not row.may_rotate and row.may_revoke
    with pytest.raises(Invalid, match="expired"):
        services.reactivate_key(me(org), org.account.id, key.key_id)
    with pytest.raises(Invalid, match="expired"):
        services.rotate_key(me(org), org.account.id, key.key_id)
    assert services.revoke_key(me(org), org.account.id, key.key_id).status == "revoked"


def test_reactivation_respects_the_ceiling(org, dbs):
    org.account.quota_access_keys = 1
    dbs.commit()
    off = factories.AccessKeyFactory(account=org.account, status="inactive")
    services.create_key(me(org), org.account.id, "on")
    with pytest.raises(Invalid, match="limit"):
        services.reactivate_key(me(org), org.account.id, off.key_id)


def test_a_suspended_organization_switches_keys_off_only(org, dbs):
    key = factories.AccessKeyFactory(account=org.account)
    other = factories.AccessKeyFactory(account=org.account)
    set_status(org.account, "suspended", reason="Fatura")
    dbs.commit()
    aid = org.account.id
    with pytest.raises(Invalid, match="suspended"):
        services.rotate_key(me(org), aid, key.key_id)
    with pytest.raises(Invalid, match="suspended"):
        services.update_key(me(org), aid, key.key_id, name="y", scope="all")
    assert services.deactivate_key(me(org), aid, key.key_id).status == "inactive"
    with pytest.raises(Invalid, match="suspended"):
        services.reactivate_key(me(org), aid, key.key_id)
    assert services.revoke_key(me(org), aid, other.key_id).status == "revoked"


def test_expiry_tone_is_amber_under_7_days(org, dbs):
    soon = factories.AccessKeyFactory(
        account=org.account, expires_at=datetime.now(UTC) + timedelta(days=6, hours=1)
    )
    far = factories.AccessKeyFactory(
        account=org.account, expires_at=datetime.now(UTC) + timedelta(days=8)
    )
    assert services.key_row(me(org), org.account.id, soon.key_id).expiry_tone == "soon"
    assert services.key_row(me(org), org.account.id, soon.key_id).days_left == 6
    assert services.key_row(me(org), org.account.id, far.key_id).expiry_tone is None


# ------------------------------------------------------------------------- scopes ---
def test_a_key_whose_last_bucket_is_deleted_reaches_no_bucket(org, dbs):
    fotos = factories.BucketFactory(account=org.account, name="fotos")
    issued = services.create_key(
        me(org), org.account.id, "x", scope="buckets", bucket_ids=[fotos.id]
    )
    db.session.delete(db.session.get(Bucket, fotos.id))
    db.session.flush()
    row = services.key_row(me(org), org.account.id, issued.row.key_id)
    assert row.scope == "buckets" and row.buckets == [] and not row.all_buckets


def test_edit_renames_and_rescopes_with_their_audit_rows(org):
    fotos = factories.BucketFactory(account=org.account, name="fotos")
    key_id = services.create_key(me(org), org.account.id, "x").row.key_id
    row = services.update_key(
        me(org), org.account.id, key_id, name="y", scope="buckets", bucket_ids=[fotos.id]
    )
    assert row.name == "y" and row.buckets == ["fotos"]
    # Nothing changed: nothing recorded.
    services.update_key(
        me(org), org.account.id, key_id, name="y", scope="buckets", bucket_ids=[fotos.id]
    )
    row = services.update_key(me(org), org.account.id, key_id, name="y", scope="all")
    assert row.all_buckets and row.buckets == []
    actions = db.session.scalars(
        select(AuditLog.action).where(AuditLog.target_id == key_id).order_by(AuditLog.id)
    ).all()
    assert actions == ["key.created", "key.renamed", "key.scope_changed", "key.scope_changed"]


# ----------------------------------------------------------------- expiry notices ---
def test_expiry_notices_once_each(org, dbs):
    soon = factories.AccessKeyFactory(
        account=org.account, expires_at=datetime.now(UTC) + timedelta(days=2)
    )
    assert services.send_expiry_notices() == (1, 0)
    assert services.send_expiry_notices() == (0, 0)
    later = clock.now() + timedelta(days=3)
    assert services.send_expiry_notices(later) == (0, 1)
    assert services.send_expiry_notices(later) == (0, 0)
    services.revoke_key(me(org), org.account.id, soon.key_id)
    assert services.send_expiry_notices(later + timedelta(days=1)) == (0, 0)


def test_a_suspended_organizations_owners_are_told_too(org, dbs):
    factories.AccessKeyFactory(
        account=org.account, expires_at=datetime.now(UTC) + timedelta(days=2)
    )
    set_status(org.account, "suspended", reason="Fatura")
    dbs.commit()
    assert services.send_expiry_notices() == (1, 0)


def test_clean_expiry_accepts_none():
    assert services.clean_expiry(None, date(2026, 1, 1)) is None


def test_no_code_path_reads_a_secret_back():
    """The secret exists in clear only in the create and rotate responses: nothing in the
    portal unseals a stored secret (so no later page, email or log line can hold one)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "portal"
    readers = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name != "crypto.py" and "unseal" in path.read_text()
    ]
    assert readers == []
