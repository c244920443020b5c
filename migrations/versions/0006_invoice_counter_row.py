"""data: the invoice counter's one row, starting after the highest number already issued

A data revision, kept apart from the schema change (0005) as the project's migration
habits ask. On a fresh database the counter starts at 0 (the first invoice is number 1);
on a database that already has invoices it continues after the highest number, so no
number is ever issued twice. ON CONFLICT DO NOTHING makes a re-run harmless.

Downgrade removes the row (0005's downgrade then drops the table).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        "INSERT INTO invoice_number_counters (id, last_number) "
        "SELECT 1, coalesce(max(number), 0) FROM invoices "
        "ON CONFLICT (id) DO NOTHING"
    )


def downgrade():
    op.execute("DELETE FROM invoice_number_counters WHERE id = 1")
