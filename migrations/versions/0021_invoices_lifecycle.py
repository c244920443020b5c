"""invoices for real: what each state carries, what a line bills, frozen once issued, and the
indexes of the invoice lists

Why (issue 11, "Invoices out"): drafts are issued for a month, reviewed, opened (issued
date, due date), marked paid with the payment's reference or voided with a reason; a
voided month may be issued again. DOMAIN.md: one invoice per account and period, numbers
sequential and never reused (0005).

Columns
- ``invoices.payment_reference`` (varchar 200): what staff typed when marking it paid
  (PIX end-to-end id, bank transfer). ``invoices.void_reason`` (varchar 1000): why it was
  voided. Both NULL otherwise.
- ``invoice_lines.kind`` ('subscription' | 'usage' | 'other', default 'other': lines
  written before this revision, and by hand), ``invoice_lines.subscription_id`` (the
  subscription a 'subscription' line bills; FK ON DELETE RESTRICT, subscriptions are never
  deleted anyway) and ``invoice_lines.metric`` (what a 'usage' line bills: storage,
  egress, requests_put, requests_get — the charges of portal.usage.pricing).

Checks (NOT VALID, then validated in a transaction of their own, like 0017)
- ``ck_invoices_paid_has_reference``: a paid invoice has a reference (not blank) and its
  paid_at; ``ck_invoices_reference_only_when_paid``: no reference on another state.
- ``ck_invoices_void_has_reason`` / ``ck_invoices_reason_only_when_void``: the same for
  void, voided_at and the reason.
- ``ck_invoices_issued_when_open``: an open or paid invoice has its issued_at and due_at.
- ``ck_invoice_lines_kind_known``, ``ck_invoice_lines_subscription_line`` (a subscription
  line names its subscription, and only such a line does), ``ck_invoice_lines_usage_line``
  (likewise for the metric), ``ck_invoice_lines_metric_known``.
Rows written before this revision: paid invoices without a reference get
'(not recorded)', void ones without a reason '(not recorded)', so the checks validate.

Triggers
- ``invoice_lines_draft_only()`` (BEFORE INSERT OR UPDATE OR DELETE on invoice_lines): lines
  change only while their invoice is a draft. An issued invoice is a fiscal document.
- ``invoices_terms_frozen`` (forbid_change() from 0004, once the invoice is no longer a
  draft): account, period and total never change after it is opened.

Indexes (CONCURRENTLY, like 0017; tests/db/test_query_plans.py checks the plans)
- ``ix_invoices_account_id_number``: an organization's invoices, newest number first
  (the billing page; keyset on number).
- ``ix_invoices_period_start_number`` and ``ix_invoices_status_number``: /admin/invoices
  filtered by period or by status, newest number first (unfiltered it reads
  uq_invoices_number backwards).
- ``ix_invoices_open_due_at`` (partial, status = 'open'): the admin home's count of open
  invoices past due.
- ``ix_invoice_lines_subscription_id`` (partial): the foreign key's lookups.

squawk: ``prefer-robust-stmts`` is ignored on ADD CONSTRAINT ... NOT VALID and VALIDATE, as
in 0009 and 0017.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02
"""

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

SQUAWK_IGNORE = "-- squawk-ignore prefer-robust-stmts\n"

CHECKS = {
    ("invoices", "ck_invoices_paid_has_reference"): (
        "status <> 'paid' OR (payment_reference IS NOT NULL AND btrim(payment_reference) <> '' "
        "AND paid_at IS NOT NULL)"
    ),
    ("invoices", "ck_invoices_reference_only_when_paid"): (
        "payment_reference IS NULL OR status = 'paid'"
    ),
    ("invoices", "ck_invoices_void_has_reason"): (
        "status <> 'void' OR (void_reason IS NOT NULL AND btrim(void_reason) <> '' "
        "AND voided_at IS NOT NULL)"
    ),
    ("invoices", "ck_invoices_reason_only_when_void"): "void_reason IS NULL OR status = 'void'",
    ("invoices", "ck_invoices_issued_when_open"): (
        "status NOT IN ('open', 'paid') OR (issued_at IS NOT NULL AND due_at IS NOT NULL)"
    ),
    ("invoice_lines", "ck_invoice_lines_kind_known"): (
        "kind IN ('subscription', 'usage', 'other')"
    ),
    ("invoice_lines", "ck_invoice_lines_subscription_line"): (
        "(kind = 'subscription') = (subscription_id IS NOT NULL)"
    ),
    ("invoice_lines", "ck_invoice_lines_usage_line"): "(kind = 'usage') = (metric IS NOT NULL)",
    ("invoice_lines", "ck_invoice_lines_metric_known"): (
        "metric IS NULL OR metric IN ('storage', 'egress', 'requests_put', 'requests_get')"
    ),
}

FK = "fk_invoice_lines_subscription_id_subscriptions"

