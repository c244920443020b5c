"""The migrations: every revision upgrades, downgrades and upgrades again; downgrading to
base leaves nothing behind; at head the database matches the models (no drift); the offline
SQL applies as is and passes squawk."""

from __future__ import annotations

import io
import subprocess
import sys
import tomllib
from pathlib import Path

import psycopg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import downgrade, upgrade

from portal.extensions import db
from tests.conftest import make_test_app
from tests.db.conftest import libpq_url

ROOT = Path(__file__).resolve().parents[2]
SQUAWK = Path(sys.executable).parent / "squawk"
SQUAWK_CONFIG = ROOT / ".squawk.toml"
# 0001 and 0002 create the tables they touch, in the same transaction (see .squawk.toml).
FRESH_TABLE_REVISIONS = {"0001", "0002"}
FRESH_TABLE_RULES = [
    "require-lock-timeout",
    "require-statement-timeout",
    "constraint-missing-not-valid",
    "adding-foreign-key-constraint",
]


def _config():
    return current_app.extensions["migrate"].migrate.get_config()


def _revisions() -> list[str]:
    """Revision ids, oldest first."""
    script = ScriptDirectory.from_config(_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def _drift() -> list:
    with db.engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), db.metadata)


def _user_objects(url: str) -> dict[str, list[str]]:
    with psycopg.connect(libpq_url(url)) as connection:

        def names(sql: str) -> list[str]:
            return sorted(row[0] for row in connection.execute(sql))

        return {
            "tables": names(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            ),
            "functions": names(
                "SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace"
            ),
            "triggers": names("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"),
            "sequences": names("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"),
        }


SCHEMA_QUERIES = {
    "columns": (
        "SELECT c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)"
        " || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END"
        " || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')"
        " || CASE WHEN a.attidentity::text <> '' THEN ' IDENTITY ' || a.attidentity::text ELSE '' END"
        " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
        " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
        " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'"
        " AND a.attnum > 0 AND NOT a.attisdropped"
    ),
    "constraints": (
        "SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)"
        " || CASE WHEN convalidated THEN '' ELSE ' NOT VALIDATED' END"
        " || CASE WHEN condeferrable THEN ' DEFERRABLE' ELSE '' END"
        " FROM pg_constraint WHERE connamespace = 'public'::regnamespace"
    ),
    "indexes": (
        "SELECT pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid THEN '' ELSE ' INVALID' END"
        " FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
        " WHERE c.relnamespace = 'public'::regnamespace"
    ),
    "functions": (
        "SELECT pg_get_functiondef(p.oid) || coalesce(obj_description(p.oid, 'pg_proc'), '')"
        " FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace"
    ),
    "triggers": (
        "SELECT pg_get_triggerdef(t.oid) || ' ' || t.tgenabled::text FROM pg_trigger t"
        " WHERE NOT t.tgisinternal"
    ),
}


def _schema_snapshot(url: str) -> dict[str, list[str]]:
    """Every object definition (and the invoice counter's row, written by a data revision),
    so a downgrade can be checked to restore exactly what the revision found."""
    with psycopg.connect(libpq_url(url)) as connection:
        snapshot = {
            kind: sorted(
                row[0] for row in connection.execute(sql) if "alembic_version" not in row[0]
            )
            for kind, sql in SCHEMA_QUERIES.items()
        }
        if connection.execute("SELECT to_regclass('invoice_number_counters')").fetchone()[0]:
            snapshot["invoice_number_counters"] = [
                repr(row)
                for row in connection.execute("SELECT * FROM invoice_number_counters ORDER BY id")
            ]
    return snapshot


@pytest.fixture(scope="module")
def fresh_app(databases):
    url = databases.create("migrations")
    app = make_test_app(url, smtp_port=1)
    yield app, url
    with app.app_context():
        db.engine.dispose()


