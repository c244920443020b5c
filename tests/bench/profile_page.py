"""One page at a time, in process: median CPU and wall time per request, and a profile.

    python -m tests.bench.profile_page [--db portal_bench] [-n 50] [--only dashboard,members]
                                       [--profile] [--top 30]

Uses the scale dataset of ``make bench`` (``BENCH_DB`` or ``--db`` on ``DATABASE_URL``'s
server; it must be migrated and seeded already: see tests/bench/http.py). Logs in for real
(the login form and its CSRF token) through the test client, warms each page once, then
times ``-n`` requests one after the other with ``time.process_time()`` (the Python process's
CPU, i.e. everything but the database server) and ``time.perf_counter()`` (wall), and prints
the medians. ``--profile`` runs cProfile over the same requests and prints the functions
with the highest cumulative time. Steadier than ``wrk`` on a shared machine; it measures the
portal alone (no WSGI server, no network).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time

import psycopg
from sqlalchemy.engine import make_url

from tests.bench.http import SECRET, USER_AGENT, _in_process_login, libpq, server_url

PAGES: dict[str, tuple[str, str | None]] = {
    "login (anonymous)": ("/login", None),
    "dashboard": ("/accounts/{org}/", "owner"),
    "members": ("/accounts/{org}/members", "owner"),
    "audit log": ("/accounts/{org}/audit", "owner"),
    "notifications": ("/notifications", "owner"),
    "buckets": ("/accounts/{org}/buckets", "owner"),
    "access keys": ("/accounts/{org}/keys", "owner"),
    "billing": ("/accounts/{org}/billing", "owner"),
    "admin organizations": ("/admin/accounts", "admin"),
    "admin invoices": ("/admin/invoices", "admin"),
    "admin audit log": ("/admin/audit", "admin"),
}


def database_url(name: str) -> str:
    return make_url(server_url()).set(database=name).render_as_string(hide_password=False)


def build_app(db_url: str):
    from portal import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": make_url(db_url)
            .set(drivername="postgresql+psycopg")
            .render_as_string(hide_password=False),
            "SECRET_KEY": SECRET,
            "MAIL_DELIVER_AFTER_COMMIT": False,
        }
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("BENCH_DB", "portal_bench"))
    parser.add_argument("-n", type=int, default=50, help="requests per page")
    parser.add_argument("--only", default="", help='page names, separated by ","')
    parser.add_argument("--profile", action="store_true", help="cProfile the requests")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="cumulative", help="pstats sort key")
    args = parser.parse_args(argv)

    from portal import scale

    db_url = database_url(args.db)
    with psycopg.connect(libpq(db_url)) as conn:
        org = conn.execute("SELECT id FROM accounts WHERE name = %s", (scale.BIG_ORG,)).fetchone()
        if org is None:
            print(f"{args.db} holds no scale dataset (flask seed-scale)", file=sys.stderr)
            return 2
    wanted = {w.strip() for w in args.only.split(",") if w.strip()}
    pages = {k: v for k, v in PAGES.items() if not wanted or k in wanted}

    app = build_app(db_url)
    logins = {"owner": scale.OWNER_EMAIL, "admin": scale.ADMIN_EMAIL}
    clients = {}
    print(f"{'page':<22} {'status':>6} {'CPU ms':>8} {'wall ms':>8}   (median of {args.n})")
    for name, (path, who) in pages.items():
        path = path.format(org=org[0])
        if who not in clients:
            client = app.test_client()
            client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
            if who is not None:
                _in_process_login(client, logins[who])
            clients[who] = client
        client = clients[who]
        status = client.get(path).status_code  # warm: first-use work is not the page's
        profiler = cProfile.Profile() if args.profile else None
        cpu, wall = [], []
        for _ in range(args.n):
            c0, w0 = time.process_time(), time.perf_counter()
            if profiler:
                profiler.enable()
            client.get(path)
            if profiler:
                profiler.disable()
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - w0)
        print(
            f"{name:<22} {status:>6} {statistics.median(cpu) * 1000:8.2f} "
            f"{statistics.median(wall) * 1000:8.2f}",
            flush=True,
        )
        if profiler:
            stats = pstats.Stats(profiler)
            stats.sort_stats(args.sort).print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
