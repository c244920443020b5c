"""invoices: database-assigned sequential numbers, the status machine, never deleted

Why these objects exist (DOMAIN.md: "numbers are sequential and never reused"; invoices are
fiscal records):
- ``invoice_number_counters``: a one-row table holding the last number issued. A SEQUENCE
  would leave gaps (nextval is not rolled back with the transaction); a counter row updated
  in the inserting transaction is rolled back with it, so a failed or rolled-back insert
  gives its number back and the numbers have no gaps. The price: invoice inserts are
  serialized on that row until commit, which is fine for a few thousand invoices a month.
  The CHECK (id = 1) keeps it to one row. Its row is written by the next revision (0006,
  data).
- ``invoices_assign_number()`` (BEFORE INSERT): takes the next number with
  ``UPDATE ... SET last_number = last_number + 1 ... RETURNING``, which locks the row, so
  two transactions inserting invoices at the same time get consecutive numbers. A number
  supplied by the caller is refused: only the database numbers invoices. Then, holding
  that lock, it refuses an invoice for an account and period that already has a live
  (non-void) one, with the error uq_invoices_account_period would raise. Without this
  check ``INSERT ... ON CONFLICT DO NOTHING`` (or ``DO UPDATE``) would take a number in
  the BEFORE trigger, then skip the row, and commit: a gap. The check sees every
  committed invoice (the lock wait ends at the other transaction's commit and, under
  READ COMMITTED, the next query sees it; under REPEATABLE READ the counter UPDATE fails
  with a serialization error instead).
- ``invoice_number_counters_guard()`` (BEFORE INSERT OR UPDATE on the counter): the
  counter only ever moves by one (``last_number + 1``, what invoices_assign_number does),
  and a row (re)inserted must hold the highest number issued. So no hand-written UPDATE
  can open a gap or rewind the counter, and DELETE or TRUNCATE + INSERT give the same row
  back.
- ``invoices_number_immutable`` (BEFORE UPDATE, forbid_change('number') from 0004): a number,
  once given, stays.
- ``invoices_status_initial`` / ``invoices_status_transition`` (enforce_state_machine from
  0004): new = draft; draft>open, open>paid, draft>void, open>void.
- ``invoices_no_delete()`` (BEFORE DELETE, per statement): an invoice is voided, never
  deleted, so its number is never freed (and its lines, ON DELETE CASCADE from invoices,
  are kept). Accounts with invoices cannot be deleted anyway (ON DELETE RESTRICT, 0002).
  ``invoices_no_truncate`` (BEFORE TRUNCATE) calls it too: TRUNCATE fires no DELETE
  trigger, and ``TRUNCATE accounts CASCADE`` would otherwise empty invoices as well.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ASSIGN_NUMBER = r"""
CREATE FUNCTION invoices_assign_number() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.number IS NOT NULL THEN
        RAISE EXCEPTION 'invoices_number_assigned: invoice numbers are assigned by the database; do not supply one (got %)',
            NEW.number
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoices_number_assigned',
                  TABLE = 'invoices', COLUMN = 'number';
    END IF;
    UPDATE invoice_number_counters SET last_number = last_number + 1
     WHERE id = 1
    RETURNING last_number INTO NEW.number;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'invoices_number_assigned: invoice_number_counters has no row; run the migrations'
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    -- Holding the counter's lock: an ON CONFLICT insert must not consume a number.
    IF NEW.status IS DISTINCT FROM 'void' AND EXISTS (
        SELECT 1 FROM invoices
         WHERE account_id = NEW.account_id AND period_start = NEW.period_start
           AND status <> 'void'
    ) THEN
        RAISE EXCEPTION 'duplicate key value violates unique constraint "uq_invoices_account_period"'
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'uq_invoices_account_period',
                  TABLE = 'invoices',
                  DETAIL = format('Account %s already has an invoice for the period starting %s.',
                                  NEW.account_id, NEW.period_start);
    END IF;
    RETURN NEW;
