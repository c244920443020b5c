"""access keys are never deleted on their own: revocation is final

DOMAIN.md: "either → revoked, which is final", and key_id "never changes". Deleting a
revoked key and inserting a new row with the same key_id would bring the credential back,
so a key row is never deleted by a statement of its own; keys are revoked and kept as a
record. Only the ON DELETE CASCADE from a deleted account removes them: that DELETE runs
inside the foreign key's trigger, so pg_trigger_depth() is above 1 there.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

FUNCTION = r"""
CREATE FUNCTION forbid_direct_key_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF pg_trigger_depth() <= 1 THEN
        RAISE EXCEPTION 'access_keys_never_deleted: access key % (%) is revoked, never deleted',
            OLD.id, OLD.key_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'access_keys_never_deleted',
                  SCHEMA = TG_TABLE_SCHEMA, TABLE = TG_TABLE_NAME;
    END IF;
    RETURN OLD;
END
$$
"""


def upgrade():
    # CREATE TRIGGER locks access_keys for an instant; do not queue writes behind a long
    # transaction (see 0012).
    op.execute("SET lock_timeout = '5s'")
    op.execute("SET statement_timeout = '30s'")
    op.execute(FUNCTION)
    op.execute(
        "CREATE TRIGGER access_keys_never_deleted BEFORE DELETE ON access_keys "
        "FOR EACH ROW EXECUTE FUNCTION forbid_direct_key_delete()"
    )
    op.execute(
        "CREATE TRIGGER access_keys_never_truncated BEFORE TRUNCATE ON access_keys "
        "FOR EACH STATEMENT EXECUTE FUNCTION forbid_direct_key_delete()"
    )
    op.execute("RESET statement_timeout")
    op.execute("RESET lock_timeout")


def downgrade():
    op.execute("DROP TRIGGER access_keys_never_truncated ON access_keys")
    op.execute("DROP TRIGGER access_keys_never_deleted ON access_keys")
    op.execute("DROP FUNCTION forbid_direct_key_delete()")
