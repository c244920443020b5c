"""every account has at least one owner at every commit

Why these objects exist: DOMAIN.md integrity rule 2 ("removing or demoting the last owner
fails, also when two requests race"). A CHECK cannot see other rows, so the rule is a
constraint trigger, DEFERRABLE INITIALLY DEFERRED: it runs at COMMIT, after every statement
of the transaction, so a transaction may demote one owner and promote another in any order
(and an account is created, then its first owner added) as long as the end state is right.

- ``account_has_owner()``: for the affected account, (1) locks the account row, then
  (2) refuses the commit if no owner is left; an account deleted in the same transaction
  (its memberships go with it, ON DELETE CASCADE) is skipped.
  The lock is what makes it correct under concurrency. Two transactions demoting two
  different owners of a two-owner account touch two different member rows, so nothing
  else makes them wait for each other, and each, looking at its own snapshot, still sees
  the other owner. Locking the account row at the check serializes them: the second waits
  until the first commits, and under READ COMMITTED its next statement sees that commit, so
  it finds no owner left and fails. The lock is taken with a no-op UPDATE
  (``SET status = status``) rather than SELECT ... FOR UPDATE for two reasons: under
  REPEATABLE READ a row that a concurrent, committed transaction only *locked* does not
  raise a serialization failure, but one it *updated* does, so the second transaction
  fails there too instead of checking a stale snapshot; and an UPDATE that changes no key
  column takes FOR NO KEY UPDATE, which does not block concurrent inserts of buckets, keys,
  etc. (their foreign-key checks take FOR KEY SHARE). The UPDATE changes no value and does
  not fire the accounts status trigger (its WHEN clause sees no status change).
- ``account_members_owner_required_update`` / ``..._delete``: on account_members, only
  when an owner row stops being one (WHEN OLD.role = 'owner' ...): an INSERT never removes
  an owner, so no INSERT trigger is needed on account_members; the account that gets its
  first owner is covered by the trigger on accounts.
- ``accounts_owner_required``: AFTER INSERT on accounts, so an account cannot be committed
  without an owner in the first place.
- ``account_members_no_truncate`` (AFTER TRUNCATE, per statement; TRUNCATE fires no row
  trigger): ``TRUNCATE account_members`` would leave every account without an owner, so it
  is refused while any account remains. ``TRUNCATE accounts, account_members ...`` (or
  ``TRUNCATE accounts CASCADE``) empties both and passes this check (an AFTER TRUNCATE
  trigger runs once every listed table is emptied).

Consequence worth knowing: deleting a user who is the last owner of an account fails at
commit (the membership cascades away) unless the account is deleted too, or another owner
is named first.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ACCOUNT_HAS_OWNER = r"""
CREATE FUNCTION account_has_owner() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    acct bigint;
BEGIN
    IF TG_TABLE_NAME = 'accounts' THEN
        acct := NEW.id;
    ELSE
        acct := OLD.account_id;
    END IF;
    -- Serialize with concurrent owner changes of this account (see the revision's notes).
    UPDATE accounts SET status = status WHERE id = acct;
    IF NOT FOUND THEN
        RETURN NULL;  -- the account itself was deleted in this transaction
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM account_members WHERE account_id = acct AND role = 'owner'
    ) THEN
        RAISE EXCEPTION 'account_members_owner_required: account % must keep at least one owner',
            acct
            USING ERRCODE = 'check_violation', CONSTRAINT = 'account_members_owner_required',
                  TABLE = 'account_members', COLUMN = 'role',
                  HINT = 'Make another member an owner first.';
    END IF;
    RETURN NULL;
END
$$
"""

NO_TRUNCATE = r"""
CREATE FUNCTION account_members_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM accounts) THEN
        RAISE EXCEPTION 'account_members_owner_required: TRUNCATE account_members would leave every account without an owner'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'account_members_owner_required',
                  TABLE = 'account_members';
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade():
    # CREATE TRIGGER locks the table: give up rather than queue behind a long transaction.
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("SET LOCAL statement_timeout = '1min'")
    op.execute(ACCOUNT_HAS_OWNER)
    op.execute(
        "CREATE CONSTRAINT TRIGGER account_members_owner_required_update "
        "AFTER UPDATE ON account_members DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
        "WHEN (OLD.role = 'owner' AND "
        "(NEW.role <> 'owner' OR NEW.account_id <> OLD.account_id)) "
        "EXECUTE FUNCTION account_has_owner()"
    )
    op.execute(
        "CREATE CONSTRAINT TRIGGER account_members_owner_required_delete "
        "AFTER DELETE ON account_members DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
        "WHEN (OLD.role = 'owner') "
        "EXECUTE FUNCTION account_has_owner()"
    )
    op.execute(
        "CREATE CONSTRAINT TRIGGER accounts_owner_required "
        "AFTER INSERT ON accounts DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
        "EXECUTE FUNCTION account_has_owner()"
    )
    op.execute(NO_TRUNCATE)
    op.execute(
        "CREATE TRIGGER account_members_no_truncate AFTER TRUNCATE ON account_members "
        "FOR EACH STATEMENT EXECUTE FUNCTION account_members_no_truncate()"
    )


def downgrade():
    op.execute("DROP TRIGGER account_members_no_truncate ON account_members")
    op.execute("DROP FUNCTION account_members_no_truncate()")
    op.execute("DROP TRIGGER accounts_owner_required ON accounts")
    op.execute("DROP TRIGGER account_members_owner_required_delete ON account_members")
    op.execute("DROP TRIGGER account_members_owner_required_update ON account_members")
    op.execute("DROP FUNCTION account_has_owner()")
