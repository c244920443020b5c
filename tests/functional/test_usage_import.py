"""``flask usage import``: files in, counts and exit codes out, idempotent, every refused
line named by number and reason, bucket snapshots applied only when newer, quota notices
once per threshold per month."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.models import (
    AccessKey,
    AuditLog,
    Bucket,
    Notification,
    UsageRecord,
    UsageThresholdNotice,
)
from tests import factories

GB = 1024**3


def event(n: int, org, **extra) -> dict:
    line = {
        "event_id": f"evt-{n}",
        "organization": org,
        "metric": "egress_gb",
        "quantity": "1.5",
        "period_start": "2026-11-01T00:00:00-03:00",
        "period_end": "2026-11-01T01:00:00-03:00",
    }
    line.update(extra)
    return line


def jsonl(path, lines) -> str:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    return str(path)


@pytest.fixture
def acme(dbs):
    account = factories.AccountFactory(name="Acme Ltda", cnpj="12ABC34501DE35")
    bucket = factories.BucketFactory(account=account, name="fotos")
    dbs.flush()
    return account, bucket


def records(dbs) -> int:
    dbs.expire_all()
    return dbs.scalar(select(func.count()).select_from(UsageRecord))


def test_imports_events_by_id_and_by_cnpj_in_any_form(runner, dbs, acme, tmp_path):
    account, bucket = acme
    path = jsonl(
        tmp_path / "usage.jsonl",
        [
            event(1, account.id, bucket="fotos"),
            event(2, str(account.id)),
            event(3, "12.ABC.345/01DE-35", metric="requests_get", quantity=1000),
            event(4, "12abc34501de35", metric="storage_gb_hours", quantity="24.000001"),
        ],
    )
    result = runner.invoke(args=["usage", "import", path])
    assert result.exit_code == 0, result.output
    assert "inserted 4, duplicate 0, rejected 0" in result.output
    rows = dbs.execute(
        select(UsageRecord.source_event_id, UsageRecord.bucket_id, UsageRecord.quantity)
        .where(UsageRecord.account_id == account.id)
        .order_by(UsageRecord.source_event_id)
    ).all()
    assert rows == [
        ("evt-1", bucket.id, Decimal("1.500000")),
        ("evt-2", None, Decimal("1.500000")),
        ("evt-3", None, Decimal("1000.000000")),
        ("evt-4", None, Decimal("24.000001")),
    ]


def test_importing_twice_adds_nothing(runner, dbs, acme, tmp_path):
    account, _ = acme
    path = jsonl(tmp_path / "u.jsonl", [event(1, account.id), event(2, account.id)])
    assert runner.invoke(args=["usage", "import", path]).exit_code == 0
    again = runner.invoke(args=["usage", "import", path])
    assert again.exit_code == 0
    assert "inserted 0, duplicate 2, rejected 0" in again.output
    assert records(dbs) == 2


def test_a_repeated_id_inside_the_file_is_a_duplicate(runner, dbs, acme, tmp_path):
    account, _ = acme
    path = jsonl(tmp_path / "u.jsonl", [event(1, account.id), event(1, account.id)])
    result = runner.invoke(args=["usage", "import", path])
    assert "inserted 1, duplicate 1, rejected 0" in result.output
    assert records(dbs) == 1


def test_refused_lines_are_named_and_the_rest_imported(runner, dbs, acme, tmp_path):
    account, _ = acme
    path = jsonl(
        tmp_path / "u.jsonl",
        [
            event(1, account.id),
            "{not json",
            event(3, account.id, metric="cpu_hours"),
            event(4, "11.222.333/0001-00"),
            event(5, 999999999),
            event(6, account.id, bucket="nao-existe"),
            event(7, account.id, quantity="-1"),
            event(8, account.id, period_end="2026-11-01T00:00:00-03:00"),
            event(9, account.id, period_start="2026-11-01T00:00:00"),
            "",
            event(11, account.id),
        ],
    )
    result = runner.invoke(args=["usage", "import", path])
    assert result.exit_code == 1
    assert "inserted 2, duplicate 0, rejected 8" in result.output
    err = result.stderr
    assert "line 2: not valid JSON" in err
    assert "line 3: metric: 'cpu_hours' is not one of" in err
    assert "line 4: organization: neither an id nor a valid CNPJ" in err
    assert "line 5: unknown organization 999999999" in err
    assert f"line 6: unknown bucket 'nao-existe' in organization {account.id}" in err
    assert "line 7: quantity: must not be negative" in err
    assert "line 8: period_end must be after period_start" in err
    assert "line 9: period_start: needs a UTC offset" in err
    assert records(dbs) == 2


def test_unknown_cnpj_is_an_unknown_organization(runner, dbs, acme, tmp_path):
    path = jsonl(tmp_path / "u.jsonl", [event(1, factories.make_cnpj(7, alphanumeric=True))])
    result = runner.invoke(args=["usage", "import", path])
    assert result.exit_code == 1
    assert "line 1: unknown organization" in result.stderr


def test_csv_with_a_header_and_standard_input(runner, dbs, acme):
    account, _ = acme
    text = (
        "event_id,organization,bucket,metric,quantity,period_start,period_end\n"
        f"c-1,{account.cnpj},fotos,requests_put,12,2026-11-01T00:00:00Z,2026-11-01T01:00:00Z\n"
        f"c-2,{account.id},,egress_gb,x,2026-11-01T00:00:00Z,2026-11-01T01:00:00Z\n"
        "c-3,1,2\n"
    )
    result = runner.invoke(args=["usage", "import", "-"], input=text)
    assert result.exit_code == 1
    assert "inserted 1, duplicate 0, rejected 2" in result.output
    assert "line 3: quantity: not a number" in result.stderr
    assert "line 4: 3 columns, the header has 7" in result.stderr


def test_a_missing_file_is_an_error(runner, tmp_path):
    result = runner.invoke(args=["usage", "import", str(tmp_path / "nope.jsonl")])
    assert result.exit_code != 0
    assert "No such file" in result.output


def snapshot_line(org, bucket, objects, size, when) -> dict:
    return {
        "organization": org,
        "bucket": bucket,
        "objects": objects,
        "bytes": size,
        "measured_at": when,
    }


def test_snapshots_update_a_bucket_only_when_newer(runner, dbs, acme, tmp_path):
    account, bucket = acme
    path = jsonl(
        tmp_path / "s.jsonl",
        [
            snapshot_line(account.id, "fotos", 10, 1000, "2026-11-02T00:00:00+00:00"),
            snapshot_line(account.id, "fotos", 20, 2000, "2026-11-03T00:00:00+00:00"),
            snapshot_line(account.id, "fotos", 5, 500, "2026-11-01T00:00:00+00:00"),
        ],
    )
    result = runner.invoke(args=["usage", "import", path])
    assert result.exit_code == 0, result.output
    assert "applied 1, not applied (not newer) 2" in result.output
    dbs.expire_all()
    row = dbs.get(Bucket, bucket.id)
    assert (row.object_count, row.size_bytes) == (20, 2000)
    assert row.usage_measured_at == datetime(2026, 11, 3, tzinfo=UTC)

    older = jsonl(
        tmp_path / "old.jsonl",
        [snapshot_line(account.cnpj, "fotos", 1, 1, "2026-11-02T12:00:00+00:00")],
    )
    result = runner.invoke(args=["usage", "import", older])
    assert "applied 0, not applied (not newer) 1" in result.output
    dbs.expire_all()
    assert dbs.get(Bucket, bucket.id).size_bytes == 2000


def test_a_suspended_organization_still_gets_its_sizes(runner, dbs, tmp_path):
    account = factories.AccountFactory(status="active")
    bucket = factories.BucketFactory(account=account, name="arquivo")
    account.status = "suspended"  # read-only for people; still stored and metered
    account.suspended_at = datetime.now(UTC)
    dbs.flush()
    path = jsonl(
        tmp_path / "s.jsonl",
        [snapshot_line(account.id, "arquivo", 3, 4096, "2026-11-02T00:00:00+00:00")],
    )
    result = runner.invoke(args=["usage", "import", path])
    assert result.exit_code == 0, result.output
    dbs.expire_all()
    assert dbs.get(Bucket, bucket.id).size_bytes == 4096


def test_storage_thresholds_notify_owners_and_admins_once_a_month(runner, dbs, tmp_path):
    org = factories.every_role_org(quota_storage_gb=10)
    account = org.account
    factories.BucketFactory(account=account, name="dados")
    dbs.flush()

    def snap(size_gb, hour):
        return jsonl(
            tmp_path / f"s{hour}.jsonl",
            [
                snapshot_line(
                    account.id, "dados", 1, int(size_gb * GB), f"2026-11-02T{hour:02d}:00:00Z"
                )
            ],
        )

    def told():
        dbs.expire_all()
        return dbs.scalars(
            select(Notification.user_id)
            .where(Notification.kind == "usage.threshold_reached")
            .order_by(Notification.user_id)
        ).all()

    assert "quota notices sent 0" in runner.invoke(args=["usage", "import", snap(7, 1)]).output
    assert told() == []
    assert "quota notices sent 1" in runner.invoke(args=["usage", "import", snap(7.6, 2)]).output
    managers = sorted([org.people["owner"].id, org.people["admin"].id])
    assert told() == managers
    # still above 75 %: nothing new; then past 90 % and 100 % at once: one notice (100 %)
    assert "quota notices sent 0" in runner.invoke(args=["usage", "import", snap(8, 3)]).output
    assert "quota notices sent 1" in runner.invoke(args=["usage", "import", snap(11, 4)]).output
    assert told() == sorted(managers * 2)
    assert dbs.scalars(
        select(UsageThresholdNotice.threshold).order_by(UsageThresholdNotice.threshold)
    ).all() == [75, 90, 100]
    assert "quota notices sent 0" in runner.invoke(args=["usage", "import", snap(12, 5)]).output
    entry = dbs.scalars(
        select(AuditLog).where(AuditLog.action == "usage.threshold_reached").order_by(AuditLog.id)
    ).all()[-1]
    assert entry.details["threshold"] == 100
    assert entry.actor_id is None


def test_a_new_month_notifies_again(runner, dbs, tmp_path):
    from datetime import timedelta

    from portal import clock

    org = factories.every_role_org(quota_storage_gb=10)
    factories.BucketFactory(account=org.account, name="dados")
    dbs.flush()
    line = snapshot_line(org.account.id, "dados", 1, 8 * GB, "2026-11-02T00:00:00Z")
    path = jsonl(tmp_path / "s.jsonl", [line])
    assert "quota notices sent 1" in runner.invoke(args=["usage", "import", path]).output
    assert "quota notices sent 0" in runner.invoke(args=["usage", "import", path]).output
    later = snapshot_line(org.account.id, "dados", 1, 8 * GB, "2026-12-02T00:00:00Z")
    with clock.travel(clock.now() + timedelta(days=32)):  # a fresh snapshot, a new month
        result = runner.invoke(args=["usage", "import", jsonl(tmp_path / "l.jsonl", [later])])
    assert "quota notices sent 1" in result.output
    dbs.expire_all()
    assert len(dbs.scalars(select(UsageThresholdNotice)).all()) == 2


def test_without_usage_nothing_is_notified(runner, dbs, tmp_path):
    org = factories.every_role_org(quota_storage_gb=0)
    factories.BucketFactory(account=org.account, name="vazio")
    dbs.flush()
    line = snapshot_line(org.account.id, "vazio", 0, 0, "2026-11-02T00:00:00Z")
    result = runner.invoke(args=["usage", "import", jsonl(tmp_path / "z.jsonl", [line])])
    assert "applied 1" in result.output and "quota notices sent 0" in result.output


def test_batches_commit_one_by_one_and_count_across_batches(app_ctx, dbs, acme):
    from portal.usage import importer

    account, _ = acme
    data = [event(n, account.id) for n in (1, 2, 3, 1, 4)] + [event(5, 999999999)]
    commits, progress = [], []
    result = importer.import_lines(
        (json.dumps(x).encode() + b"\n" for x in data),
        "jsonl",
        commit=lambda: commits.append(1),
        progress=progress.append,
        batch_size=2,
    )
    assert (result.inserted, result.duplicate, result.rejected) == (4, 1, 1)
    assert len(commits) == 3 and sum(progress) == 6
    assert result.rejections == [importer.Rejected(6, "unknown organization 999999999")]
    assert result.accounts == {account.id}


def test_a_csv_mixes_events_and_snapshots(runner, dbs, acme, tmp_path):
    account, bucket = acme
    path = tmp_path / "mixed.csv"
    path.write_text(
        "event_id,organization,bucket,metric,quantity,period_start,period_end,"
        "objects,bytes,measured_at\n"
        f"m-1,{account.id},fotos,egress_gb,3,2026-11-01T00:00:00Z,2026-11-01T01:00:00Z,,,\n"
        f",12.ABC.345/01DE-35,fotos,,,,,7,7168,2026-11-01T02:00:00-03:00\n"
    )
    result = runner.invoke(args=["usage", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "inserted 1, duplicate 0, rejected 0" in result.output
    assert "applied 1" in result.output
    dbs.expire_all()
    assert dbs.get(Bucket, bucket.id).object_count == 7


# ------------------------------------------------ access keys: "last used" from usage ---
def key_event(n: int, org, key, end: str, **extra) -> dict:
    """An event of ``key`` (its public id) whose period ends at ``end`` (UTC hour)."""
    return event(
        n,
        org,
        access_key=key.key_id if hasattr(key, "key_id") else key,
        period_start=f"{end[:10]}T00:00:00Z",
        period_end=end,
        **extra,
    )


def last_used(dbs, key):
    dbs.expire_all()
    return dbs.get(AccessKey, key.id).last_used_at


def test_a_key_is_last_used_at_its_latest_event_and_never_moves_back(runner, dbs, acme, tmp_path):
    account, _ = acme
    key = factories.AccessKeyFactory(account=account)
    idle = factories.AccessKeyFactory(account=account)
    path = jsonl(
        tmp_path / "k.jsonl",
        [
            key_event(1, account.id, key, "2026-11-01T05:00:00Z", bucket="fotos"),
            key_event(2, account.cnpj, key, "2026-11-02T07:00:00Z"),
            key_event(3, account.id, key, "2026-11-01T09:00:00Z"),
        ],
    )
    result = runner.invoke(args=["usage", "import", path])
    assert result.exit_code == 0, result.output
    assert "inserted 3, duplicate 0, rejected 0; access keys last used updated 1" in result.output
    assert last_used(dbs, key) == datetime(2026, 11, 2, 7, tzinfo=UTC)
    assert last_used(dbs, idle) is None

    older = jsonl(tmp_path / "old.jsonl", [key_event(4, account.id, key, "2026-11-01T23:00:00Z")])
    result = runner.invoke(args=["usage", "import", older])
    assert "inserted 1, duplicate 0, rejected 0; access keys last used updated 0" in result.output
    assert last_used(dbs, key) == datetime(2026, 11, 2, 7, tzinfo=UTC)
    again = runner.invoke(args=["usage", "import", path])  # a file imported twice: unchanged
    assert "access keys last used updated 0" in again.output
    newer = jsonl(tmp_path / "new.jsonl", [key_event(5, account.id, key, "2026-11-03T01:00:00Z")])
    assert "last used updated 1" in runner.invoke(args=["usage", "import", newer]).output
    assert last_used(dbs, key) == datetime(2026, 11, 3, 1, tzinfo=UTC)


def test_an_unknown_key_or_another_organizations_key_rejects_its_line(runner, dbs, acme, tmp_path):
    account, _ = acme
    other = factories.AccessKeyFactory()  # another organization's key
    path = jsonl(
        tmp_path / "k.jsonl",
        [
            key_event(1, account.id, "PC000000000000000000", "2026-11-01T05:00:00Z"),
            key_event(2, account.id, other, "2026-11-01T05:00:00Z"),
            key_event(3, account.id, "not-a-key", "2026-11-01T05:00:00Z"),
            event(4, account.id),
        ],
    )
    result = runner.invoke(args=["usage", "import", path])
    assert result.exit_code == 1
    assert "inserted 1, duplicate 0, rejected 3; access keys last used updated 0" in result.output
    err = result.stderr
    assert f"line 1: unknown access key 'PC000000000000000000' in organization {account.id}" in err
    assert f"line 2: unknown access key '{other.key_id}' in organization {account.id}" in err
    assert "line 3: access_key: 'not-a-key' is not an access key id" in err
    assert records(dbs) == 1
    assert dbs.scalar(select(UsageRecord.source_event_id)) == "evt-4"
    assert last_used(dbs, other) is None


def test_revoked_and_inactive_keys_still_record_their_last_use(runner, dbs, acme, tmp_path):
    account, _ = acme
    revoked = factories.AccessKeyFactory(account=account, status="revoked")
    inactive = factories.AccessKeyFactory(account=account, status="inactive")
    path = jsonl(
        tmp_path / "k.jsonl",
        [
            key_event(1, account.id, revoked, "2026-11-01T05:00:00Z"),
            key_event(2, account.id, inactive, "2026-11-01T06:00:00Z"),
        ],
    )
    result = runner.invoke(args=["usage", "import", path])
    assert result.exit_code == 0, result.output
    assert "access keys last used updated 2" in result.output
    assert last_used(dbs, revoked) == datetime(2026, 11, 1, 5, tzinfo=UTC)
    assert dbs.get(AccessKey, revoked.id).status == "revoked"
    assert last_used(dbs, inactive) == datetime(2026, 11, 1, 6, tzinfo=UTC)


def test_a_suspended_organizations_keys_are_left_alone(runner, dbs, acme, tmp_path):
    account, _ = acme
    mine = factories.AccessKeyFactory(account=account)
    suspended = factories.AccountFactory(status="active")
    theirs = factories.AccessKeyFactory(account=suspended)
    suspended.status = "suspended"
    suspended.suspended_at = datetime.now(UTC)
    dbs.flush()
    path = jsonl(
        tmp_path / "k.jsonl",
        [
            key_event(1, suspended.id, theirs, "2026-11-01T05:00:00Z"),
            key_event(2, account.id, mine, "2026-11-01T06:00:00Z"),
        ],
    )
    result = runner.invoke(args=["usage", "import", path])
    assert result.exit_code == 0, result.output
    assert "inserted 2, duplicate 0, rejected 0; access keys last used updated 1" in result.output
    assert last_used(dbs, theirs) is None  # still metered, the key untouched
    assert last_used(dbs, mine) == datetime(2026, 11, 1, 6, tzinfo=UTC)


def test_the_keys_page_shows_the_last_use_from_the_import(
    runner, client, login, dbs, org, tmp_path
):
    account, people = org
    key = factories.AccessKeyFactory(account=account, name="deploy")
    dbs.commit()
    login(people["viewer"])

    def cell():
        html = client.get(f"/accounts/{account.id}/keys").get_data(as_text=True)
        row = html[html.index(f'id="key-{key.id}"') :]
        return row[: row.index("</tr>")].split('data-label="Last used">')[1].split("</td>")[0]

    assert "never" in cell()
    path = jsonl(tmp_path / "k.jsonl", [key_event(1, account.id, key, "2026-11-02T07:00:00Z")])
    assert runner.invoke(args=["usage", "import", path]).exit_code == 0
    shown = cell()
    assert 'datetime="2026-11-02T07:00:00+00:00"' in shown and "never" not in shown
