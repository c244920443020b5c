"""account_members: an index for the members page (keyset pages by joining date)

/accounts/<id>/members lists an organization's members 50 at a time, oldest member first,
keyset-paged on ``(created_at, id) > (:last_created_at, :last_id)``; the search (a part of
the name or the email) filters the same walk. Without an index that matches, every page
reads all the organization's memberships and sorts them; with it, a page is one range scan
whatever its depth (tests/db/test_query_plans.py checks the plan).

- ix_account_members_account_id_created_at_id ON account_members (account_id, created_at,
  id).

Built CONCURRENTLY like 0010/0016 (the table stays writable; no timeouts, so an interrupted
build never leaves an INVALID index; IF NOT EXISTS makes a re-run continue).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02
"""

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_account_members_account_id_created_at_id": "account_members (account_id, created_at, id)",
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
