"""buckets: an index for the bucket list (by name, byte order, per account)

/accounts/<id>/buckets lists an account's buckets by name, keyset-paged (``name > :last``)
and searched by name prefix (``name >= :q AND name < :q_next``), as S3 lists buckets: in
byte order. The comparisons use ``COLLATE "C"`` so the order and the prefix range do not
depend on the database's collation (with en_US, ``a-b`` sorts between ``ab`` and ``ac``;
with anything but "C", a btree cannot serve a prefix range). uq_buckets_account_id_name
(0002) uses the database's default collation, so it serves neither where that is not "C".

- ix_buckets_account_id_name_c ON buckets (account_id, name COLLATE "C"): every page and
  every prefix search is one range scan of it, whatever the page's depth
  (tests/db/test_query_plans.py checks the plan at 10,000 buckets in one organization).

Built CONCURRENTLY like 0010/0011/0014 (the table stays writable; no timeouts, so an
interrupted build never leaves an INVALID index; IF NOT EXISTS makes a re-run continue).
Nothing is deleted by this revision; ON DELETE of buckets is unchanged (CASCADE from
accounts, 0002).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-26
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_buckets_account_id_name_c": 'buckets (account_id, name COLLATE "C")',
}


def _run(statements):
    with op.get_context().autocommit_block():
        op.execute("SET statement_timeout = 0")
        op.execute("SET lock_timeout = 0")
        for statement in statements:
            op.execute(statement)
        op.execute("RESET lock_timeout")
        op.execute("RESET statement_timeout")


def upgrade():
    _run([f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {n} ON {d}" for n, d in INDEXES.items()])


def downgrade():
    _run([f"DROP INDEX CONCURRENTLY IF EXISTS {n}" for n in reversed(INDEXES)])
