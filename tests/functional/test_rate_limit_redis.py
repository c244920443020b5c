"""Rate limits with several worker processes: with Redis (what production requires) they
share one count; with ``memory://`` each process counts alone, so two workers double every
limit (issue 13, item 5).

Each "worker" is a real gunicorn process serving the portal on its own port; the test
alternates failed logins between them. The test starts its own ``redis-server`` on a free
port (nothing saved to disk). It never skips: without Debian's redis-server it fails and
says how to install it (``make test`` and ``.ci/run`` install it when they can).
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET = "a-shared-secret-key-for-both-workers-0123456789"
LIMIT = 3  # failed logins per email per 5 minutes, in this test


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(check, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} did not come up within {timeout:.0f} s")


@pytest.fixture(scope="module")
def redis_url():
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "Debian's redis-server is not installed: apt-get install -y redis-server "
            "(`make test` and .ci/run install it when they run as root)"
        )
    port = _free_port()
    proc = subprocess.Popen(  # noqa: S603
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def answers() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    try:
        _wait(answers, "redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def database_url(databases):
    url = databases.create("ratelimit")
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "wsgi"}
    env.pop("PORTAL_ENV", None)
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "flask", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return url


class Worker:
    """One gunicorn process serving the portal on its own port."""

    def __init__(self, env: dict[str, str]):
        self.port = _free_port()
        self.proc = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                "1",
                "--bind",
                f"127.0.0.1:{self.port}",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        _wait(self._healthy, f"gunicorn on port {self.port}")

    def _healthy(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(self.proc.stderr.read().decode(errors="replace"))
        try:
            return self.request("GET", "/healthz")[0] == 200
        except OSError:
            return False

    def request(self, method: str, path: str, body: str = "", cookie: str = ""):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"Accept-Language": "en"}
        if cookie:
            headers["Cookie"] = cookie
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body or None, headers=headers)
        response = conn.getresponse()
        data = response.read().decode()
        cookies = response.headers.get_all("Set-Cookie") or []
        conn.close()
        return response.status, data, cookies

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stderr.close()


def _workers(database_url: str, **env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in ("PORTAL_ENV", "FLASK_ENV")}
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=SECRET,
        LOGIN_LIMIT_PER_EMAIL=f"{LIMIT} per 5 minutes",
        LOGIN_LIMIT_PER_IP="1000 per 5 minutes",
        **env_overrides,
    )
    return Worker(env), Worker(env)


def _failed_logins(a: Worker, b: Worker, email: str, count: int) -> list[int]:
    """``count`` wrong-password logins for ``email``, alternating between the workers, in
    one browser session (the session cookie is signed with the shared secret)."""
    from urllib.parse import urlencode

    status, html, cookies = a.request("GET", "/login")
    assert status == 200
    cookie = "; ".join(c.split(";", 1)[0] for c in cookies)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    body = urlencode({"email": email, "password": "wrong password!", "csrf_token": token})
    return [
        (a if n % 2 == 0 else b).request("POST", "/login", body, cookie)[0] for n in range(count)
    ]


def test_with_redis_two_workers_share_one_count(redis_url, database_url):
    a, b = _workers(database_url, PORTAL_ENV="production", RATELIMIT_STORAGE_URI=redis_url)
    try:
        statuses = _failed_logins(a, b, "shared.count@example.com", LIMIT + 2)
    finally:
        a.stop()
        b.stop()
    # Three failures in total (two on one worker, one on the other), then both refuse.
    assert statuses == [422] * LIMIT + [429, 429]


def test_with_memory_each_worker_counts_alone(database_url):
    """Why production refuses memory:// (tests/unit/test_config.py checks the refusal)."""
    a, b = _workers(database_url, RATELIMIT_STORAGE_URI="memory://")
    try:
        statuses = _failed_logins(a, b, "per.worker@example.com", LIMIT + 2)
    finally:
        a.stop()
        b.stop()
    # Five failures in total and no refusal: each worker has seen at most three.
    assert statuses == [422] * (LIMIT + 2)