DRAFT_ONLY = r"""
CREATE FUNCTION invoice_lines_draft_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    invoice bigint;
    state   text;
BEGIN
    FOR invoice IN SELECT DISTINCT unnest(ARRAY[
        CASE WHEN TG_OP <> 'DELETE' THEN NEW.invoice_id END,
        CASE WHEN TG_OP <> 'INSERT' THEN OLD.invoice_id END]) LOOP
        CONTINUE WHEN invoice IS NULL;
        SELECT status INTO state FROM invoices WHERE id = invoice;
        IF state IS DISTINCT FROM 'draft' THEN
            RAISE EXCEPTION 'invoice_lines_draft_only: invoice % is %; its lines never change',
                invoice, coalesce(state, 'missing')
                USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_lines_draft_only',
                      TABLE = 'invoice_lines';
        END IF;
    END LOOP;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$
"""

NEW_INDEXES = {
    "ix_invoices_account_id_number": "invoices (account_id, number)",
    "ix_invoices_period_start_number": "invoices (period_start, number)",
    "ix_invoices_status_number": "invoices (status, number)",
    "ix_invoices_open_due_at": "invoices (due_at) WHERE status = 'open'",
    "ix_invoice_lines_subscription_id": (
        "invoice_lines (subscription_id) WHERE subscription_id IS NOT NULL"
    ),
}


def _concurrently(statements):
    with op.get_context().autocommit_block():
        op.execute("SET statement_timeout = 0")
        op.execute("SET lock_timeout = 0")
        for statement in statements:
            op.execute(statement)
        op.execute("RESET lock_timeout")
        op.execute("RESET statement_timeout")


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("SET LOCAL statement_timeout = '1min'")
    op.execute(
        "ALTER TABLE invoices ADD COLUMN IF NOT EXISTS payment_reference varchar(200), "
        "ADD COLUMN IF NOT EXISTS void_reason varchar(1000)"
    )
    op.execute(
        "ALTER TABLE invoice_lines ADD COLUMN IF NOT EXISTS kind varchar(16) "
        "DEFAULT 'other' NOT NULL, "
        "ADD COLUMN IF NOT EXISTS subscription_id bigint, "
        "ADD COLUMN IF NOT EXISTS metric varchar(16)"
    )
    op.execute(
        f"{SQUAWK_IGNORE}ALTER TABLE invoice_lines ADD CONSTRAINT {FK} "
        "FOREIGN KEY (subscription_id) REFERENCES subscriptions (id) ON DELETE RESTRICT "
        "NOT VALID"
    )
    op.execute(
        "UPDATE invoices SET payment_reference = '(not recorded)' "
        "WHERE status = 'paid' AND payment_reference IS NULL"
    )
    op.execute(
        "UPDATE invoices SET void_reason = '(not recorded)', "
        "voided_at = coalesce(voided_at, updated_at) "
        "WHERE status = 'void' AND void_reason IS NULL"
    )
    op.execute("UPDATE invoices SET paid_at = updated_at WHERE status = 'paid' AND paid_at IS NULL")
    for (table, name), condition in CHECKS.items():
        op.execute(
            f"{SQUAWK_IGNORE}ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({condition}) "
            "NOT VALID"
        )
    op.execute(DRAFT_ONLY)
    op.execute(
        "CREATE TRIGGER invoice_lines_draft_only BEFORE INSERT OR UPDATE OR DELETE "
        "ON invoice_lines FOR EACH ROW EXECUTE FUNCTION invoice_lines_draft_only()"
    )
    op.execute(
        "CREATE TRIGGER invoices_terms_frozen BEFORE UPDATE ON invoices FOR EACH ROW "
        "WHEN (OLD.status <> 'draft' AND (OLD.account_id IS DISTINCT FROM NEW.account_id "
        "OR OLD.period_start IS DISTINCT FROM NEW.period_start "
        "OR OLD.period_end IS DISTINCT FROM NEW.period_end "
        "OR OLD.total IS DISTINCT FROM NEW.total)) "
        "EXECUTE FUNCTION forbid_change('account_id', 'period_start', 'period_end', 'total')"
    )
    with op.get_context().autocommit_block():
        op.execute("BEGIN")
        op.execute("SET LOCAL lock_timeout = '5s'")
        op.execute("SET LOCAL statement_timeout = '30min'")
        op.execute(f"{SQUAWK_IGNORE}ALTER TABLE invoice_lines VALIDATE CONSTRAINT {FK}")
        for table, name in CHECKS:
            op.execute(f"{SQUAWK_IGNORE}ALTER TABLE {table} VALIDATE CONSTRAINT {name}")
        op.execute("COMMIT")
    _concurrently(
        [f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {n} ON {d}" for n, d in NEW_INDEXES.items()]
    )


def downgrade():
    _concurrently([f"DROP INDEX CONCURRENTLY IF EXISTS {n}" for n in reversed(NEW_INDEXES)])
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("SET LOCAL statement_timeout = '1min'")
    op.execute("DROP TRIGGER invoices_terms_frozen ON invoices")
    op.execute("DROP TRIGGER invoice_lines_draft_only ON invoice_lines")
    op.execute("DROP FUNCTION invoice_lines_draft_only()")
    for table, name in reversed(CHECKS):
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    op.execute(f"ALTER TABLE invoice_lines DROP CONSTRAINT {FK}")
    op.execute(
        "ALTER TABLE invoice_lines DROP COLUMN metric, DROP COLUMN subscription_id, "
        "DROP COLUMN kind"
    )
    op.execute("ALTER TABLE invoices DROP COLUMN void_reason, DROP COLUMN payment_reference")
