"""indexes for /admin/accounts: newest first, all or by status

The admin organizations page pages through accounts newest first with a keyset cursor on
(created_at, id), optionally filtered by status (the review queue is ?status=pending).
Without an index each page sorts the whole accounts table.

- ix_accounts_created_at_id: the unfiltered list, read in index order.
- ix_accounts_status_created_at_id: the list filtered by status, one range scan per page.

Built CONCURRENTLY like 0010/0011 (the table stays writable; no timeouts, so an interrupted
build never leaves an INVALID index; IF NOT EXISTS makes a re-run continue).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-24
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_accounts_created_at_id": "accounts (created_at DESC, id DESC)",
    "ix_accounts_status_created_at_id": "accounts (status, created_at DESC, id DESC)",
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
