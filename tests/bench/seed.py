"""Bulk data for query-plan tests and the benchmark: INSERT ... SELECT generate_series, so
a million rows take seconds, not minutes. Everything goes through one SQLAlchemy
connection in its own transaction; callers VACUUM ANALYZE afterwards."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.engine import Connection

from portal.audit import Action
from tests.factories.accounts import make_cnpj

ACTIONS = [a.value for a in Action]


def user(conn: Connection, label: str = "bench", admin: bool = False) -> int:
    email = f"{label}-{uuid.uuid4().hex[:10]}@example.com"
    return conn.execute(
        text(
            "INSERT INTO users (email, name, password_hash, is_platform_admin) "
            "VALUES (:email, :name, 'x', :admin) RETURNING id"
        ),
        {"email": email, "name": label.title(), "admin": admin},
    ).scalar_one()


def account(conn: Connection, owner_id: int, name: str = "Bench Ltda") -> int:
    """An account and its owner membership, in the same transaction."""
    account_id = conn.execute(
        text("INSERT INTO accounts (name, cnpj) VALUES (:name, :cnpj) RETURNING id"),
        {"name": name, "cnpj": make_cnpj(uuid.uuid4().int % 10**8)},
    ).scalar_one()
    conn.execute(
        text("INSERT INTO account_members (account_id, user_id, role) VALUES (:a, :u, 'owner')"),
        {"a": account_id, "u": owner_id},
    )
    return account_id


def notifications(conn: Connection, user_id: int, count: int, unread_every: int = 10) -> None:
    """``count`` notifications for ``user_id``, one in ``unread_every`` unread, timestamps
    going back one second per three rows (so created_at ties exist and id breaks them)."""
    conn.execute(
        text(
            "INSERT INTO notifications (user_id, kind, params, link, read, created_at, read_at) "
            "SELECT :uid, 'member.joined', "
            "       jsonb_build_object('account_name', 'Bench', 'member_name', 'n' || g, "
            "                          'role', 'member'), "
            "       '/notifications', (g % :every) <> 0, "
            "       now() - (g / 3) * interval '1 second', "
            "       CASE WHEN (g % :every) <> 0 THEN now() END "
            "FROM generate_series(1, :n) AS g"
        ),
        {"uid": user_id, "n": count, "every": unread_every},
    )


def audit_logs(conn: Connection, account_id: int | None, actor_id: int | None, count: int) -> None:
    """``count`` audit rows of ``account_id`` (NULL: platform events), actions cycling
    through every Action, every seventh row without an actor (the system)."""
    conn.execute(
        text(
            "INSERT INTO audit_logs (account_id, actor_id, action, target_type, target_id, "
            "                        target_label, ip, details, created_at) "
            "SELECT CAST(:acc AS bigint), "
            "       CASE WHEN g % 7 = 0 THEN NULL ELSE CAST(:actor AS bigint) END, "
            "       (CAST(:actions AS text[]))[1 + g % cardinality(CAST(:actions AS text[]))], "
            "       'member', (g % 1000)::text, 'person' || (g % 1000) || '@example.com', "
            "       '203.0.113.7'::inet, jsonb_build_object('n', g), "
            "       now() - (g / 2) * interval '1 second' "
            "FROM generate_series(1, :n) AS g"
        ),
        {"acc": account_id, "actor": actor_id, "n": count, "actions": ACTIONS},
    )


def activate(conn: Connection, account_id: int) -> None:
    """pending → approved → active, as the status machine allows (buckets need active)."""
    for status in ("approved", "active"):
        conn.execute(
            text("UPDATE accounts SET status = :s WHERE id = :a"), {"s": status, "a": account_id}
        )


def buckets(conn: Connection, account_id: int, count: int, prefix: str = "b-") -> None:
    """``count`` buckets of an active account, named ``<prefix>00001``... with a lifecycle
    rule each, object counts and sizes."""
    conn.execute(
        text(
            "INSERT INTO buckets (account_id, name, lifecycle_rules, object_count, size_bytes) "
            "SELECT :acc, :prefix || lpad(g::text, 5, '0'), "
            "       jsonb_build_array(jsonb_build_object('id', 'r', 'status', 'Enabled', "
            "           'filter', jsonb_build_object('prefix', ''), "
            "           'abort_incomplete_multipart_upload', "
            "           jsonb_build_object('days_after_initiation', 7))), "
            "       g * 10, g::bigint * 1048576 "
            "FROM generate_series(1, :n) AS g"
        ),
        {"acc": account_id, "prefix": prefix, "n": count},
    )


def vacuum_analyze(engine, *tables: str) -> None:
    """VACUUM ANALYZE (what autovacuum keeps doing in production): fresh statistics and a
    visibility map, so index-only scans are planned as they would be."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in tables:
            conn.exec_driver_sql(f"VACUUM ANALYZE {table}")
