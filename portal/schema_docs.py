"""``flask schema-docs``: docs/schema.md generated from the models' metadata.

The page holds a Mermaid ``erDiagram`` (tables, columns with types, PK/FK/UK, foreign-key
relationships) and, per table, a paragraph saying what a row is and which rules the
database enforces on it, followed by its columns. The paragraphs live in ``DESCRIPTIONS``
below (a table without one falls back to its model's docstring). The output is
deterministic, so a test regenerates it and fails when docs/schema.md is stale.
"""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import Identity, Table, UniqueConstraint
from sqlalchemy.dialects import postgresql

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "schema.md"

DESCRIPTIONS = {
    "users": "A person who can log in. The email is unique case-insensitively (a unique "
    "index on lower(email)); only an argon2 hash of the password is stored. "
    "session_version is bumped on password changes to log out other sessions.",
    "user_sessions": "A signed-in browser (a server-side session): only the SHA-256 of the "
    "random id its cookies hold is stored (unique: every request finds its session by it). "
    'Deleted on logout, on "log out" from /sessions and on a password reset, so a copied '
    "cookie stops working; deleted with its user. last_seen_at is written at most once a "
    "minute.",
    "password_resets": "A single-use password-reset token: only its SHA-256 is stored; "
    "used_at marks it spent. Deleted with its user.",
    "email_outbox": "An email written in the same transaction as the change that causes "
    "it and delivered after commit; failed attempts are retried with backoff.",
    "accounts": "An organization, identified by its CNPJ: unique, stored normalized "
    "(14 characters, upper case) and valid (ck_accounts_cnpj_valid calls the SQL function "
    "cnpj_is_valid, numeric and 2026 alphanumeric formats). Status moves only "
    "pending → approved → active ⇄ suspended (approved → suspended too); a new account is "
    "pending (trigger accounts_status_transition). It must have an owner at every commit "
    "(deferred constraint trigger). Quotas are raised by approved quota requests.",
    "account_members": "A user's role in an account, one row per (account, user). Removing "
    "or demoting the last owner fails at commit, also when two transactions race (the "
    "check locks the account row). Cascades from accounts and users.",
    "invitations": "A team invitation: only a hash of its token is stored; at most one "
    "pending per (account, email). accepted_at and revoked_at are set at most once and never "
    "cleared; a revoked or expired invitation cannot be accepted; once accepted or revoked "
    "its token_hash and expires_at never change; account and email never change (trigger "
    "invitations_guard).",
    "buckets": "A storage bucket, named by S3 rules (3-63 characters, no IP-address shape, "
    "no '..'), unique within its account. Versioning moves unversioned → enabled ⇄ "
    "suspended and never back. lifecycle_rules is a JSON array of at most 1000 rules, each "
    "validated by portal.lifecycle before it is stored. Created only in an active account; "
    "read-only while it is suspended; account_id never changes.",
    "access_keys": "An API credential. key_id is public, unique and never changes; the "
    "secret is stored encrypted only. Status moves active ⇄ inactive, either → revoked, "
    "which is final (a revoked key cannot be rotated). account_id never changes. permission "
    "is read-only or read-write; scope 'all' reaches every bucket, 'buckets' only those in "
    "access_key_buckets (none when they were all deleted: never 'all' by accident). An "
    "expiry is within 1,000 days of the creation; expired is derived (expires_at <= now).",
    "access_key_buckets": "A bucket a key scoped to buckets reaches; both foreign keys "
    "carry the account, so a key never reaches another organization's bucket. Deleting the "
    "bucket or the key removes the row.",
    "access_key_notices": "An expiry notice already sent for a key ('expiring' 7 days "
    "before, 'expired' after): flask keys expiry-notices sends each once.",
    "products": "A service offering with a monthly price in BRL (numeric(12,2)). Products "
    "that were ordered cannot be deleted (deactivate them instead); the SKU never changes "
    "(trigger products_sku_immutable).",
    "orders": "A purchase order of 1 to 1000 units: total = unit_price × quantity, the "
    "price copied at placement (account, product, quantity, prices never change: trigger "
    "orders_terms_immutable). Status moves pending → paid (with payment_reference) → "
    "fulfilled, or pending → cancelled (cancellation_reason); each state's time is set. A "
    "new order is pending. Kept with the account (ON DELETE RESTRICT).",
    "subscriptions": "An account's subscription to a product, one active per (account, "
    "product). active → cancelled is final. The first active subscription of an 'approved' "
    "account makes it 'active' (trigger subscriptions_activate_account).",
    "invoices": "A billing document, one per account and period unless voided. The number "
    "is assigned by the database, sequential with no gaps and never reused "
    "(invoice_number_counters), and never changes. Status moves draft → open → paid, "
    "draft/open → void. Invoices are never deleted or truncated. An open or paid one has "
    "its issued and due dates, a paid one its payment reference, a void one its reason; "
    "account, period and total are frozen once it leaves draft (0021).",
    "invoice_lines": "A line of an invoice: amount = round(unit_price × quantity, 2). kind "
    "says what it bills: a subscription (subscription_id), metered usage (metric) or other. "
    "Lines change only while their invoice is a draft (0021).",
    "invoice_number_counters": "One row: the last invoice number issued. The invoices "
    "BEFORE INSERT trigger increments it in the inserting transaction, so a rolled-back "
    "insert gives its number back. It only moves by one, and a re-inserted row must hold "
    "the highest number issued.",
    "usage_records": "Metered consumption for a period. source_event_id is unique, so "
    "ingesting an event twice is refused (ingestion is idempotent). Kept when its bucket "
    "is deleted (bucket_id becomes NULL).",
    "usage_daily": "usage_records summed per (account, UTC day of period_start, metric, "
    "bucket_key: the bucket's id or 0 for none), kept by the importer in the statement that "
    "inserts the records; the per-bucket breakdown reads it. A deleted bucket's rows "
    "keep its old id.",
    "usage_daily_totals": "usage_daily without the bucket: per (account, UTC day, metric), "
    "kept by the same importer statement; the month summary, daily chart and invoices read it.",
    "quota_requests": "A request to raise a quota, at most one pending per (account, "
    "resource). pending → approved | rejected; approval raises the account's quota to "
    "GREATEST(quota, requested_value) in the same transaction (trigger "
    "quota_requests_apply_approval). account_id and resource never change; a decided "
    "request keeps its requested_value.",
    "notifications": "A message to a user, stored as a kind and parameters and rendered in "
    "the reader's language; listed unread first.",
    "audit_logs": "An append-only activity record: UPDATE and DELETE are refused by a "
    "trigger. account_id is NULL for platform events, actor_id NULL for the system. "
    "Accounts and users in the trail cannot be deleted (ON DELETE RESTRICT).",
}


