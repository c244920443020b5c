"""Benchmark (not a test) of ``flask usage import`` on a 1,000,000-line file:
``python -m tests.bench.usage_import [--lines N] [--organizations N]`` (``make bench`` runs it).

Creates a database of its own on DATABASE_URL's server (or the embedded one), migrates it,
adds ``--organizations`` active organizations with 3 buckets each, writes a JSON Lines
file of ``--lines`` lines in a temporary directory (usage events of every metric, half the
organizations named by id and half by CNPJ, one line in 100 a bucket snapshot), then times
the import as the command runs it (batches COPYed into the staging table, one statement
and one commit per batch) and prints rows per second; then imports the same file again
(every event a duplicate) and prints that too. The file is streamed, never held in memory.
Then drafts the month's invoices for every organization (``invoices.issue_period``, what
``flask invoices issue`` runs), twice: the second run creates nothing.
Drops the database at the end.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.bench.run import libpq, server_url

METRICS = ("storage_gb_hours", "egress_gb", "requests_put", "requests_get")


def write_file(path: Path, lines: int, orgs: list[tuple[int, str, list[str]]]) -> None:
    start = datetime(2026, 10, 1, tzinfo=UTC)
    with path.open("w") as out:
        for n in range(lines):
            account_id, cnpj, buckets = orgs[n % len(orgs)]
            organization = account_id if (n // len(orgs)) % 2 else cnpj
            hour = start + timedelta(hours=(n // len(orgs)) % 1000)
            if n % 100 == 99:
                line = {
                    "organization": organization,
                    "bucket": buckets[n % 3],
                    "objects": n,
                    "bytes": n * 1024,
                    "measured_at": hour.isoformat(),
                }
            else:
                line = {
                    "event_id": f"bench-{n}",
                    "organization": organization,
                    "bucket": buckets[n % 3],
                    "metric": METRICS[n % 4],
                    "quantity": f"{(n % 997) / 7:.6f}",
                    "period_start": hour.isoformat(),
                    "period_end": (hour + timedelta(hours=1)).isoformat(),
                }
            out.write(json.dumps(line) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--organizations", type=int, default=1000)
    args = parser.parse_args(argv)

    import psycopg
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from portal import create_app
    from portal.extensions import db
    from portal.usage import importer, thresholds
    from tests.bench import seed

    server = server_url()
    name = f"portal_bench_usage_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq(server), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            with db.engine.begin() as conn:
                owner = seed.user(conn, "usage-bench")
                orgs = []
                for i in range(args.organizations):
                    account_id = seed.account(conn, owner, f"Uso {i} Ltda")
                    seed.activate(conn, account_id)
                    seed.buckets(conn, account_id, 3, prefix="dados-")
                    cnpj = conn.execute(
                        text("SELECT cnpj FROM accounts WHERE id = :a"), {"a": account_id}
                    ).scalar_one()
                    orgs.append((account_id, cnpj, ["dados-00001", "dados-00002", "dados-00003"]))
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "usage.jsonl"
                started = time.perf_counter()
                write_file(path, args.lines, orgs)
                size = path.stat().st_size
                print(
                    f"usage import: {args.lines:,} lines ({size / 2**20:.0f} MiB), "
                    f"{args.organizations:,} organizations; file written in "
                    f"{time.perf_counter() - started:.1f} s"
                )
                for run in ("first import", "same file again"):
                    started = time.perf_counter()
                    result = importer.import_file(str(path), commit=db.session.commit)
                    thresholds.check(result.accounts)
                    db.session.commit()
                    elapsed = time.perf_counter() - started
                    print(
                        f"  {run:16} {elapsed:6.1f} s  {result.lines / elapsed:9,.0f} rows/s  "
                        f"(inserted {result.inserted:,}, duplicate {result.duplicate:,}, "
                        f"rejected {result.rejected:,}; snapshots applied {result.applied:,}, "
                        f"not newer {result.stale:,})"
                    )
                # usage_daily (kept by the importer) holds exactly the records' daily sums.
                differ = db.session.execute(
                    text(
                        "SELECT count(*) FROM ((SELECT account_id, "
                        "(period_start AT TIME ZONE 'UTC')::date, metric, "
                        "coalesce(bucket_id, 0), sum(quantity) FROM usage_records "
                        "GROUP BY 1, 2, 3, 4) EXCEPT ALL (SELECT account_id, day, metric, "
                        "bucket_key, quantity FROM usage_daily)) AS d"
                    )
                ).scalar_one()
                differ += db.session.execute(
                    text(
                        "SELECT count(*) FROM ((SELECT account_id, "
                        "(period_start AT TIME ZONE 'UTC')::date, metric, sum(quantity) "
                        "FROM usage_records GROUP BY 1, 2, 3) EXCEPT ALL (SELECT account_id, "
                        "day, metric, quantity FROM usage_daily_totals)) AS d"
                    )
                ).scalar_one()
                print(f"  daily sums not matching the records: {differ}")
                # The second command: the month's invoices for every organization that used
                # storage (one draft each, metered lines rated), then again (nothing new).
                from portal.billing import invoices

                for run in ("issue 2026-10", "issue again"):
                    started = time.perf_counter()
                    issued = invoices.issue_period(None, "2026-10")
                    db.session.commit()
                    elapsed = time.perf_counter() - started
                    print(
                        f"  {run:16} {elapsed:6.1f} s  {issued.created:,} drafts created, "
                        f"{issued.existing:,} already existed"
                    )
            db.session.remove()
            db.engine.dispose()
    finally:
        with psycopg.connect(libpq(server), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
