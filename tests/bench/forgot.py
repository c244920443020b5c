"""Benchmark (not a test) of "forgot password" timing for a known and an unknown address:
``python -m tests.bench.forgot [--repeat N]`` (``make bench`` runs it too).

Creates a database of its own on DATABASE_URL's server (or the embedded one), migrates it,
adds one person, then sends ``--repeat`` interleaved POST /password/forgot requests (known,
unknown, known, ...) through the Flask test client and times each until its response is
returned — what the person waits for, and what an attacker measures. The work for a known
address (token, email, audit row) runs after the response, as a real server runs it after
sending; it is not in the timing. Prints medians and the median of the paired differences.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time

from tests.bench.run import libpq, server_url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30, help="requests per kind (default 30)")
    args = parser.parse_args(argv)

    import logging
    import uuid

    import psycopg
    from sqlalchemy.engine import make_url

    from portal import create_app
    from portal.extensions import db
    from portal.models import User
    from portal.users.services import hash_password

    server = server_url()
    name = f"portal_bench_forgot_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq(server), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": "bench",
                "MAIL_SERVER": "127.0.0.1",
                "MAIL_PORT": 1,  # nothing listens: deliveries fail fast and stay queued
                "MAIL_TIMEOUT": 0.2,
                "PASSWORD_FORGOT_LIMIT_PER_IP": "100000 per minute",
                "PASSWORD_FORGOT_LIMIT_PER_EMAIL": "100000 per minute",
            }
        )
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            db.session.add(
                User(email="known@example.com", name="Known", password_hash=hash_password("x" * 12))
            )
            db.session.commit()
        logging.getLogger("portal.mail").setLevel(logging.ERROR)  # the refused deliveries
        client = app.test_client()
        html = client.get("/password/forgot").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)

        def once(email: str) -> float:
            start = time.perf_counter()
            response = client.post(
                "/password/forgot",
                data={"email": email, "csrf_token": token},
                buffered=False,
            )
            elapsed = (time.perf_counter() - start) * 1000
            response.close()  # the deferred work runs here, outside the timing
            return elapsed

        for n in range(5):  # warm-up
            once("known@example.com" if n % 2 else "warm@example.com")
        known, unknown = [], []
        for n in range(args.repeat):
            known.append(once("known@example.com"))
            unknown.append(once(f"nobody{n}@example.com"))
        diffs = [k - u for k, u in zip(known, unknown, strict=True)]
        print(f"forgot password, {args.repeat} interleaved requests each (ms until the response)")
        print(f"  known address    median {statistics.median(known):6.2f}")
        print(f"  unknown address  median {statistics.median(unknown):6.2f}")
        print(f"  paired difference (known - unknown): median {statistics.median(diffs):+.2f}")
        with app.app_context():
            db.engine.dispose()
    finally:
        with psycopg.connect(libpq(server), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