def _metadata():
    import portal.models  # noqa: F401 - registers every model
    from portal.models.base import Base

    return Base.metadata


def _type(column) -> str:
    return (
        column.type.compile(dialect=postgresql.dialect())
        .lower()
        .replace("timestamp with time zone", "timestamptz")
    )


def _mermaid_type(column) -> str:
    return _type(column).replace(", ", "_").replace(",", "_").replace("(", "_").replace(")", "")


def _unique_columns(table: Table) -> set[str]:
    single = set()
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint) and len(constraint.columns) == 1:
            single.add(next(iter(constraint.columns)).name)
    for index in table.indexes:
        if (
            index.unique
            and len(index.columns) == 1
            and index.dialect_options["postgresql"]["where"] is None
        ):
            single.add(next(iter(index.columns)).name)
    return single


def _keys(table: Table, column) -> str:
    keys = []
    if column.primary_key:
        keys.append("PK")
    if column.foreign_keys:
        keys.append("FK")
    if column.name in _unique_columns(table) and not column.primary_key:
        keys.append("UK")
    return ", ".join(keys)


def _description(table: Table) -> str:
    if table.name in DESCRIPTIONS:
        return DESCRIPTIONS[table.name]
    from portal.models.base import Base

    for mapper in Base.registry.mappers:
        if mapper.local_table is table and mapper.class_.__doc__:
            return " ".join(mapper.class_.__doc__.split())
    return "(undocumented)"


def render() -> str:
    tables = sorted(_metadata().tables.values(), key=lambda t: t.name)
    lines = [
        "# Database schema",
        "",
        "<!-- Generated by `flask schema-docs` from the models (portal/models/); do not edit. "
        "A test fails when this file is stale. -->",
        "",
        "Rules the database enforces itself (CHECKs, unique and partial unique indexes, "
        "foreign keys with deliberate ON DELETE, triggers) are summed up per table below; "
        "the migrations in migrations/versions/ say why each exists.",
        "",
        "```mermaid",
        "erDiagram",
    ]
    for table in tables:
        lines.append(f"    {table.name} {{")
        for column in table.columns:
            keys = _keys(table, column)
            lines.append(
                f"        {_mermaid_type(column)} {column.name}{' ' + keys if keys else ''}"
            )
        lines.append("    }")
    relationships = []
    for table in tables:
        for fk in sorted(table.foreign_keys, key=lambda f: (f.parent.name, f.column.table.name)):
            parent = fk.column.table.name
            left = "|o" if fk.parent.nullable else "||"
            relationships.append(f'    {parent} {left}--o{{ {table.name} : "{fk.parent.name}"')
    lines += relationships
    lines += ["```", ""]

    for table in tables:
        lines += [f"## {table.name}", "", _description(table), ""]
        lines += ["| column | type | null | default | key |", "|---|---|---|---|---|"]
        for column in table.columns:
            default = ""
            if column.server_default is not None and hasattr(column.server_default, "arg"):
                arg = column.server_default.arg
                default = str(getattr(arg, "text", arg))
            elif isinstance(column.server_default, Identity):
                default = "identity"
            elif column.server_default is not None:
                default = "(set by the database)"
            key = _keys(table, column)
            # A column in two composite foreign keys (access_key_buckets.account_id) names
            # both, in a stable order.
            for i, fk in enumerate(sorted(column.foreign_keys, key=lambda f: f.column.table.name)):
                key += ";" if i else ""
                key += f" → {fk.column.table.name}.{fk.column.name} ON DELETE {fk.ondelete or 'NO ACTION'}"
            default = default.replace("|", "\\|")
            nullable = "yes" if column.nullable else "no"
            lines.append(f"| {column.name} | {_type(column)} | {nullable} | {default} | {key} |")
        lines.append("")
    return "\n".join(lines)


@click.command("schema-docs")
@click.option("--check", is_flag=True, help="Exit 1 if docs/schema.md is stale; write nothing.")
def schema_docs_command(check: bool) -> None:
    """Write docs/schema.md (Mermaid ER diagram and one section per table)."""
    text = render()
    if check:
        if not OUTPUT.exists() or OUTPUT.read_text() != text:
            raise click.ClickException("docs/schema.md is stale: run `flask schema-docs`")
        click.echo("docs/schema.md is up to date")
        return
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text)
    click.echo(f"wrote {OUTPUT.relative_to(ROOT)}")
