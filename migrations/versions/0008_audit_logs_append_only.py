"""audit_logs is append-only: UPDATE and DELETE are refused

Why this object exists: DOMAIN.md integrity rule 7 ("audit_logs rows are never updated or
deleted"). ``audit_logs_append_only()`` is a BEFORE UPDATE OR DELETE trigger FOR EACH
STATEMENT: the statement is refused before it touches a row (one call per statement, not
per row). Nothing cascades into audit_logs: its foreign keys are ON DELETE RESTRICT (0002).

TRUNCATE is deliberately left possible (no TRUNCATE trigger): it is the maintenance path
(e.g. archiving to cold storage, then emptying a partition or a test database), done by
the database owner. The production application's role must therefore NOT hold the
TRUNCATE privilege on audit_logs (grant it SELECT, INSERT only; the app never needs more).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

APPEND_ONLY = r"""
CREATE FUNCTION audit_logs_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_logs_append_only: audit_logs rows are never %d', lower(TG_OP)
        USING ERRCODE = 'check_violation', CONSTRAINT = 'audit_logs_append_only',
              TABLE = 'audit_logs';
END
$$
"""


def upgrade():
    # CREATE TRIGGER locks the table: give up rather than queue behind a long transaction.
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("SET LOCAL statement_timeout = '1min'")
    op.execute(APPEND_ONLY)
    op.execute(
        "CREATE TRIGGER audit_logs_append_only BEFORE UPDATE OR DELETE ON audit_logs "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_logs_append_only()"
    )


def downgrade():
    op.execute("DROP TRIGGER audit_logs_append_only ON audit_logs")
    op.execute("DROP FUNCTION audit_logs_append_only()")
