"""usage_daily: metered usage summed per UTC day, so the billing page reads cost the same
whatever the number of usage records

Why: the billing page's usage section (this month, the 12 months before, the 30/90-day
chart, the month per bucket) and invoicing summed ``usage_records`` at read time; an
organization with a million records made one page take ~70 ms. ``usage_daily`` holds, per
(account, day, metric, bucket), the sum of the records whose ``period_start`` falls on that
UTC day: a month is at most 31 days × 4 metrics (× buckets) rows.

Objects
- ``usage_daily``: primary key (account_id, day, metric, bucket_key); ``bucket_key`` is the
  bucket's id, or 0 for usage not tied to a bucket (NOT NULL, so the key is a plain unique
  key). No foreign key to buckets: deleting a bucket leaves its rows under the old id (the
  reads join ``buckets`` and show them with the usage not tied to a bucket, as
  usage_records' ``bucket_id`` becomes NULL); a SET NULL would collide with the "no
  bucket" row of the same day. ``metric`` has usage_records' CHECK; ``quantity`` ≥ 0.
  ON DELETE CASCADE from accounts (derived data: nothing refers to it).
- ``usage_daily_totals``: the same without the bucket, primary key (account_id, day,
  metric): the month summary (13 months), the daily chart, totals and invoices read it, so
  their cost depends on neither the number of records nor the number of buckets (an
  organization with 200 buckets would otherwise sum 13 × 31 × 4 × 200 rows).
  ``ix_usage_daily_totals_day``: invoicing sums one month of every organization.
- Backfill: one INSERT ... SELECT ... GROUP BY over the existing records for each. The
  importer keeps them exact from here on (the rows its batch statement actually inserted).

Locking: a new table (no other session can wait on it); the backfill reads usage_records
under ACCESS SHARE (imports would wait for the INSERT into usage_daily only if they ran
0023's table, which they cannot before this commits). ``lock_timeout`` 5 s;
``statement_timeout`` 10 min for the backfill (a few seconds per million records).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

BACKFILL = """
INSERT INTO usage_daily (account_id, day, metric, bucket_key, quantity)
SELECT account_id, (period_start AT TIME ZONE 'UTC')::date, metric, coalesce(bucket_id, 0),
       sum(quantity)
  FROM usage_records
 GROUP BY 1, 2, 3, 4
"""
BACKFILL_TOTALS = """
INSERT INTO usage_daily_totals (account_id, day, metric, quantity)
SELECT account_id, day, metric, sum(quantity)
  FROM usage_daily
 GROUP BY 1, 2, 3
"""


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("SET LOCAL statement_timeout = '10min'")
    op.create_table(
        "usage_daily",
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("bucket_key", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=20, scale=6), nullable=False),
        sa.CheckConstraint("bucket_key >= 0", name=op.f("ck_usage_daily_bucket_key_not_negative")),
        sa.CheckConstraint(
            "metric IN ('storage_gb_hours', 'egress_gb', 'requests_put', 'requests_get')",
            name=op.f("ck_usage_daily_metric_known"),
        ),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_usage_daily_quantity_not_negative")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_usage_daily_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "account_id", "day", "metric", "bucket_key", name=op.f("pk_usage_daily")
        ),
    )
    op.create_table(
        "usage_daily_totals",
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=20, scale=6), nullable=False),
        sa.CheckConstraint(
            "metric IN ('storage_gb_hours', 'egress_gb', 'requests_put', 'requests_get')",
            name=op.f("ck_usage_daily_totals_metric_known"),
        ),
        sa.CheckConstraint(
            "quantity >= 0", name=op.f("ck_usage_daily_totals_quantity_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_usage_daily_totals_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "day", "metric", name=op.f("pk_usage_daily_totals")),
    )
    op.create_index("ix_usage_daily_totals_day", "usage_daily_totals", ["day"])
    op.execute(BACKFILL)
    op.execute(BACKFILL_TOTALS)


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("SET LOCAL statement_timeout = '1min'")
    op.drop_table("usage_daily_totals")
    op.drop_table("usage_daily")
