"""indexes for an account's billing and quota pages and for foreign keys that cascade

Reviewed against DOMAIN.md's common queries and the pages that read by account. The four
starting indexes (0002) already serve "accounts with member counts" (the unique
(account_id, user_id) index counts members per account; ix_account_members_user_id finds
"my accounts"), "buckets with their lifecycle rules" (buckets(account_id); note that
uq_buckets_account_id_name also leads with account_id, so ix_buckets_account_id is kept
only because DOMAIN.md names it), keyset audit pagination and "notifications unread
first". tests/db/test_indexes.py checks those plans. What was missing, each a query that
otherwise reads the whole table:

- ix_subscriptions_account_id: the billing page lists an account's subscriptions of every
  status; the only index leading with account_id is the partial unique one on active
  subscriptions, useless for cancelled rows and for the RESTRICT check when an account is
  deleted.
- ix_invoices_account_id_period_start: the billing page lists an account's invoices by
  period (newest first, a backward scan), void ones included; the unique index is partial
  (status <> 'void').
- ix_quota_requests_account_id_created_at: /accounts/<id>/quotas lists an account's
  requests, newest first; the unique index only covers pending ones. Also serves the
  ON DELETE CASCADE from accounts.
- ix_usage_records_bucket_id (partial, bucket_id IS NOT NULL): deleting a bucket sets
  usage_records.bucket_id to NULL (ON DELETE SET NULL); without an index every bucket
  deletion scans usage_records, the largest table, while holding its locks.
- ix_notifications_account_id (partial, account_id IS NOT NULL): the ON DELETE CASCADE from
  accounts; the other notification indexes lead with user_id.

All are built CONCURRENTLY (outside the migration transaction, in an autocommit block) so
the tables stay writable while they are built; IF NOT EXISTS lets a re-run continue after
an interruption (an interrupted CONCURRENTLY build leaves an INVALID index: drop it and
re-run). Downgrade drops them CONCURRENTLY too. Timeouts: none, on purpose
(``SET statement_timeout = 0``, ``SET lock_timeout = 0`` for the session, reset after): a
concurrent build takes SHARE UPDATE EXCLUSIVE, which does not conflict with reads or writes,
so waiting in the lock queue or building for a long time blocks no request, whereas a
timeout would abort the build halfway and leave an INVALID index behind.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_subscriptions_account_id": "subscriptions (account_id)",
    "ix_invoices_account_id_period_start": "invoices (account_id, period_start)",
    "ix_quota_requests_account_id_created_at": "quota_requests (account_id, created_at)",
    "ix_usage_records_bucket_id": "usage_records (bucket_id) WHERE bucket_id IS NOT NULL",
    "ix_notifications_account_id": "notifications (account_id) WHERE account_id IS NOT NULL",
}


def upgrade():
    with op.get_context().autocommit_block():
        op.execute("SET statement_timeout = 0")
        op.execute("SET lock_timeout = 0")
        for name, definition in INDEXES.items():
            op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")
        op.execute("RESET lock_timeout")
        op.execute("RESET statement_timeout")


def downgrade():
    with op.get_context().autocommit_block():
        op.execute("SET statement_timeout = 0")
        op.execute("SET lock_timeout = 0")
        for name in reversed(INDEXES):
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        op.execute("RESET lock_timeout")
        op.execute("RESET statement_timeout")
