"""quota requests: the granted value (staff may grant less than was asked), and indexes for
the customer's history and the staff review queue

Why: a platform admin approves a quota request with a granted value that may be lower than
the value asked for (Google Cloud's quota preferences do the same), and the quota must rise
to what was *granted*, in the same transaction, whoever approves (admin page, CLI, SQL).

Objects
- ``quota_requests.granted_value`` (bigint, NULL): what an approval granted. NULL while
  pending and for rejected requests. Requests approved before this revision keep NULL: the
  old trigger raised the quota to the requested value, so for them "granted" is
  ``requested_value`` (``QuotaRequest.granted`` reads it that way); no backfill needed.
- ``ck_quota_requests_granted_value_decided``: a granted value exists only on an approved
  request, is positive and never above what was asked. (Whether it exceeds the account's
  current quota is the service's rule, which has the message; the trigger below never lowers
  a quota whatever it is given.)
- ``quota_requests_grant_default()`` (BEFORE UPDATE pending -> approved with no granted
  value): the granted value defaults to the requested one, so an approval written by hand
  (or by an older caller) records what it granted, and the CHECK above always holds.
- ``quota_requests_apply_approval()`` (the AFTER UPDATE trigger function of 0004) now raises
  the quota to GREATEST(current quota, granted_value). Still never lowers a quota.
- ``quota_requests_decision_final`` (0004) now also freezes ``granted_value`` once the
  request is decided: an approved request keeps the value it granted.

Indexes (the lists read them in order; tests/db/test_query_plans.py checks the plans)
- ``ix_quota_requests_account_id_created_at_id``: /accounts/<id>/quotas' history, newest
  first, keyset on (created_at, id). Replaces ``ix_quota_requests_account_id_created_at``
  (0010), which lacked the id tie-breaker (every page would sort); it still serves the
  ON DELETE CASCADE from accounts.
- ``ix_quota_requests_pending_created_at_id`` (partial, pending): the review queue, oldest
  first. Replaces ``ix_quota_requests_pending_created_at`` (0002), for the same reason.
- ``ix_quota_requests_decided_reviewed_at_id`` (partial, decided): the queue's second part,
  the decided requests, most recently decided first.

ON DELETE: unchanged (deleting an account removes its quota requests, 0002).

Locking: the column and the CHECK (NOT VALID) are catalog-only changes under a short
ACCESS EXCLUSIVE lock (``lock_timeout`` 5 s: give up rather than queue writes behind a long
transaction). The CHECK is validated in a transaction of its own (SHARE UPDATE EXCLUSIVE:
reads and writes continue). Indexes are built and dropped CONCURRENTLY outside any
transaction, without timeouts (see 0010 for why), IF [NOT] EXISTS so a re-run continues.

squawk: ``prefer-robust-stmts`` is ignored on the ADD CONSTRAINT ... NOT VALID and VALIDATE
statements (as in 0009): each runs inside a transaction that rolls back on failure.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

SQUAWK_IGNORE = "-- squawk-ignore prefer-robust-stmts\n"
CHECK_NAME = "ck_quota_requests_granted_value_decided"
CHECK = (
    "granted_value IS NULL OR (status = 'approved' AND granted_value BETWEEN 1 AND requested_value)"
)

GRANT_DEFAULT = r"""
CREATE OR REPLACE FUNCTION quota_requests_grant_default() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.granted_value := coalesce(NEW.granted_value, NEW.requested_value);
    RETURN NEW;
END
$$
"""

APPLY_GRANTED = r"""
CREATE OR REPLACE FUNCTION quota_requests_apply_approval() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE accounts
       SET quota_buckets = CASE WHEN NEW.resource = 'buckets'
                                THEN greatest(quota_buckets, NEW.granted_value)
                                ELSE quota_buckets END,
           quota_storage_gb = CASE WHEN NEW.resource = 'storage_gb'
                                   THEN greatest(quota_storage_gb, NEW.granted_value)
                                   ELSE quota_storage_gb END,
           quota_access_keys = CASE WHEN NEW.resource = 'access_keys'
                                    THEN greatest(quota_access_keys, NEW.granted_value)
                                    ELSE quota_access_keys END
     WHERE id = NEW.account_id;
    RETURN NULL;
END
$$
"""

# 0004's body, verbatim (the downgrade restores exactly what this revision found).
APPLY_REQUESTED = r"""
CREATE OR REPLACE FUNCTION quota_requests_apply_approval() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE accounts
       SET quota_buckets = CASE WHEN NEW.resource = 'buckets'
                                THEN greatest(quota_buckets, NEW.requested_value)
                                ELSE quota_buckets END,
           quota_storage_gb = CASE WHEN NEW.resource = 'storage_gb'
                                   THEN greatest(quota_storage_gb, NEW.requested_value)
                                   ELSE quota_storage_gb END,
           quota_access_keys = CASE WHEN NEW.resource = 'access_keys'
                                    THEN greatest(quota_access_keys, NEW.requested_value)
                                    ELSE quota_access_keys END
     WHERE id = NEW.account_id;
    RETURN NULL;
