"""buckets and access keys: created only while the account is active; a suspended
account is read-only

DOMAIN.md, "States": "Buckets and keys can be created only while active; a suspended
account is read-only." Services check it first (for a clear message); this trigger is the
guarantee against a bug or a hand-written statement.

- INSERT into buckets or access_keys needs the account's status to be 'active'.
- UPDATE of a bucket or key of a 'suspended' account is refused, with one exception: an
  access key may still be switched off (status → inactive or revoked, nothing else
  changed), because cutting a credential off is what one does to a suspended customer.
- DELETE is left to the services: the ON DELETE CASCADE from accounts must keep working.
- ``buckets_account_id_immutable`` / ``access_keys_account_id_immutable``
  (forbid_change('account_id') from 0004): a bucket or key never moves to another
  account. Without them an UPDATE of account_id would create a bucket in a pending or
  approved account (the check above reads the *new* account) or take a suspended
  account's bucket out of its read-only state.

The trigger reads the account row FOR SHARE: a suspension (UPDATE accounts) waits for a
transaction that is creating a bucket, and that transaction sees the account's status as
of its own lock, so "created while active" holds at commit.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

FUNCTION = r"""
CREATE FUNCTION enforce_account_writable() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rule       text := TG_TABLE_NAME || '_account_writable';
    acc_status text;
    unchanged  text[] := ARRAY['status', 'revoked_at', 'updated_at'];
BEGIN
    SELECT status INTO acc_status FROM accounts WHERE id = NEW.account_id FOR SHARE;
    IF acc_status IS NULL THEN
        RETURN NEW;  -- no such account: the foreign key refuses the row with its own error
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF acc_status <> 'active' THEN
            RAISE EXCEPTION '%: account % is %, not active; % rows are created only while it is active',
                rule, NEW.account_id, acc_status, TG_TABLE_NAME
                USING ERRCODE = 'check_violation', CONSTRAINT = rule,
                      SCHEMA = TG_TABLE_SCHEMA, TABLE = TG_TABLE_NAME;
        END IF;
        RETURN NEW;
    END IF;
    IF acc_status = 'suspended' AND to_jsonb(NEW) IS DISTINCT FROM to_jsonb(OLD) THEN
        IF TG_TABLE_NAME = 'access_keys'
           AND to_jsonb(NEW) ->> 'status' IN ('inactive', 'revoked')
           AND (to_jsonb(NEW) - unchanged) = (to_jsonb(OLD) - unchanged) THEN
            RETURN NEW;  -- switching a key off stays possible
        END IF;
        RAISE EXCEPTION '%: account % is suspended and read-only (% %)',
            rule, NEW.account_id, TG_TABLE_NAME, OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = rule,
                  SCHEMA = TG_TABLE_SCHEMA, TABLE = TG_TABLE_NAME;
    END IF;
    RETURN NEW;
END
$$
"""
TABLES = ("buckets", "access_keys")


def upgrade():
    # CREATE TRIGGER takes a SHARE ROW EXCLUSIVE lock for an instant; waiting behind a long
    # transaction would queue every write behind it, so give up after 5 s (and retry).
    op.execute("SET lock_timeout = '5s'")
    op.execute("SET statement_timeout = '30s'")
    op.execute(FUNCTION)
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_account_writable BEFORE INSERT OR UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION enforce_account_writable()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_account_id_immutable BEFORE UPDATE ON {table} "
            "FOR EACH ROW WHEN (OLD.account_id IS DISTINCT FROM NEW.account_id) "
            "EXECUTE FUNCTION forbid_change('account_id')"
        )
    op.execute("RESET statement_timeout")
    op.execute("RESET lock_timeout")


def downgrade():
    for table in reversed(TABLES):
        op.execute(f"DROP TRIGGER {table}_account_id_immutable ON {table}")
        op.execute(f"DROP TRIGGER {table}_account_writable ON {table}")
    op.execute("DROP FUNCTION enforce_account_writable()")
