"""``make bench``: every page over HTTP at scale, against the floor of the stack.

    python -m tests.bench.http [--seconds 10] [--connections 8] [--only NAME,...] [--reseed]

1. A database of its own (``portal_bench`` on DATABASE_URL's server, or on an embedded
   PostgreSQL under instance/pgdata-bench), migrated to head and filled once with
   ``flask seed-scale`` (kept between runs; ``--reseed`` rebuilds it).
2. The portal served by gunicorn (2 sync workers), and a bare Flask "hello" app
   (tests/bench/hello.py) served the same way.
3. Real logins (POST /login with the CSRF token) give real session cookies.
4. Each page is loaded by ``wrk`` (Debian's package) with 8 connections for ``--seconds``;
   requests per second, p50 and p99 latency are read from wrk's report, and the ratio to
   the floor (the hello app, measured before and after the pages; the lower of the two).
5. The queries each page issues are counted in-process (one request through the app with
   the same cookie).

Prints a Markdown table and writes it to docs/bench.md with the date and the machine.
Goal (issue "every page fast at scale"): ratio ≥ 0.12 and p99 ≤ 75 ms for every page; page 1
and a deep page of a list cost the same (ratio of their rates ≤ 1.2).
"""

from __future__ import annotations

import argparse
import contextlib
import http.cookiejar
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
GOAL_RATIO = 0.12
GOAL_P99_MS = 75.0
# BENCH_DB overrides it (parallel branches with different migrations keep their own).
BENCH_DB = os.environ.get("BENCH_DB", "portal_bench")
SECRET = "bench-secret-key-not-for-production"  # noqa: S105
# One browser: the login and every request say the same, as a browser does (another user
# agent would make Flask-Login mark the session non-fresh, rewriting its cookie each time).
USER_AGENT = "portal-bench/1 (wrk)"


