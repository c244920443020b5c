"""usage import: when a bucket's size was measured, and the storage-quota notices sent

Why: ``flask usage import`` applies the metering pipeline's bucket snapshots (objects,
bytes, measured at) only when they are newer than what is stored — snapshots arrive out of
order and files are re-imported — and tells owners and admins once per month when storage
reaches 75 %, 90 % and 100 % of the quota, also when two imports run at once.

Objects
- ``buckets.usage_measured_at`` (timestamptz, NULL): when ``object_count``/``size_bytes``
  were measured; NULL until the first snapshot (any snapshot is then newer).
- ``usage_threshold_notices``: one row per (account, month, threshold) told; the unique
  constraint makes the notice idempotent and race-safe (INSERT ... ON CONFLICT DO NOTHING
  RETURNING: only the transaction that inserted the row notifies). ``month`` is the first
  day of the month (CHECK), ``threshold`` one of 75, 90, 100 (CHECK).

- ``buckets_account_writable`` (0012) is split: on INSERT as before; on UPDATE only when a
  column other than the measurement (``object_count``, ``size_bytes``,
  ``usage_measured_at``, ``updated_at``) changes. A suspended organization's objects are
  still stored and metered: its bucket sizes keep following the snapshots, while every
  change a person could make stays refused.

ON DELETE: deleting an account removes its notices (CASCADE; nothing refers to them).

Locking: adding a nullable column without a default and creating a new table are
catalog-only changes (a short ACCESS EXCLUSIVE lock on buckets; ``lock_timeout`` 5 s: give up
rather than queue writes behind a long transaction).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


MEASURED = "ARRAY['object_count', 'size_bytes', 'usage_measured_at', 'updated_at']"
WRITABLE_ON_UPDATE = (
    "CREATE TRIGGER buckets_account_writable_update BEFORE UPDATE ON buckets FOR EACH ROW "
    f"WHEN ((to_jsonb(NEW) - {MEASURED}) IS DISTINCT FROM (to_jsonb(OLD) - {MEASURED})) "
    "EXECUTE FUNCTION enforce_account_writable()"
)


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("SET LOCAL statement_timeout = '1min'")
    op.execute("DROP TRIGGER IF EXISTS buckets_account_writable ON buckets")
    op.execute(
        "CREATE TRIGGER buckets_account_writable BEFORE INSERT ON buckets "
        "FOR EACH ROW EXECUTE FUNCTION enforce_account_writable()"
    )
    op.execute(WRITABLE_ON_UPDATE)
    op.add_column("buckets", sa.Column("usage_measured_at", sa.DateTime(timezone=True)))
    op.create_table(
        "usage_threshold_notices",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "threshold IN (75, 90, 100)", name=op.f("ck_usage_threshold_notices_threshold_known")
        ),
        sa.CheckConstraint(
            "extract(day FROM month) = 1", name=op.f("ck_usage_threshold_notices_month_first_day")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_usage_threshold_notices_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_threshold_notices")),
        sa.UniqueConstraint(
            "account_id",
            "month",
            "threshold",
            name=op.f("uq_usage_threshold_notices_account_id_month_threshold"),
        ),
    )


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("SET LOCAL statement_timeout = '1min'")
    op.drop_table("usage_threshold_notices")
    op.execute("DROP TRIGGER IF EXISTS buckets_account_writable_update ON buckets")
    op.execute("DROP TRIGGER IF EXISTS buckets_account_writable ON buckets")
    op.execute(
        "CREATE TRIGGER buckets_account_writable BEFORE INSERT OR UPDATE ON buckets "
        "FOR EACH ROW EXECUTE FUNCTION enforce_account_writable()"
    )
    op.drop_column("buckets", "usage_measured_at")
