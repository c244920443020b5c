"""indexes for the audit log's filters and the admin home's failed-email count

Measured, not guessed: with only (account_id, created_at DESC, id DESC), a filter on an
action that is rare in an account's history walks the account's whole history backwards
until it has found a page (or reads it all when the action never occurs: a Seq Scan plus a
Sort at 65k rows, 10.8 ms, growing with the table). tests/db/test_query_plans.py checks
the plans below; `make bench` times them.

- ix_audit_logs_account_id_action_created_at_id: /accounts/<id>/audit?action=… — one
  range scan per page, in page order, whatever the action's frequency.
- ix_audit_logs_action_created_at_id: the same filter on /admin/audit (every account).
- ix_audit_logs_account_id_actor_id_created_at_id replaces
  ix_audit_logs_account_id_actor_id_created_at (0002): without id as the last column the
  keyset cursor (created_at, id) could not be sought in it, so the "who" filter sorted.
- ix_audit_logs_actor_id_created_at_id: /admin/audit filtered by a person across every
  account, and the ON DELETE RESTRICT check of audit_logs.actor_id when a user is deleted
  (without it that check reads the whole audit table).
- ix_email_outbox_failed (partial, status = 'failed'): the admin home counts failed
  emails; sent rows are the bulk of the table and are never counted.

Built CONCURRENTLY like 0010 (same reasons: the tables stay writable; no timeouts, so an
interrupted build never leaves an INVALID index behind; IF NOT EXISTS makes a re-run
continue). The replaced index is dropped only after its successor exists.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_audit_logs_account_id_action_created_at_id": (
        "audit_logs (account_id, action, created_at DESC, id DESC)"
    ),
    "ix_audit_logs_action_created_at_id": "audit_logs (action, created_at DESC, id DESC)",
    "ix_audit_logs_account_id_actor_id_created_at_id": (
        "audit_logs (account_id, actor_id, created_at DESC, id DESC)"
    ),
    "ix_audit_logs_actor_id_created_at_id": "audit_logs (actor_id, created_at DESC, id DESC)",
    "ix_email_outbox_failed": "email_outbox (id) WHERE status = 'failed'",
}
REPLACED = {
    "ix_audit_logs_account_id_actor_id_created_at": (
        "audit_logs (account_id, actor_id, created_at DESC)"
    ),
}


def _build(statements):
    with op.get_context().autocommit_block():
        op.execute("SET statement_timeout = 0")
        op.execute("SET lock_timeout = 0")
        for statement in statements:
            op.execute(statement)
        op.execute("RESET lock_timeout")
        op.execute("RESET statement_timeout")


def upgrade():
    _build(
        [f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {n} ON {d}" for n, d in INDEXES.items()]
        + [f"DROP INDEX CONCURRENTLY IF EXISTS {n}" for n in REPLACED]
    )


def downgrade():
    _build(
        [f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {n} ON {d}" for n, d in REPLACED.items()]
        + [f"DROP INDEX CONCURRENTLY IF EXISTS {n}" for n in reversed(INDEXES)]
    )