END
$$
"""

DECISION_FINAL_NEW = (
    "CREATE TRIGGER quota_requests_decision_final BEFORE UPDATE ON quota_requests "
    "FOR EACH ROW WHEN (OLD.status <> 'pending' "
    "AND (OLD.requested_value IS DISTINCT FROM NEW.requested_value "
    "OR OLD.granted_value IS DISTINCT FROM NEW.granted_value)) "
    "EXECUTE FUNCTION forbid_change('requested_value', 'granted_value')"
)
# 0004's trigger, verbatim.
DECISION_FINAL_OLD = (
    "CREATE TRIGGER quota_requests_decision_final BEFORE UPDATE ON quota_requests "
    "FOR EACH ROW WHEN (OLD.status <> 'pending' "
    "AND OLD.requested_value IS DISTINCT FROM NEW.requested_value) "
    "EXECUTE FUNCTION forbid_change('requested_value')"
)

NEW_INDEXES = {
    "ix_quota_requests_account_id_created_at_id": "quota_requests (account_id, created_at, id)",
    "ix_quota_requests_pending_created_at_id": (
        "quota_requests (created_at, id) WHERE status = 'pending'"
    ),
    "ix_quota_requests_decided_reviewed_at_id": (
        "quota_requests (reviewed_at, id) WHERE status <> 'pending'"
    ),
}
OLD_INDEXES = {
    "ix_quota_requests_account_id_created_at": "quota_requests (account_id, created_at)",
    "ix_quota_requests_pending_created_at": "quota_requests (created_at) WHERE status = 'pending'",
}


def _concurrently(statements):
    with op.get_context().autocommit_block():
        op.execute("SET statement_timeout = 0")
        op.execute("SET lock_timeout = 0")
        for statement in statements:
            op.execute(statement)
        op.execute("RESET lock_timeout")
        op.execute("RESET statement_timeout")


def _create(indexes):
    return [f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {n} ON {d}" for n, d in indexes.items()]


def _drop(indexes):
    return [f"DROP INDEX CONCURRENTLY IF EXISTS {n}" for n in indexes]


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("SET LOCAL statement_timeout = '1min'")
    op.execute("ALTER TABLE quota_requests ADD COLUMN IF NOT EXISTS granted_value bigint")
    op.execute(
        f"{SQUAWK_IGNORE}ALTER TABLE quota_requests ADD CONSTRAINT {CHECK_NAME} "
        f"CHECK ({CHECK}) NOT VALID"
    )
    op.execute(GRANT_DEFAULT)
    op.execute(
        "CREATE OR REPLACE TRIGGER quota_requests_grant_default BEFORE UPDATE ON quota_requests "
        "FOR EACH ROW WHEN (OLD.status = 'pending' AND NEW.status = 'approved' "
        "AND NEW.granted_value IS NULL) EXECUTE FUNCTION quota_requests_grant_default()"
    )
    op.execute(APPLY_GRANTED)
    op.execute("DROP TRIGGER IF EXISTS quota_requests_decision_final ON quota_requests")
    op.execute(DECISION_FINAL_NEW)
    with op.get_context().autocommit_block():
        op.execute("BEGIN")
        op.execute("SET LOCAL lock_timeout = '5s'")
        op.execute("SET LOCAL statement_timeout = '30min'")
        op.execute(f"{SQUAWK_IGNORE}ALTER TABLE quota_requests VALIDATE CONSTRAINT {CHECK_NAME}")
        op.execute("COMMIT")
    _concurrently([*_create(NEW_INDEXES), *_drop(OLD_INDEXES)])


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("SET LOCAL statement_timeout = '1min'")
    op.execute("DROP TRIGGER IF EXISTS quota_requests_decision_final ON quota_requests")
    op.execute(DECISION_FINAL_OLD)
    op.execute(APPLY_REQUESTED)
    op.execute("DROP TRIGGER IF EXISTS quota_requests_grant_default ON quota_requests")
    op.execute("DROP FUNCTION IF EXISTS quota_requests_grant_default()")
    op.execute(f"ALTER TABLE quota_requests DROP CONSTRAINT IF EXISTS {CHECK_NAME}")
    op.execute("ALTER TABLE quota_requests DROP COLUMN IF EXISTS granted_value")
    _concurrently([*_create(OLD_INDEXES), *_drop(NEW_INDEXES)])
