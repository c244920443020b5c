"""Buckets services: S3 names, creation (status, quota, duplicates), versioning moves,
deletion, and lifecycle rules (add, edit, enable/disable, delete, import, flags)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from portal import lifecycle, states
from portal.accounts.services import set_status
from portal.buckets import rules, services
from portal.errors import Invalid, NotAllowed, NotFound
from portal.extensions import db
from portal.models import AuditLog, Bucket, Notification, User
from tests import factories

ROLES = ["owner", "admin", "member", "billing", "viewer"]
WRITERS = {"owner", "admin", "member"}


def ours(obj):
    return db.session.get(type(obj), obj.id)


@pytest.fixture
def org(app_ctx, dbs):
    """An active account with one person of each role: (account, {role: user})."""
    account = factories.AccountFactory(name="Acme Ltda")
    people = {}
    for role in ROLES:
        people[role] = factories.UserFactory(name=f"{role.title()} Person")
        factories.MemberFactory(account=account, user=people[role], role=role)
    return account, people


def me(people, role="member") -> User:
    return ours(people[role])


def bucket_row(account_id, name):
    db.session.expire_all()
    return db.session.scalar(
        select(Bucket).where(Bucket.account_id == account_id, Bucket.name == name)
    )


def audit(account_id, action):
    return db.session.scalars(
        select(AuditLog)
        .where(AuditLog.account_id == account_id, AuditLog.action == action)
        .order_by(AuditLog.id)
    ).all()


def rule(rule_id="logs", prefix="logs/", **actions):
    value = {"id": rule_id, "status": "Enabled", "filter": {"prefix": prefix}}
    value.update(actions or {"expiration": {"days": 30}})
    return value


# ---------------------------------------------------------------------------- names ---
@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("", ["Enter a name"]),
        ("ab", ["3 to 63", "has 2"]),
        ("a" * 64, ["3 to 63", "has 64"]),
        ("Fotos", ["lower-case"]),
        ("fotos_2026", ["“_”"]),
        ("my bucket", ["space"]),
        ("-fotos", ["Start with"]),
        ("fotos-", ["End with"]),
        (".fotos.", ["Start with", "End with"]),
        ("fotos..raw", ["Two dots"]),
        ("192.168.5.4", ["IP address"]),
        ("xn--fotos", ["xn--"]),
        ("fotos-s3alias", ["-s3alias"]),
        ("fotos--ol-s3", ["--ol-s3"]),
        ("sthree-fotos", ["sthree-"]),
        ("fotos.mrap", [".mrap"]),
    ],
)
def test_each_broken_s3_rule_has_its_reason(app_ctx, name, words):
    problems = services.name_problems(name)
    assert problems
    text = " ".join(problems)
    for word in words:
        assert word in text


def test_every_broken_rule_is_listed_not_just_the_first(app_ctx):
    problems = services.name_problems("-Fotos_..")
    assert len(problems) >= 4  # upper case, "_", start, end, ".."


@pytest.mark.parametrize("name", ["abc", "fotos-2026", "my.bucket.name", "a" * 63, "1.2.3", "0-0"])
def test_valid_names(app_ctx, name):
    assert services.name_problems(name) == []


def test_check_name_says_when_the_name_is_taken(org):
    account, people = org
    factories.BucketFactory(account=account, name="fotos")
    check = services.check_name(me(people), account.id, "fotos")
    assert check.problems == ["This name is already used by a bucket of this organization."]
    assert services.check_name(me(people), account.id, "fotos-2").ok
    other = factories.AccountFactory()
    factories.BucketFactory(account=other, name="videos")
    assert services.check_name(me(people), account.id, "videos").ok  # per organization


def test_check_name_needs_the_write_permission(org):
    account, people = org
    with pytest.raises(NotAllowed):
        services.check_name(me(people, "viewer"), account.id, "fotos")
    with pytest.raises(NotFound):
        services.check_name(ours(factories.UserFactory()), account.id, "fotos")


# --------------------------------------------------------------------------- create ---
@pytest.mark.parametrize("role", ROLES)
def test_create_by_role(org, role):
    account, people = org
    if role not in WRITERS:
        with pytest.raises(NotAllowed):
            services.create_bucket(me(people, role), account.id, "fotos")
        assert bucket_row(account.id, "fotos") is None
        return
    bucket = services.create_bucket(
        me(people, role),
        account.id,
        " fotos ",
        versioning="enabled",
        abort_uploads=True,
        ip="203.0.113.9",
    )
    assert (bucket.name, bucket.region, bucket.versioning) == ("fotos", "sa-east-sp1", "enabled")
    assert bucket.created_by_id == people[role].id
    assert bucket.lifecycle_rules == [services.ABORT_UPLOADS_RULE]
    (log,) = audit(account.id, "bucket.created")
    assert (log.actor_id, log.target_type, log.target_id, log.target_label) == (
        people[role].id,
        "bucket",
        str(bucket.id),
        "fotos",
    )
    assert log.details == {
        "name": "fotos",
        "region": "sa-east-sp1",
        "versioning": "enabled",
        "lifecycle_rules": 1,
    }
    assert str(log.ip) == "203.0.113.9"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "Fotos"}, "name"),
        ({"name": ""}, "name"),
        ({"name": "fotos", "region": "mars-1"}, "region"),
        ({"name": "fotos", "versioning": "suspended"}, "versioning"),
        ({"name": "fotos", "versioning": "on"}, "versioning"),
    ],
)
def test_create_refuses_bad_input_and_writes_nothing(org, kwargs, field):
    account, people = org
    name = kwargs.pop("name")
    with pytest.raises(Invalid) as info:
        services.create_bucket(me(people), account.id, name, **kwargs)
    assert info.value.field == field
    assert db.session.scalar(select(func.count()).select_from(Bucket)) == 0


def test_a_name_already_used_in_the_organization(org):
    account, people = org
    factories.BucketFactory(account=account, name="fotos")
    with pytest.raises(Invalid) as info:
        services.create_bucket(me(people), account.id, "fotos")
    assert info.value.field == "name" and "already used" in info.value.message


@pytest.mark.parametrize("status", ["pending", "approved", "suspended"])
def test_create_only_while_active(app_ctx, dbs, status):
    owner = factories.UserFactory()
    account = factories.AccountFactory(owner=owner, status=status)
    with pytest.raises(Invalid) as info:
        services.create_bucket(ours(owner), account.id, "fotos")
    assert info.value.field is None
    expected = "suspended" if status == "suspended" else "once the organization is active"
    assert expected in info.value.message
    assert db.session.scalar(select(func.count()).select_from(Bucket)) == 0


def test_create_at_the_quota_is_refused(org, dbs):
    account, people = org
    account.quota_buckets = 2
    dbs.commit()
    services.create_bucket(me(people), account.id, "one")
    services.create_bucket(me(people), account.id, "two")
    with pytest.raises(Invalid) as info:
        services.create_bucket(me(people), account.id, "three")
    assert "quota of 2 buckets" in info.value.message
    listing = services.list_buckets(me(people), account.id)
    assert listing.at_quota and not listing.may_create


# ----------------------------------------------------------------------------- list ---
def test_list_by_name_in_byte_order_with_keyset_pages_and_prefix_search(org):
    account, people = org
    names = ["b-1", "a.b", "a-b", "abc", "a00", "zzz", "foto-1", "foto-2", "fotos"]
    for name in names:
        factories.BucketFactory(account=account, name=name)
    factories.BucketFactory(name="aaa")  # another organization's
    seen, cursor = [], None
    while True:
        listing = services.list_buckets(me(people, "viewer"), account.id, before=cursor, limit=4)
        seen += [r.name for r in listing.rows]
        cursor = listing.page.next_cursor
        if cursor is None:
            break
    assert seen == sorted(names, key=lambda n: n.encode())
    found = services.list_buckets(me(people), account.id, q="FOTO").rows
    assert [r.name for r in found] == ["foto-1", "foto-2", "fotos"]
    assert services.list_buckets(me(people), account.id, q="foto-").rows[0].name == "foto-1"
    with pytest.raises(Invalid) as info:
        services.list_buckets(me(people), account.id, q="fo_to")
    assert info.value.field == "q"


def test_list_rows_carry_rule_counts_and_usage(org, dbs):
    account, people = org
    factories.BucketFactory(
        account=account,
        name="fotos",
        lifecycle_rules=[rule("a"), rule("b", "b/")],
        object_count=12,
        size_bytes=3 * 1024**3,
    )
    listing = services.list_buckets(me(people, "billing"), account.id)
    (row,) = listing.rows
    assert (row.rule_count, row.object_count, row.size_bytes) == (2, 12, 3 * 1024**3)
    assert listing.usage.buckets.used == 1 and listing.usage.storage_gb.used == 3
    assert not listing.may_write


# ----------------------------------------------------------------------- versioning ---
def test_versioning_moves_and_notifications(org):
    account, people = org
    factories.BucketFactory(account=account, name="fotos")
    actor = me(people, "member")
    for action, state in [("enable", "enabled"), ("suspend", "suspended"), ("enable", "enabled")]:
        view = services.change_versioning(actor, account.id, "fotos", action, ip="198.51.100.1")
        assert view.bucket.versioning == state
    logs = audit(account.id, "bucket.versioning_changed")
    assert [(log.details["from"], log.details["to"]) for log in logs] == [
        ("unversioned", "enabled"),
        ("enabled", "suspended"),
        ("suspended", "enabled"),
    ]
    notes = db.session.scalars(select(Notification).order_by(Notification.id)).all()
    assert {n.user_id for n in notes} == {people["owner"].id, people["admin"].id}
    assert [n.kind for n in notes if n.user_id == people["owner"].id] == [
        "bucket.versioning_enabled",
        "bucket.versioning_suspended",
        "bucket.versioning_enabled",
    ]
    assert notes[0].params["bucket"] == "fotos" and notes[0].link.endswith("/buckets/fotos")


@pytest.mark.parametrize(
    ("state", "action", "words"),
    [
        ("unversioned", "suspend", "only once it has been enabled"),
        ("enabled", "enable", "already enabled"),
        ("suspended", "suspend", "already suspended"),
        ("enabled", "unversion", "enable or to suspend"),
    ],
)
def test_versioning_refuses_moves_the_machine_does_not_allow(org, state, action, words):
    account, people = org
    factories.BucketFactory(account=account, name="fotos", versioning=state)
    with pytest.raises(Invalid) as info:
        services.change_versioning(me(people), account.id, "fotos", action)
    assert words in info.value.message
    assert bucket_row(account.id, "fotos").versioning == state
    assert audit(account.id, "bucket.versioning_changed") == []


def test_never_back_to_unversioned(app_ctx):
    assert "unversioned" not in {m.target for m in states.VERSIONING.moves.values()}


# --------------------------------------------------------------------------- delete ---
def test_delete_an_empty_bucket_with_its_name_typed(org):
    account, people = org
    bucket = factories.BucketFactory(account=account, name="fotos")
    with pytest.raises(Invalid) as info:
        services.delete_bucket(me(people), account.id, "fotos", "foto")
    assert info.value.field == "confirm_name" and "Type the bucket's name" in info.value.message
    services.delete_bucket(me(people, "admin"), account.id, "fotos", " fotos ")
    assert bucket_row(account.id, "fotos") is None
    (log,) = audit(account.id, "bucket.deleted")
    assert (log.target_id, log.target_label) == (str(bucket.id), "fotos")
    notes = db.session.scalars(select(Notification)).all()
    assert {n.user_id for n in notes} == {people["owner"].id}  # the admin acted
    assert notes[0].kind == "bucket.deleted"


def test_a_bucket_that_holds_objects_is_never_deleted(org):
    account, people = org
    factories.BucketFactory(account=account, name="fotos", object_count=3)
    with pytest.raises(Invalid) as info:
        services.delete_bucket(me(people), account.id, "fotos", "fotos")
    assert "3 objects" in info.value.message and "Empty it first" in info.value.message
    assert bucket_row(account.id, "fotos") is not None
    assert audit(account.id, "bucket.deleted") == []


def test_a_suspended_account_is_read_only(org, dbs):
    account, people = org
    factories.BucketFactory(account=account, name="fotos", lifecycle_rules=[rule()])
    set_status(account, "suspended", reason="Fatura em atraso")
    dbs.commit()
    calls = [
        lambda u: services.change_versioning(u, account.id, "fotos", "enable"),
        lambda u: services.delete_bucket(u, account.id, "fotos", "fotos"),
        lambda u: rules.add_rule(u, account.id, "fotos", rule_id="x", expiration_days=3),
        lambda u: rules.set_rule_status(u, account.id, "fotos", "logs", "Disabled"),
        lambda u: rules.delete_rule(u, account.id, "fotos", "logs"),
        lambda u: rules.import_rules(u, account.id, "fotos", pasted='{"Rules": []}'),
        lambda u: services.create_bucket(u, account.id, "other"),
    ]
    for call in calls:
        with pytest.raises(Invalid) as info:
            call(me(people, "owner"))
        assert "Fatura em atraso" in info.value.message
        db.session.rollback()
    view = services.open_bucket(me(people), account.id, "fotos")
    assert not view.may_write and view.versioning_actions == []
    assert all(not r.may_write for r in rules.views(view))


def test_another_organizations_bucket_is_not_found(org):
    account, people = org
    factories.BucketFactory(name="fotos")  # elsewhere
    with pytest.raises(NotFound):
        services.open_bucket(me(people), account.id, "fotos")
    with pytest.raises(NotFound):
        services.change_versioning(me(people), account.id, "fotos", "enable")


# -------------------------------------------------------------------------- rules ---
@pytest.fixture
def bucket(org):
    account, people = org
    factories.BucketFactory(account=account, name="fotos")
    return account, people


def stored(account_id):
    return bucket_row(account_id, "fotos").lifecycle_rules


def test_add_edit_toggle_delete_a_rule(bucket):
    account, people = bucket
    u = me(people)
    row = rules.add_rule(
        u, account.id, "fotos", rule_id="logs", prefix="logs/", expiration_days="30"
    )
    assert row.actions == ["Delete current objects 30 days after they are created"]
    row = rules.update_rule(
        u,
        account.id,
        "fotos",
        "logs",
        rule_id="logs-90",
        prefix="logs/",
        expiration_days="90",
        abort_days=7,
    )
    assert row.id == "logs-90"
    assert stored(account.id) == [
        {
            "id": "logs-90",
            "status": "Enabled",
            "filter": {"prefix": "logs/"},
            "expiration": {"days": 90},
            "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
        }
    ]
    row = rules.set_rule_status(u, account.id, "fotos", "logs-90", "Disabled")
    assert not row.enabled and stored(account.id)[0]["expiration"] == {"days": 90}  # kept
    gone = rules.delete_rule(u, account.id, "fotos", "logs-90")
    assert gone.gone and stored(account.id) == []
    changes = [log.details for log in audit(account.id, "bucket.lifecycle_changed")]
    assert [(c["change"], c.get("rule")) for c in changes] == [
        ("added", "logs"),
        ("updated", "logs-90"),
        ("disabled", "logs-90"),
        ("deleted", "logs-90"),
    ]
    assert changes[1]["renamed_from"] == "logs"


def test_noncurrent_only_rules_are_first_class(bucket):
    account, people = bucket
    rules.add_rule(me(people), account.id, "fotos", rule_id="old", noncurrent_days=1)
    assert stored(account.id)[0]["noncurrent_version_expiration"] == {"noncurrent_days": 1}


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"rule_id": ""}, "rule_id", "Enter an ID"),
        ({"rule_id": "x" * 256}, "rule_id", "255"),
        ({"rule_id": "a\x07b"}, "rule_id", "cannot be stored"),
        ({"prefix": "p" * 1025}, "prefix", "1024"),
        ({"expiration_days": None}, "expiration_days", "at least one action"),
        ({"expiration_days": "0"}, "expiration_days", "whole number"),
        ({"expiration_days": "-3"}, "expiration_days", "whole number"),
        ({"expiration_days": "2.5"}, "expiration_days", "whole number"),
        ({"expiration_days": "9" * 40}, "expiration_days", "whole number"),
        ({"noncurrent_days": "abc"}, "noncurrent_days", "whole number"),
        ({"abort_days": "٣"}, "abort_days", "whole number"),
        ({"rule_id": "taken"}, "rule_id", "already used"),
    ],
)
def test_bad_rules_name_the_field_and_write_nothing(bucket, fields, field, words):
    account, people = bucket
    rules.add_rule(me(people), account.id, "fotos", rule_id="taken", expiration_days=1, prefix="t/")
    db.session.commit()
    before = stored(account.id)
    values = {"rule_id": "new", "prefix": "n/", "expiration_days": "5", **fields}
    with pytest.raises(Invalid) as info:
        rules.add_rule(me(people), account.id, "fotos", **values)
    assert info.value.field == field and words in info.value.message
    db.session.rollback()
    assert stored(account.id) == before


def test_an_empty_prefix_expiration_needs_the_acknowledgement(bucket):
    account, people = bucket
    with pytest.raises(Invalid) as info:
        rules.add_rule(me(people), account.id, "fotos", rule_id="all", expiration_days=30)
    assert info.value.field == "acknowledge"
    row = rules.add_rule(
        me(people), account.id, "fotos", rule_id="all", expiration_days=30, acknowledge=True
    )
    assert row.deletes_everything
    # An empty prefix without an expiration of current objects deletes nothing current.
    row = rules.add_rule(me(people), account.id, "fotos", rule_id="abort", abort_days=7)
    assert not row.deletes_everything


def test_overlapping_prefixes_are_flagged_and_the_other_row_reported(bucket):
    account, people = bucket
    u = me(people)
    rules.add_rule(u, account.id, "fotos", rule_id="logs", prefix="logs/", expiration_days=30)
    rules.add_rule(u, account.id, "fotos", rule_id="img", prefix="img/", expiration_days=30)
    row = rules.add_rule(
        u, account.id, "fotos", rule_id="old-logs", prefix="logs/2020/", expiration_days=1
    )
    assert row.overlaps_with == ["logs"]
    assert [o.id for o in row.changed_others] == ["logs"]  # its flag changed too
    assert row.changed_others[0].overlaps_with == ["old-logs"]
    gone = rules.delete_rule(u, account.id, "fotos", "old-logs")
    assert [(o.id, o.overlaps_with) for o in gone.changed_others] == [("logs", [])]


def test_noncurrent_actions_on_an_unversioned_bucket_are_flagged(bucket):
    account, people = bucket
    row = rules.add_rule(me(people), account.id, "fotos", rule_id="nc", noncurrent_days=3)
    assert row.noncurrent_without_versioning
    services.change_versioning(me(people), account.id, "fotos", "enable")
    view = services.open_bucket(me(people), account.id, "fotos")
    assert not rules.views(view)[0].noncurrent_without_versioning


def test_edits_of_a_rule_deleted_meanwhile_are_refused(bucket):
    account, people = bucket
    with pytest.raises(Invalid) as info:
        rules.update_rule(me(people), account.id, "fotos", "ghost", rule_id="x", expiration_days=1)
    assert "no longer exists" in info.value.message
    with pytest.raises(Invalid):
        rules.set_rule_status(me(people), account.id, "fotos", "ghost", "Enabled")


def test_rule_status_must_be_enabled_or_disabled(bucket):
    account, people = bucket
    rules.add_rule(me(people), account.id, "fotos", rule_id="a", prefix="a/", expiration_days=1)
    with pytest.raises(Invalid):
        rules.set_rule_status(me(people), account.id, "fotos", "a", "enabled")


@pytest.mark.parametrize("role", ["billing", "viewer"])
def test_readers_cannot_change_rules(bucket, role):
    account, people = bucket
    with pytest.raises(NotAllowed):
        rules.add_rule(me(people, role), account.id, "fotos", rule_id="a", expiration_days=1)
    with pytest.raises(NotAllowed):
        rules.import_rules(me(people, role), account.id, "fotos", pasted='{"Rules": []}')
    view, text = rules.export(me(people, role), account.id, "fotos")  # reading is fine
    assert json.loads(text) == {"Rules": []}


def test_the_1000th_rule_is_the_last(bucket, dbs):
    account, people = bucket
    row = bucket_row(account.id, "fotos")
    row.lifecycle_rules = [rule(f"r{i}", f"p{i}/") for i in range(lifecycle.MAX_RULES)]
    db.session.commit()
    with pytest.raises(Invalid) as info:
        rules.add_rule(me(people), account.id, "fotos", rule_id="one-more", expiration_days=1)
    assert "at most 1000" in info.value.message


# ------------------------------------------------------------------ import / export ---
def test_export_then_import_gives_the_same_rules(bucket):
    account, people = bucket
    u = me(people)
    rules.add_rule(u, account.id, "fotos", rule_id="logs", prefix="logs/", expiration_days=30)
    rules.add_rule(u, account.id, "fotos", rule_id="nc", prefix="", noncurrent_days=7)
    rules.add_rule(
        u,
        account.id,
        "fotos",
        rule_id="ção ✓",
        prefix="dados/ç/",
        enabled=False,
        abort_days=2,
        expiration_days=365,
        noncurrent_days=1,
    )
    before = stored(account.id)
    _view, text = rules.export(u, account.id, "fotos")
    rules.delete_rule(u, account.id, "fotos", "logs")
    result = rules.import_rules(u, account.id, "fotos", uploaded=text.encode())
    assert (result.count, result.before) == (3, 2)
    assert stored(account.id) == before
    (log,) = [
        d.details
        for d in audit(account.id, "bucket.lifecycle_changed")
        if d.details["change"] == "imported"
    ]
    assert log == {"change": "imported", "rules": 3, "before": 2}


def test_import_reports_every_problem_and_changes_nothing(bucket):
    account, people = bucket
    rules.add_rule(me(people), account.id, "fotos", rule_id="keep", prefix="k/", abort_days=1)
    db.session.commit()
    document = {
        "Rules": [
            {
                "ID": "ok",
                "Status": "Enabled",
                "Filter": {"Prefix": "a/"},
                "Expiration": {"Days": 3},
            },
            {"ID": "bad-days", "Status": "Enabled", "Expiration": {"Days": 0}},
            {"ID": "bad-status", "Status": "On", "Expiration": {"Days": 3}},
            {"ID": "tiers", "Status": "Enabled", "Transitions": [{"Days": 30}]},
            {"ID": "ok", "Status": "Enabled", "Expiration": {"Days": 3}},
        ]
    }
    with pytest.raises(rules.ImportRefused) as info:
        rules.import_rules(me(people), account.id, "fotos", pasted=json.dumps(document))
    problems = info.value.problems
    assert len(problems) == 4
    assert problems[0].startswith('Rule #2 "bad-days": Expiration.Days')
    assert problems[1].startswith('Rule #3 "bad-status": Status')
    assert problems[2].startswith('Rule #4 "tiers": Transitions is not supported')
    assert problems[3].startswith('Rule #5 "ok": the ID "ok" is already used by rule #1')
    assert info.value.message == "Nothing was imported: 4 problems were found."
    db.session.rollback()
    assert [r["id"] for r in stored(account.id)] == ["keep"]


def test_import_of_a_rule_that_deletes_everything_needs_the_acknowledgement(bucket):
    account, people = bucket
    document = (
        '{"Rules": [{"ID": "all", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 9}}]}'
    )
    with pytest.raises(rules.ImportRefused) as info:
        rules.import_rules(me(people), account.id, "fotos", pasted=document)
    assert info.value.field == "acknowledge" and "“all”" in info.value.message
    rules.import_rules(me(people), account.id, "fotos", pasted=document, acknowledge=True)
    assert stored(account.id)[0]["filter"] == {"prefix": ""}


def test_import_needs_one_source(bucket):
    account, people = bucket
    with pytest.raises(Invalid) as info:
        rules.import_rules(
            me(people), account.id, "fotos", pasted='{"Rules": []}', uploaded=b'{"Rules": []}'
        )
    assert "not both" in info.value.message
    with pytest.raises(Invalid) as info:
        rules.import_rules(me(people), account.id, "fotos", pasted="  ")
    assert "Paste a lifecycle configuration" in info.value.message


def test_a_duplicate_that_slips_past_the_check_is_still_a_clear_message(org, monkeypatch):
    """The unique constraint is the guarantee: its violation reads as the same message, and
    the caller's transaction stays usable (a savepoint)."""
    account, people = org
    factories.BucketFactory(account=account, name="fotos")
    monkeypatch.setattr(services, "_taken", lambda *args: False)
    with pytest.raises(Invalid) as info:
        services.create_bucket(me(people), account.id, "fotos")
    assert info.value.field == "name" and "already used" in info.value.message
    assert [r.name for r in services.list_buckets(me(people), account.id).rows] == ["fotos"]