def test_each_revision_downgrades_and_upgrades_again(fresh_app):
    app, url = fresh_app
    with app.app_context():
        previous = "base"
        for revision in _revisions():
            before = _schema_snapshot(url)
            upgrade(revision=revision)
            assert _schema_snapshot(url) != before, f"{revision} changes nothing"
            downgrade(revision=previous)
            assert _schema_snapshot(url) == before, f"{revision}'s downgrade leaves a difference"
            upgrade(revision=revision)
            previous = revision

        assert _drift() == []  # what `flask db check` checks

        downgrade(revision="base")
        db.engine.dispose()
        assert _user_objects(url) == {
            "tables": [],
            "functions": [],
            "triggers": [],
            "sequences": [],
        }

        upgrade()
        assert _drift() == []
        db.engine.dispose()
    objects = _user_objects(url)
    assert "invoice_number_counters" in objects["tables"]
    assert {"cnpj_is_valid", "account_has_owner", "enforce_state_machine"} <= set(
        objects["functions"]
    )


def _offline_sql(revision_range: str) -> str:
    config = _config()
    config.output_buffer = io.StringIO()
    command.upgrade(config, revision_range, sql=True)
    return config.output_buffer.getvalue()


def _squawk(paths: list[Path], extra_excludes: list[str]) -> subprocess.CompletedProcess:
    args = [str(SQUAWK), "--config", str(SQUAWK_CONFIG), "--reporter", "gcc"]
    if extra_excludes:
        # --exclude replaces the config's list, so repeat it.
        configured = tomllib.loads(SQUAWK_CONFIG.read_text())["excluded_rules"]
        args += ["--exclude", ",".join([*configured, *extra_excludes])]
    return subprocess.run(
        [*args, *map(str, paths)], capture_output=True, text=True, timeout=120, check=False
    )


def test_offline_sql_passes_squawk(fresh_app, tmp_path):
    app, _url = fresh_app
    with app.app_context():
        revisions = _revisions()
        files = {}
        previous = None
        for revision in revisions:
            span = revision if previous is None else f"{previous}:{revision}"
            files[revision] = tmp_path / f"{revision}.sql"
            files[revision].write_text(_offline_sql(span))
            previous = revision
        everything = tmp_path / "head.sql"
        everything.write_text(_offline_sql("head"))

    fresh = [files[r] for r in revisions if r in FRESH_TABLE_REVISIONS]
    later = [files[r] for r in revisions if r not in FRESH_TABLE_REVISIONS]
    assert len(later) >= 8

    # Revisions 0003+ each pass with only the repository's configuration.
    result = _squawk(later, [])
    assert result.returncode == 0, result.stdout + result.stderr
    # 0001/0002, and the whole upgrade as one script, with the fresh-table exclusions.
    result = _squawk([*fresh, everything], FRESH_TABLE_RULES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_offline_sql_builds_the_same_schema(fresh_app, databases):
    """`flask db upgrade --sql` output, run by hand as a DBA would, gives the schema the
    models describe (e.g. PL/pgSQL '%' placeholders are not doubled)."""
    app, _url = fresh_app
    with app.app_context():
        script = _offline_sql("head")
    target = databases.create("offline")
    # Alembic ends every statement with ";" and a blank line (and the statements' own text
    # has none), so this splits it as psql would run it: one statement at a time, the
    # script's BEGIN/COMMIT included, CREATE INDEX CONCURRENTLY outside any transaction.
    statements = [
        chunk
        for chunk in script.split(";\n\n")
        if any(line.strip() and not line.startswith("--") for line in chunk.splitlines())
    ]
    with psycopg.connect(libpq_url(target), autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)
        message = connection.execute(
            "SELECT prosrc FROM pg_proc WHERE proname = 'enforce_state_machine'"
        ).fetchone()[0]
    assert "%%" not in message
    other = make_test_app(target, smtp_port=1)
    with other.app_context():
        assert _drift() == []
        db.engine.dispose()