END
$$
"""

COUNTER_GUARD = r"""
CREATE FUNCTION invoice_number_counters_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    issued bigint;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.id = OLD.id AND NEW.last_number = OLD.last_number + 1 THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'invoice_number_counters_sequential: the counter only moves from % to %, not to %',
            OLD.last_number, OLD.last_number + 1, NEW.last_number
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_number_counters_sequential',
                  TABLE = 'invoice_number_counters', COLUMN = 'last_number';
    END IF;
    SELECT coalesce(max(number), 0) INTO issued FROM invoices;
    IF NEW.last_number IS DISTINCT FROM issued THEN
        RAISE EXCEPTION 'invoice_number_counters_sequential: the counter starts at the highest number issued (%), not %',
            issued, NEW.last_number
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_number_counters_sequential',
                  TABLE = 'invoice_number_counters', COLUMN = 'last_number';
    END IF;
    RETURN NEW;
END
$$
"""

NO_DELETE = r"""
CREATE FUNCTION invoices_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'invoices_no_delete: invoices are never deleted; void them instead'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'invoices_no_delete',
              TABLE = 'invoices';
END
$$
"""

MOVES = "'status', 'draft', 'draft>open', 'open>paid', 'draft>void', 'open>void'"


def upgrade():
    # CREATE TRIGGER locks the table: give up rather than queue behind a long transaction.
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("SET LOCAL statement_timeout = '1min'")
    op.create_table(
        "invoice_number_counters",
        sa.Column("id", sa.BigInteger(), server_default=sa.text("1"), nullable=False),
        sa.Column("last_number", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_invoice_number_counters_single_row")),
        sa.CheckConstraint(
            "last_number >= 0", name=op.f("ck_invoice_number_counters_last_number_not_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_number_counters")),
    )
    op.execute(ASSIGN_NUMBER)
    op.execute(NO_DELETE)
    op.execute(COUNTER_GUARD)
    op.execute(
        "CREATE TRIGGER invoice_number_counters_guard BEFORE INSERT OR UPDATE "
        "ON invoice_number_counters FOR EACH ROW EXECUTE FUNCTION invoice_number_counters_guard()"
    )
    op.execute(
        "CREATE TRIGGER invoices_assign_number BEFORE INSERT ON invoices "
        "FOR EACH ROW EXECUTE FUNCTION invoices_assign_number()"
    )
    op.execute(
        "CREATE TRIGGER invoices_number_immutable BEFORE UPDATE ON invoices "
        "FOR EACH ROW WHEN (OLD.number IS DISTINCT FROM NEW.number) "
        "EXECUTE FUNCTION forbid_change('number')"
    )
    op.execute(
        "CREATE TRIGGER invoices_status_initial BEFORE INSERT ON invoices "
        "FOR EACH ROW EXECUTE FUNCTION enforce_state_machine('status', 'draft')"
    )
    op.execute(
        "CREATE TRIGGER invoices_status_transition BEFORE UPDATE ON invoices FOR EACH ROW "
        "WHEN (OLD.status IS DISTINCT FROM NEW.status) "
        f"EXECUTE FUNCTION enforce_state_machine({MOVES})"
    )
    op.execute(
        "CREATE TRIGGER invoices_no_delete BEFORE DELETE ON invoices "
        "FOR EACH STATEMENT EXECUTE FUNCTION invoices_no_delete()"
    )
    op.execute(
        "CREATE TRIGGER invoices_no_truncate BEFORE TRUNCATE ON invoices "
        "FOR EACH STATEMENT EXECUTE FUNCTION invoices_no_delete()"
    )


def downgrade():
    op.execute("DROP TRIGGER invoices_no_truncate ON invoices")
    op.execute("DROP TRIGGER invoices_no_delete ON invoices")
    op.execute("DROP TRIGGER invoices_status_transition ON invoices")
    op.execute("DROP TRIGGER invoices_status_initial ON invoices")
    op.execute("DROP TRIGGER invoices_number_immutable ON invoices")
    op.execute("DROP TRIGGER invoices_assign_number ON invoices")
    op.execute("DROP TRIGGER invoice_number_counters_guard ON invoice_number_counters")
    op.execute("DROP FUNCTION invoice_number_counters_guard()")
    op.execute("DROP FUNCTION invoices_no_delete()")
    op.execute("DROP FUNCTION invoices_assign_number()")
    op.drop_table("invoice_number_counters")