# ------------------------------------------------------------------------ database ---
def server_url() -> str:
    from portal import dbserver

    url = os.environ.get("DATABASE_URL")
    if url:
        return dbserver.to_sqlalchemy_url(url)
    return dbserver.start(ROOT / "instance" / "pgdata-bench", database="postgres")


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def bench_database(reseed: bool) -> str:
    """The bench database's URL: created, migrated and seeded when needed."""
    server = server_url()
    url = make_url(server).set(database=BENCH_DB).render_as_string(hide_password=False)
    with psycopg.connect(libpq(server), autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (BENCH_DB,)
        ).fetchone()
        if exists and reseed:
            conn.execute(f'DROP DATABASE "{BENCH_DB}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    env = {**os.environ, "DATABASE_URL": libpq(url), "FLASK_APP": "wsgi", "SECRET_KEY": SECRET}
    flask = str(Path(sys.executable).parent / "flask")
    subprocess.run([flask, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    with psycopg.connect(libpq(url)) as conn:
        seeded = conn.execute("SELECT count(*) FROM accounts").fetchone()[0]
    if not seeded:
        print("seeding the scale dataset (flask seed-scale) …", flush=True)
        subprocess.run([flask, "seed-scale"], env=env, cwd=ROOT, check=True)
    return url


# ------------------------------------------------------------------------- servers ---
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def gunicorn(app: str, env: dict, workers: int = 2):
    port = free_port()
    binary = str(Path(sys.executable).parent / "gunicorn")
    proc = subprocess.Popen(
        [binary, "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning", app],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(  # noqa: S310 - our own server, http only
                    base + "/healthz" if "wsgi" in app else base + "/", timeout=2
                )
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn {app} did not start") from None
                time.sleep(0.3)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


# -------------------------------------------------------------------------- logins ---
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def log_in(base: str, email: str, password: str) -> str:
    """A real login; returns the Cookie header of the session it started."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    opener.addheaders = [("User-Agent", USER_AGENT)]
    html = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    data = urllib.parse.urlencode(
        {"email": email, "password": password, "csrf_token": token.group(1)}
    ).encode()
    try:
        opener.open(base + "/login", data=data)
    except urllib.error.HTTPError as exc:
        if exc.code != 302:
            raise RuntimeError(f"login of {email} answered {exc.code}") from None
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def fetch(base: str, path: str, cookie: str | None) -> int:
    headers = {"Cookie": cookie} if cookie else {}
    request = urllib.request.Request(base + path, headers={**headers, "User-Agent": USER_AGENT})  # noqa: S310 - http only
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


# ----------------------------------------------------------------------------- wrk ---
@dataclass
class Result:
    rps: float
    p50: float
    p99: float
    errors: int = 0


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def wrk(url: str, cookie: str | None, seconds: int, connections: int) -> Result:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    cmd += ["-H", f"User-Agent: {USER_AGENT}"]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return Result(rps, p50, p99, int(bad.group(1)) if bad else 0)


# --------------------------------------------------------------------------- pages ---
@dataclass
class Page:
    """One page to measure: ``path`` may use {org}; ``who`` is a login of the dataset
    (None: anonymous); ``deep`` computes a deep page's query string from the database."""

    name: str
    path: str
    who: str | None = "owner"
    deep_of: str | None = None  # the page-1 row this one is compared with
    query: Callable[[psycopg.Connection, dict], str] | None = None


def _audit_deep(account: bool) -> Callable:
    def query(conn, ctx) -> str:
        where = "account_id = %s" if account else "TRUE"
        row = conn.execute(
            f"SELECT created_at, id FROM audit_logs WHERE {where} "  # noqa: S608
            "ORDER BY created_at DESC, id DESC OFFSET 500000 LIMIT 1",
            (ctx["org"],) if account else (),
        ).fetchone()
        return "?before=" + _cursor("audit", row)

    return query


def _notifications_deep(conn, ctx) -> str:
    row = conn.execute(
        "SELECT read, created_at, id FROM notifications WHERE user_id = %s "
        "ORDER BY read, created_at DESC, id DESC OFFSET 40000 LIMIT 1",
        (ctx["owner_id"],),
    ).fetchone()
    return "?after=" + _cursor("notifications", row)


def _accounts_deep(conn, ctx) -> str:
    row = conn.execute(
        "SELECT created_at, id FROM accounts ORDER BY created_at DESC, id DESC OFFSET 15000 LIMIT 1"
    ).fetchone()
    return "?before=" + _cursor("accounts", row)


def _invoice_number(conn, ctx) -> str:
    """The organization's newest issued invoice (the scale dataset issues two months)."""
    row = conn.execute(
        "SELECT number FROM invoices WHERE account_id = %s AND status <> 'draft' "
        "ORDER BY number DESC LIMIT 1",
        (ctx["org"],),
    ).fetchone()
    if row is None:
        raise RuntimeError("the scale dataset has no invoice for the big organization")
    return str(row[0])


def _keys_deep(conn, ctx) -> str:
    row = conn.execute(
        "SELECT created_at, id FROM access_keys WHERE account_id = %s AND status <> 'revoked' "
        "ORDER BY created_at DESC, id DESC OFFSET 500 LIMIT 1",
        (ctx["org"],),
    ).fetchone()
    return "?before=" + _cursor("keys", row)


def _buckets_deep(conn, ctx) -> str:
    """Half-way through the big organization's 10,000 buckets (byte order, as the list)."""
    row = conn.execute(
        'SELECT name FROM buckets WHERE account_id = %s ORDER BY name COLLATE "C" '
        "OFFSET 5000 LIMIT 1",
        (ctx["org"],),
    ).fetchone()
    return "?before=" + _cursor("buckets", row)


def _key_edit(conn, ctx) -> str:
    """The edit page of the big organization's newest live key."""
    row = conn.execute(
        "SELECT key_id FROM access_keys WHERE account_id = %s AND status <> 'revoked' "
        "ORDER BY created_at DESC, id DESC LIMIT 1",
        (ctx["org"],),
    ).fetchone()
    return f"{row[0]}/edit"


def _members_deep(conn, ctx) -> str:
    row = conn.execute(
        "SELECT created_at, id FROM account_members WHERE account_id = %s "
        "ORDER BY created_at, id OFFSET 250 LIMIT 1",
        (ctx["org"],),
    ).fetchone()
    return "?before=" + _cursor("members", row)


def _cursor(kind: str, row) -> str:
    """The cursor token the list's own Keyset would put in its "next" link."""
    from types import SimpleNamespace

    from portal.admin.services import ORDER as ACCOUNTS
    from portal.audit_log.services import ORDER as AUDIT
    from portal.buckets.services import ORDER as BUCKETS
    from portal.keys.services import ORDER as KEYS
    from portal.members.services import ORDER as MEMBERS
    from portal.notifications.services import ORDER as NOTIFICATIONS

    keyset = {
        "audit": AUDIT,
        "notifications": NOTIFICATIONS,
        "accounts": ACCOUNTS,
        "keys": KEYS,
        "members": MEMBERS,
        "buckets": BUCKETS,
    }[kind]
    values = dict(zip([k.attr for k in keyset.keys], row, strict=True))
    return keyset.cursor_of(SimpleNamespace(**values)).encode()


PAGES: list[Page] = [
    Page("login (anonymous)", "/login", who=None),
    Page("dashboard", "/accounts/{org}/"),
    Page("members", "/accounts/{org}/members"),
    Page("invitations", "/accounts/{org}/invitations"),
    Page("quotas", "/accounts/{org}/quotas"),
    Page("audit log", "/accounts/{org}/audit"),
    Page("audit log, deep", "/accounts/{org}/audit", deep_of="audit log", query=_audit_deep(True)),
    Page("notifications", "/notifications"),
    Page(
        "notifications, deep",
        "/notifications",
        deep_of="notifications",
        query=_notifications_deep,
    ),
    Page("dashboard (viewer)", "/accounts/{org}/", who="viewer"),
    Page("access keys", "/accounts/{org}/keys"),
    Page("access keys, deep", "/accounts/{org}/keys", deep_of="access keys", query=_keys_deep),
    Page("admin home", "/admin/", who="admin"),
    Page("admin organizations", "/admin/accounts", who="admin"),
    Page(
        "admin organizations, deep",
        "/admin/accounts",
        who="admin",
        deep_of="admin organizations",
        query=_accounts_deep,
    ),
    Page("admin audit log", "/admin/audit", who="admin"),
    Page(
        "admin audit log, deep",
        "/admin/audit",
        who="admin",
        deep_of="admin audit log",
        query=_audit_deep(False),
    ),
    Page("invoice", "/accounts/{org}/billing/invoices/", query=_invoice_number),
    Page("admin invoices", "/admin/invoices", who="admin"),
    Page("admin invoices, open", "/admin/invoices?status=open", who="admin"),
    Page("members, deep", "/accounts/{org}/members", deep_of="members", query=_members_deep),
    Page("members, search", "/accounts/{org}/members?q=pessoa+12"),
    Page("audit log, person suggestions", "/accounts/{org}/audit/people?who=pessoa+12"),
    Page("buckets", "/accounts/{org}/buckets"),
    Page("buckets, deep", "/accounts/{org}/buckets", deep_of="buckets", query=_buckets_deep),
    Page("bucket (with a rule)", "/accounts/{org}/buckets/bucket-000010"),
    Page("billing", "/accounts/{org}/billing"),
    Page("access key, edit", "/accounts/{org}/keys/", query=_key_edit),
    Page("profile", "/profile"),
    Page("sessions", "/sessions"),
    Page("admin organization", "/admin/accounts/{org}", who="admin"),
    Page("admin orders", "/admin/orders", who="admin"),
    Page("admin quota requests", "/admin/quota-requests", who="admin"),
]


# ------------------------------------------------------------------- query counting ---
def _in_process_login(client, email: str) -> None:
    """A real login through the app (the login form, its CSRF token), in process."""
    from portal import scale

    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)
    response = client.post(
        "/login", data={"email": email, "password": scale.PASSWORD, "csrf_token": token}
    )
    if response.status_code != 302:
        raise RuntimeError(f"in-process login of {email} answered {response.status_code}")


def count_queries(db_url: str, logins: dict[str, str], paths: dict[str, tuple]) -> dict:
    """Statements each page sends, from one in-process request by the page's person (each
    request in an app context of its own, as under gunicorn)."""
    from sqlalchemy import event

    from portal import create_app
    from portal.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": make_url(db_url)
            .set(drivername="postgresql+psycopg")
            .render_as_string(hide_password=False),
            "SECRET_KEY": SECRET,
            "MAIL_DELIVER_AFTER_COMMIT": False,
        }
    )
    statements: list[str] = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    clients = {}
    counts = {}
    for name, (path, who) in paths.items():
        if who not in clients:
            clients[who] = app.test_client()
            if who is not None:
                _in_process_login(clients[who], logins[who])
        client = clients[who]
        client.get(path)  # warm: first-use statements are not the page's
        statements.clear()
        response = client.get(path)
        counts[name] = (len(statements), response.status_code)
    return counts


# ---------------------------------------------------------------------------- main ---
def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--only", default="", help='page names, separated by "," (or by ";" when one has a comma)'
    )
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--output", default=str(ROOT / "docs" / "bench.md"))
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2

    from portal import scale

    db_url = bench_database(args.reseed)
    with psycopg.connect(libpq(db_url)) as conn:
        org = conn.execute("SELECT id FROM accounts WHERE name = %s", (scale.BIG_ORG,)).fetchone()[
            0
        ]
        owner_id = conn.execute(
            "SELECT id FROM users WHERE email = %s", (scale.OWNER_EMAIL,)
        ).fetchone()[0]
        ctx = {"org": org, "owner_id": owner_id}
        # Names with a comma ("audit log, deep"): separate them with ";" instead.
        wanted = {w.strip() for w in args.only.split(";" if ";" in args.only else ",")}
        pages = [p for p in PAGES if not args.only or p.name in wanted]
        paths = {}
        for page in pages:
            path = page.path.format(**ctx)
            if page.query is not None:
                path += page.query(conn, ctx)
            paths[page.name] = (path, page.who)

    env = {
        **os.environ,
        "DATABASE_URL": libpq(db_url),
        "SECRET_KEY": SECRET,
        "FLASK_APP": "wsgi",
        "MAIL_DELIVER_AFTER_COMMIT": "false",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    logins = {"owner": scale.OWNER_EMAIL, "viewer": scale.VIEWER_EMAIL, "admin": scale.ADMIN_EMAIL}
    results: dict[str, Result] = {}
    floors: list[float] = []
    with gunicorn("tests.bench.hello:app", env) as hello, gunicorn("wsgi:app", env) as portal:
        cookies: dict[str, str | None] = {None: None}
        for who, email in logins.items():
            cookies[who] = log_in(portal, email, scale.PASSWORD)
        for name, (path, who) in paths.items():
            status = fetch(portal, path, cookies[who])
            if status != 200:
                raise RuntimeError(f"{name}: {path} answered {status}, not 200")
        wrk(hello + "/", None, 2, args.connections)  # warm-up
        floors.append(wrk(hello + "/", None, args.seconds, args.connections).rps)
        print(f"  floor (hello): {floors[-1]:.0f} requests/s", flush=True)
        for name, (path, who) in paths.items():
            wrk(portal + path, cookies[who], 2, args.connections)  # warm-up
            results[name] = wrk(portal + path, cookies[who], args.seconds, args.connections)
            print(f"  {name}: {results[name].rps:.0f} requests/s", flush=True)
        floors.append(wrk(hello + "/", None, args.seconds, args.connections).rps)
        print(f"  floor (hello): {floors[-1]:.0f} requests/s", flush=True)
    queries = count_queries(db_url, logins, paths)

    floor = min(floors)
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}; gunicorn 2 sync "
        f"workers, wrk {args.connections} connections × {args.seconds} s per page; floor (bare "
        f"Flask hello, same server): {statistics.mean(floors):.0f} requests/s "
        f"({' / '.join(f'{f:.0f}' for f in floors)} before / after).",
        "",
        "| page | requests/s | ratio to floor | p50 ms | p99 ms | queries | deep ÷ page 1 | goal |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    failures = 0
    for page in pages:
        r = results[page.name]
        ratio = r.rps / floor
        deep = ""
        ok = ratio >= GOAL_RATIO and r.p99 <= GOAL_P99_MS and r.errors == 0
        if page.deep_of and page.deep_of in results:
            cost = results[page.deep_of].rps / r.rps
            deep = f"{cost:.2f}"
            ok = ok and cost <= 1.2
        failures += not ok
        n, status = queries[page.name]
        if status != 200:
            raise RuntimeError(f"{page.name}: the in-process request answered {status}")
        lines.append(
            f"| {page.name} | {r.rps:.0f} | {ratio:.3f} | {r.p50:.1f} | {r.p99:.1f} | "
            f"{n} | {deep} | {'✓' if ok else '✗'} |"
        )
    table = "\n".join(lines)
    print()
    print(table)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text("# `make bench`: every page over HTTP at scale\n\n" + table + "\n")
    print(f"\n{failures} page(s) below the goal; table written to {args.output}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
