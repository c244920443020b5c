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
  supplied by the caller is refused: only the database numbers invoices.
- ``invoices_number_immutable`` (BEFORE UPDATE, forbid_change('number') from 0004): a number,
  once given, stays.
- ``invoices_status_initial`` / ``invoices_status_transition`` (enforce_state_machine from
  0004): new = draft; draft>open, open>paid, draft>void, open>void.
- ``invoices_no_delete()`` (BEFORE DELETE, per statement): an invoice is voided, never
  deleted, so its number is never freed (and its lines, ON DELETE CASCADE from invoices,
  are kept). Accounts with invoices cannot be deleted anyway (ON DELETE RESTRICT, 0002).

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


def downgrade():
    op.execute("DROP TRIGGER invoices_no_delete ON invoices")
    op.execute("DROP TRIGGER invoices_status_transition ON invoices")
    op.execute("DROP TRIGGER invoices_status_initial ON invoices")
    op.execute("DROP TRIGGER invoices_number_immutable ON invoices")
    op.execute("DROP TRIGGER invoices_assign_number ON invoices")
    op.execute("DROP FUNCTION invoices_no_delete()")
    op.execute("DROP FUNCTION invoices_assign_number()")
    op.drop_table("invoice_number_counters")
