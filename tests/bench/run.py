"""Benchmark of the two pages that grow without limit (not a test): ``make bench``.

    python -m tests.bench.run [--audit-rows N] [--notifications N] [--repeat N]

Uses DATABASE_URL's server, or an embedded PostgreSQL under instance/pgdata-bench; creates a
database of its own, upgrades it with the migrations, seeds one organization with 1,000,000
audit rows (plus 200,000 of other organizations) and one person with 200,000 notifications
(plus other people's) with INSERT ... SELECT generate_series, runs VACUUM ANALYZE, then times
the statements the services issue — the first page and a deep keyset page — and, for
comparison, the OFFSET query at the same depth. Prints medians, p95 and ratios, then drops
the database.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]


def server_url() -> str:
    url = os.environ.get("DATABASE_URL")
    from portal import dbserver

    if url:
        return dbserver.to_sqlalchemy_url(url)
    return dbserver.start(ROOT / "instance" / "pgdata-bench", database="postgres")


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def timed(conn, stmt, repeat: int) -> list[float]:
    """Milliseconds per execution (rows fetched), after one warm-up run."""
    conn.execute(stmt).all()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        conn.execute(stmt).all()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[18]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audit-rows", type=int, default=1_000_000)
    parser.add_argument("--notifications", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args(argv)

    from flask_migrate import upgrade

    from portal import create_app
    from portal.audit_log import services as audit
    from portal.extensions import db
    from portal.notifications import services as notes
    from tests.bench import seed

    base = server_url()
    name = f"portal_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq(base), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-only", "TESTING": True})
    try:
        with app.app_context():
            t0 = time.perf_counter()
            upgrade()
            with db.engine.begin() as conn:
                owner = seed.user(conn, "owner")
                account_id = seed.account(conn, owner, "Bench Armazenamento Ltda")
                seed.audit_logs(conn, account_id, owner, args.audit_rows)
                for i in range(4):  # other organizations: the big one is not the whole table
                    other = seed.user(conn, f"other-owner{i}")
                    seed.audit_logs(
                        conn, seed.account(conn, other, f"Outra {i} Ltda"), other, 50_000
                    )
                reader = seed.user(conn, "reader")
                seed.notifications(conn, reader, args.notifications, unread_every=10)
                for i in range(4):
                    seed.notifications(conn, seed.user(conn, f"other{i}"), 25_000)
            seed.vacuum_analyze(db.engine, "audit_logs", "notifications", "users", "accounts")
            print(f"seeded in {time.perf_counter() - t0:.1f} s (database {name})\n")
            results = run(args, db, audit, notes, account_id, reader)
        report(results, args)
    finally:
        with app.app_context():
            db.engine.dispose()
        with psycopg.connect(libpq(base), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


def run(args, db, audit, notes, account_id: int, reader: int) -> list[tuple]:
    results = []
    repeat = args.repeat
    with db.engine.connect() as conn:
        # ---- audit log: page 1 and page 10,000 (rows 499,951-500,000), 50 rows a page.
        size = audit.PAGE_SIZE
        depth = min(10_000 * size, args.audit_rows - size) - size  # rows before the page
        row = conn.execute(
            text(
                "SELECT created_at, id FROM audit_logs WHERE account_id = :a "
                "ORDER BY created_at DESC, id DESC OFFSET :o LIMIT 1"
            ),
            {"a": account_id, "o": depth - 1},
        ).one()
        cursor = audit.Cursor(row.created_at, row.id)
        first = audit.entries_statement(account_id, audit.Filters(), None, size + 1)
        deep = audit.entries_statement(account_id, audit.Filters(), cursor, size + 1)
        offset = audit.entries_statement(account_id, audit.Filters(), None, size + 1).offset(depth)
        assert [r.id for r in conn.execute(deep)] == [r.id for r in conn.execute(offset)]
        results.append(
            (
                f"audit log, 1 org of {args.audit_rows:,} rows: page {depth // size + 1:,}",
                timed(conn, first, repeat),
                timed(conn, deep, repeat),
                timed(conn, offset, max(5, repeat // 3)),
            )
        )
        action = audit.Filters(action="bucket.created")
        results.append(
            (
                "audit log filtered by action (1 row in 35): page 400",
                timed(conn, audit.entries_statement(account_id, action, None, size + 1), repeat),
                timed(
                    conn,
                    audit.entries_statement(
                        account_id,
                        action,
                        _nth_audit(conn, account_id, action, 400 * size),
                        size + 1,
                    ),
                    repeat,
                ),
                timed(
                    conn,
                    audit.entries_statement(account_id, action, None, size + 1).offset(
                        400 * size - size
                    ),
                    max(5, repeat // 3),
                ),
            )
        )

        # ---- notifications: page 1, deep in the unread rows, deep in the read rows.
        size = notes.PAGE_SIZE
        for label, read, nth in (
            ("unread", False, args.notifications // 10 // 2),
            # page 10,000 (the 199,981st row onwards), or the last page of a smaller seed
            ("read", True, min(9_999 * size, args.notifications - size) - args.notifications // 10),
        ):
            row = conn.execute(
                text(
                    "SELECT read, created_at, id FROM notifications WHERE user_id = :u AND read = :r "
                    "ORDER BY created_at DESC, id DESC OFFSET :o LIMIT 1"
                ),
                {"u": reader, "r": read, "o": nth - 1},
            ).one()
            after = notes.Cursor(row.read, row.created_at, row.id)
            position = nth if not read else args.notifications // 10 + nth
            deep = notes.page_statement(reader, after, size + 1)
            offset = notes.page_statement(reader, None, size + 1).offset(position)
            results.append(
                (
                    f"notifications, {args.notifications:,} for 1 person: "
                    f"page {position // size + 1:,} ({label} rows)",
                    timed(conn, notes.page_statement(reader, None, size + 1), repeat),
                    timed(conn, deep, repeat),
                    timed(conn, offset, max(5, repeat // 3)),
                )
            )
        count = timed(conn, notes.unread_count_statement(reader), repeat)
        results.append(("unread badge count (index-only)", count, None, None))
    return results


def _nth_audit(conn, account_id, filters, nth):
    from portal.audit_log import services as audit

    stmt = audit.entries_statement(account_id, filters, None, 1).offset(nth - 51)
    row = conn.execute(stmt).one()
    return audit.Cursor(row.created_at, row.id)


def report(results, args) -> None:
    print(f"{args.repeat} runs each (OFFSET: {max(5, args.repeat // 3)}); milliseconds\n")
    header = (
        f"{'query':<72} {'p1 med':>8} {'p1 p95':>8} {'deep med':>9} {'deep p95':>9} "
        f"{'deep/p1':>8} {'OFFSET med':>11}"
    )
    print(header)
    print("-" * len(header))
    for label, first, deep, offset in results:
        line = f"{label:<72} {statistics.median(first):8.2f} {p95(first):8.2f}"
        if deep is not None:
            ratio = statistics.median(deep) / statistics.median(first)
            line += (
                f" {statistics.median(deep):9.2f} {p95(deep):9.2f} {ratio:8.2f}"
                f" {statistics.median(offset):11.2f}"
            )
        print(line)


if __name__ == "__main__":
    sys.exit(main())
