"""access keys: permission, bucket scope, expiry bounds, expiry notices, the list's index

Why (issue 10): a key is read-only or read-write, and reaches every bucket of its
organization or only the buckets chosen for it; it may expire (within 1,000 days), and its
owners and admins are told once before and once when it expires.

Objects
- ``access_keys.permission`` ('read-only' | 'read-write', default 'read-write': the keys
  that exist before this revision could do everything) with ``ck_access_keys_permission_known``.
- ``access_keys.scope`` ('all' | 'buckets', default 'all') with ``ck_access_keys_scope_known``.
  'all': every bucket of the organization, present and future. 'buckets': only the buckets
  listed in ``access_key_buckets`` — possibly none.
- ``access_key_buckets`` (access_key_id, bucket_id, account_id; primary key on the pair):
  the buckets of a key scoped to buckets. Both foreign keys are composite with the account
  (``(access_key_id, account_id) → access_keys (id, account_id)``,
  ``(bucket_id, account_id) → buckets (id, account_id)``), so a key is never scoped to
  another organization's bucket; hence the unique constraints
  ``uq_access_keys_id_account_id`` and ``uq_buckets_id_account_id`` (built concurrently,
  then attached).
- ``ck_access_keys_expiry_within_1000_days``: an expiry is after the creation and at most
  1,000 days (and a day of slack for time zones) after it.
- ``access_key_notices`` (access_key_id, kind 'expiring' | 'expired', sent_at; primary key
  on the pair): what ``flask keys expiry-notices`` has already sent, so a daily run sends
  each notice once. A table of its own, not columns of access_keys: a suspended
  organization's keys are read-only (0012's trigger refuses any other change than
  switching them off), yet their owners are still told that a key expires.
- ``ix_access_keys_account_id_created_at_id``: the keys page, newest first, keyset on
  (created_at, id). Replaces ``ix_access_keys_account_id`` (0002), whose prefix it is (it
  still serves the ON DELETE CASCADE from accounts).

ON DELETE
- A bucket deleted: its ``access_key_buckets`` rows go with it (CASCADE); the key stays. A
  key whose last scoped bucket is deleted keeps ``scope = 'buckets'`` with an empty set: it
  reaches NO bucket (the page says "no bucket"), it never silently becomes an "all buckets"
  key. Editing its scope is the way to give it buckets again.
- A key is never deleted on its own (0013); when its account is deleted, the cascade
  removes its scope rows and notices too.

Locking: the columns carry constant defaults (catalog-only in PostgreSQL 11+); the CHECKs
are added NOT VALID and validated in a transaction of their own (SHARE UPDATE EXCLUSIVE:
reads and writes go on). Unique indexes and the list's index are built CONCURRENTLY outside
any transaction (see 0010, 0018), IF NOT EXISTS so a re-run continues; attaching a unique
index as a constraint is a catalog change under a short lock (``lock_timeout`` 5 s).

squawk: ``prefer-robust-stmts`` is ignored on the ADD CONSTRAINT ... NOT VALID / USING INDEX
and VALIDATE statements (as in 0009, 0018): each runs inside a transaction that rolls back
on failure. ``disallowed-unique-constraint`` is ignored on ADD CONSTRAINT ... USING INDEX:
that is the form the rule recommends (the index is already built concurrently).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

IGNORE = "-- squawk-ignore prefer-robust-stmts\n"
IGNORE_UNIQUE = "-- squawk-ignore prefer-robust-stmts,disallowed-unique-constraint\n"

CHECKS = {
    "ck_access_keys_permission_known": "permission IN ('read-only', 'read-write')",
    "ck_access_keys_scope_known": "scope IN ('all', 'buckets')",
    "ck_access_keys_expiry_within_1000_days": (
        "expires_at IS NULL OR (expires_at > created_at "
        "AND expires_at <= created_at + interval '1001 days')"
    ),
}
UNIQUES = {
    "uq_access_keys_id_account_id": ("access_keys", "(id, account_id)"),
    "uq_buckets_id_account_id": ("buckets", "(id, account_id)"),
}
NEW_INDEX = {"ix_access_keys_account_id_created_at_id": "access_keys (account_id, created_at, id)"}
OLD_INDEX = {"ix_access_keys_account_id": "access_keys (account_id)"}


def _concurrently(statements):
    with op.get_context().autocommit_block():
        op.execute("SET statement_timeout = 0")
        op.execute("SET lock_timeout = 0")
        for statement in statements:
            op.execute(statement)
        op.execute("RESET lock_timeout")
        op.execute("RESET statement_timeout")


def _create(indexes, unique=False):
    kind = "UNIQUE INDEX" if unique else "INDEX"
    return [f"CREATE {kind} CONCURRENTLY IF NOT EXISTS {n} ON {d}" for n, d in indexes.items()]


def _drop(indexes):
    return [f"DROP INDEX CONCURRENTLY IF EXISTS {n}" for n in indexes]


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("SET LOCAL statement_timeout = '1min'")
    op.execute(
        "ALTER TABLE access_keys ADD COLUMN IF NOT EXISTS permission varchar(16) "
        "DEFAULT 'read-write' NOT NULL"
    )
    op.execute(
        "ALTER TABLE access_keys ADD COLUMN IF NOT EXISTS scope varchar(16) DEFAULT 'all' NOT NULL"
    )
    for name, check in CHECKS.items():
        op.execute(
            f"{IGNORE}ALTER TABLE access_keys ADD CONSTRAINT {name} CHECK ({check}) NOT VALID"
        )
    with op.get_context().autocommit_block():
        op.execute("BEGIN")
        op.execute("SET LOCAL lock_timeout = '5s'")
        op.execute("SET LOCAL statement_timeout = '30min'")
        for name in CHECKS:
            op.execute(f"{IGNORE}ALTER TABLE access_keys VALIDATE CONSTRAINT {name}")
        op.execute("COMMIT")
    _concurrently(
        [
            *_create({n: f"{t} {cols}" for n, (t, cols) in UNIQUES.items()}, unique=True),
            *_create(NEW_INDEX),
            *_drop(OLD_INDEX),
        ]
    )
    with op.get_context().autocommit_block():
        op.execute("BEGIN")
        op.execute("SET LOCAL lock_timeout = '5s'")
        op.execute("SET LOCAL statement_timeout = '1min'")
        for name, (table, _cols) in UNIQUES.items():
            op.execute(
                f"{IGNORE_UNIQUE}ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE USING INDEX {name}"
            )
        op.execute("COMMIT")
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("SET LOCAL statement_timeout = '1min'")
    op.create_table(
        "access_key_buckets",
        sa.Column("access_key_id", sa.BigInteger(), nullable=False),
        sa.Column("bucket_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["access_key_id", "account_id"],
            ["access_keys.id", "access_keys.account_id"],
            name=op.f("fk_access_key_buckets_access_key_id_access_keys"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["bucket_id", "account_id"],
            ["buckets.id", "buckets.account_id"],
            name=op.f("fk_access_key_buckets_bucket_id_buckets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("access_key_id", "bucket_id", name=op.f("pk_access_key_buckets")),
    )
    # The cascade from a deleted bucket finds its rows by bucket.
    op.create_index("ix_access_key_buckets_bucket_id", "access_key_buckets", ["bucket_id"])
    op.create_table(
        "access_key_notices",
        sa.Column("access_key_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column(
            "sent_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "kind IN ('expiring', 'expired')", name=op.f("ck_access_key_notices_kind_known")
        ),
        sa.ForeignKeyConstraint(
            ["access_key_id"],
            ["access_keys.id"],
            name=op.f("fk_access_key_notices_access_key_id_access_keys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("access_key_id", "kind", name=op.f("pk_access_key_notices")),
    )
    op.execute("RESET statement_timeout")
    op.execute("RESET lock_timeout")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("SET LOCAL statement_timeout = '1min'")
    op.execute("DROP TABLE IF EXISTS access_key_notices")
    op.execute("DROP TABLE IF EXISTS access_key_buckets")
    for name, (table, _cols) in UNIQUES.items():
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")
    for name in CHECKS:
        op.execute(f"ALTER TABLE access_keys DROP CONSTRAINT IF EXISTS {name}")
    op.execute("ALTER TABLE access_keys DROP COLUMN IF EXISTS scope")
    op.execute("ALTER TABLE access_keys DROP COLUMN IF EXISTS permission")
    _concurrently([*_create(OLD_INDEX), *_drop(NEW_INDEX)])
