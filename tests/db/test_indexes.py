"""DOMAIN.md's common queries (and the account pages' lists) can be answered from an index,
in index order: no sequential scan of the table and no Sort node. Sequential and bitmap
scans (which lose the index order) are disabled for the EXPLAIN so the answer does not depend on how much data the test database
happens to hold."""

from __future__ import annotations

import json

import pytest

QUERIES = [
    (
        "notifications unread first",
        "SELECT id FROM notifications WHERE user_id = 1 "
        "ORDER BY read, created_at DESC, id DESC LIMIT 20",
        "ix_notifications_user_id_read_created_at_id",
    ),
    (
        "unread count",
        "SELECT count(*) FROM notifications WHERE user_id = 1 AND NOT read",
        "ix_notifications_unread_user_id",
    ),
    (
        "audit log keyset page",
        "SELECT id FROM audit_logs WHERE account_id = 1 "
        "AND (created_at, id) < (now(), 1000) ORDER BY created_at DESC, id DESC LIMIT 50",
        "ix_audit_logs_account_id_created_at_id",
    ),
    (
        "admin audit log keyset page",
        "SELECT id FROM audit_logs WHERE (created_at, id) < (now(), 1000) "
        "ORDER BY created_at DESC, id DESC LIMIT 50",
        "ix_audit_logs_created_at_id",
    ),
    (
        "buckets with lifecycle rules",
        "SELECT name, versioning, lifecycle_rules FROM buckets WHERE account_id = 1 ORDER BY name",
        "uq_buckets_account_id_name",
    ),
    (
        "my accounts",
        "SELECT account_id FROM account_members WHERE user_id = 1",
        "ix_account_members_user_id",
    ),
    (
        "my accounts with member counts",
        "SELECT a.id, a.name, (SELECT count(*) FROM account_members m WHERE m.account_id = a.id) "
        "FROM account_members me JOIN accounts a ON a.id = me.account_id WHERE me.user_id = 1",
        # either index that leads with account_id counts the members (0022 added the second)
        ("uq_account_members_account_id_user_id", "ix_account_members_account_id_created_at_id"),
    ),
    (
        "subscriptions of an account",
        "SELECT id FROM subscriptions WHERE account_id = 1",
        "ix_subscriptions_account_id",
    ),
    (
        "invoices of an account, newest first",
        "SELECT id FROM invoices WHERE account_id = 1 ORDER BY period_start DESC",
        "ix_invoices_account_id_period_start",
    ),
    (
        "quota requests of an account, newest first",
        "SELECT id FROM quota_requests WHERE account_id = 1 "
        "ORDER BY created_at DESC, id DESC LIMIT 20",
        "ix_quota_requests_account_id_created_at_id",
    ),
    (
        "quota review queue, pending oldest first",
        "SELECT id FROM quota_requests WHERE status = 'pending' ORDER BY created_at, id LIMIT 20",
        "ix_quota_requests_pending_created_at_id",
    ),
    (
        "quota review queue, decided most recent first",
        "SELECT id FROM quota_requests WHERE status <> 'pending' AND status = 'approved' "
        "ORDER BY reviewed_at DESC, id DESC LIMIT 20",
        "ix_quota_requests_decided_reviewed_at_id",
    ),
    (
        "usage of a bucket being deleted",
        "SELECT id FROM usage_records WHERE bucket_id = 1",
        "ix_usage_records_bucket_id",
    ),
    (
        "notifications of an account being deleted",
        "SELECT id FROM notifications WHERE account_id = 1",
        "ix_notifications_account_id",
    ),
]


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


@pytest.mark.parametrize(("query", "index"), [q[1:] for q in QUERIES], ids=[q[0] for q in QUERIES])
def test_common_queries_use_an_index_in_order(conn, query, index):
    conn.execute("SET LOCAL enable_seqscan = off")
    conn.execute("SET LOCAL enable_bitmapscan = off")
    plan = conn.execute(f"EXPLAIN (FORMAT JSON) {query}").fetchone()[0]
    nodes = list(_nodes(plan[0]["Plan"]))
    indexes = (index,) if isinstance(index, str) else index
    used = {node.get("Index Name") for node in nodes}
    assert used & set(indexes), json.dumps(plan, indent=1)
    assert not any(n["Node Type"] in ("Sort", "Seq Scan") for n in nodes), json.dumps(plan)
