"""``flask seed-scale``: the scale dataset the benchmark measures pages against.

Written through SQL (``INSERT … SELECT generate_series`` and ``COPY``), not the ORM, so it
takes a couple of minutes, not hours. Every row still passes the database's rules (CNPJ
check digits, state machines, owners, account status for buckets and keys, invoice
numbering): accounts are inserted ``pending`` and moved to ``approved`` then ``active``.

What it writes (defaults; every figure is an option):

- 100,000 people; 20,000 organizations, each with an owner, a subscription and an order;
- one organization ("Escala Armazenamento Ltda") with 300 members, 10,000 buckets,
  1,000 access keys, 1,000,000 audit rows and 1,000,000 usage records;
- 5,000,000 audit rows in all (the rest spread over the other organizations and platform
  events); 10,000 invoices with a line each; 50,000 notifications for the big
  organization's owner.

The people it prints (owner, a viewer, a platform admin) log in with ``PASSWORD``. It
refuses to run on a database that already has organizations unless ``--force``.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass

import click
import psycopg
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import make_url
from stdnum.br import cnpj as stdnum_cnpj

PASSWORD = "scale-password-1"  # noqa: S105 - the documented password of the scale dataset
BIG_ORG = "Escala Armazenamento Ltda"
OWNER_EMAIL = "scale-owner@example.com"
VIEWER_EMAIL = "scale-viewer@example.com"
ADMIN_EMAIL = "scale-admin@example.com"
ROLES = ("admin", "member", "billing", "viewer")


@dataclass
class Sizes:
    people: int = 100_000
    organizations: int = 20_000
    members: int = 300
    buckets: int = 10_000
    keys: int = 1_000
    audit_big: int = 1_000_000
    audit_total: int = 5_000_000
    usage: int = 1_000_000
    invoices: int = 10_000
    notifications: int = 50_000


def _libpq_url() -> str:
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _cnpjs(n: int, offset: int = 0) -> list[str]:
    """``n`` distinct valid CNPJs (base 9xxxxxxx0001: outside what the demo and tests use)."""
    out = []
    for i in range(offset, offset + n):
        base = f"9{i:07d}0001"
        out.append(base + stdnum_cnpj.calc_check_digits(base))
    return out


def _copy(conn: psycopg.Connection, table: str, columns: tuple[str, ...], rows) -> None:
    with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


class Scale:
    def __init__(self, conn: psycopg.Connection, sizes: Sizes, echo=click.echo):
        self.conn = conn
        self.s = sizes
        self.echo = echo
        self.started = time.monotonic()

    def step(self, what: str) -> None:
        self.echo(f"[{time.monotonic() - self.started:6.1f}s] {what}")

    def one(self, sql: str, params=()):
        return self.conn.execute(sql, params).fetchone()[0]

    @contextmanager
    def without_indexes(self, table: str):
        """Bulk-load ``table`` without its plain indexes, then build them again (a build
        sorts once; millions of random-order inserts into six b-trees take minutes).
        Constraint indexes (primary key, unique constraints) stay."""
        defs = self.conn.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
            "FROM pg_index i WHERE i.indrelid = %s::regclass "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
            (table,),
        ).fetchall()
        for name, _definition in defs:
            self.conn.execute(f"DROP INDEX {name}")
        yield
        self.step(f"indexes of {table}")
        for _name, definition in defs:
            self.conn.execute(definition)

    def run(self) -> dict:
        from portal.users.services import hash_password

        s, c = self.s, self.conn
        c.execute("SET LOCAL synchronous_commit = off")
        c.execute("SET LOCAL maintenance_work_mem = '256MB'")
        self.step("people")
        pw = hash_password(PASSWORD)
        c.execute(
            "INSERT INTO users (email, name, password_hash, locale, email_verified_at) "
            "SELECT 'scale-user-' || g || '@example.com', 'Pessoa ' || g, %s, "
            "       CASE WHEN g %% 5 = 0 THEN 'en' ELSE 'pt_BR' END, now() "
            "FROM generate_series(1, %s) g ORDER BY g",
            (pw, s.people),
        )
        # One statement of this session: the rows have consecutive ids, in order.
        first_user = self.one("SELECT min(id) FROM users WHERE email LIKE 'scale-user-%%'")
        c.execute(
            "UPDATE users SET email = %s, name = 'Olívia Escala' WHERE id = %s",
            (OWNER_EMAIL, first_user),
        )
        c.execute(
            "UPDATE users SET email = %s, name = 'Vera Leitora' WHERE id = %s",
            (VIEWER_EMAIL, first_user + 1),
        )
        c.execute(
            "UPDATE users SET email = %s, name = 'Equipe Escala', is_platform_admin = true "
            "WHERE id = %s",
            (ADMIN_EMAIL, first_user + s.people - 1),
        )

        self.step("organizations")
        names = [BIG_ORG] + [f"Empresa {i} Ltda" for i in range(1, s.organizations)]
        cnpjs = _cnpjs(s.organizations)
        _copy(
            c,
            "accounts",
            ("name", "cnpj", "created_at"),
            ((names[i], cnpjs[i], "2025-01-01 00:00:00+00:00") for i in range(s.organizations)),
        )
        big = self.one("SELECT id FROM accounts WHERE cnpj = %s", (cnpjs[0],))
        c.execute(
            "UPDATE accounts SET created_at = now() - ((id - %s) * interval '17 minutes') "
            "WHERE id >= %s",
            (big, big),
        )
        # Owners: the big organization's is the first person; the others' are people after
        # its members, one each.
        c.execute(
            "INSERT INTO account_members (account_id, user_id, role) "
            "SELECT a.id, CASE WHEN a.id = %s THEN %s ELSE %s + (a.id - %s) END, 'owner' "
            "FROM accounts a WHERE a.id >= %s",
            (big, first_user, first_user + s.members - 1, big, big),
        )
        c.execute(
            "INSERT INTO account_members (account_id, user_id, role) "
            "SELECT %s, %s + g, (%s::text[])[1 + g %% 4] FROM generate_series(1, %s) g",
            (big, first_user, list(ROLES), s.members - 1),
        )
        c.execute(
            "UPDATE account_members SET role = 'viewer' WHERE account_id = %s AND user_id = %s",
            (big, first_user + 1),
        )
        # pending → approved → active, as the state machine allows; every 50th stays
        # approved, every 97th is suspended.
        c.execute(
            "UPDATE accounts SET status = 'approved', approved_at = created_at WHERE id >= %s",
            (big,),
        )
        c.execute(
            "UPDATE accounts SET status = 'active', activated_at = created_at "
            "WHERE id >= %s AND (id = %s OR (id - %s) %% 50 <> 7)",
            (big, big, big),
        )
        c.execute(
            "UPDATE accounts SET quota_buckets = %s, quota_access_keys = %s, "
            "quota_storage_gb = 500000 WHERE id = %s",
            (s.buckets * 2, s.keys * 2, big),
        )

        self.step("products, orders, subscriptions")
        product = self.one(
            "INSERT INTO products (sku, name, price_monthly, description) VALUES "
            "('SCALE-1TB', 'Armazenamento 1 TB', 89.90, 'Escala') RETURNING id"
        )
        c.execute(
            "INSERT INTO orders (account_id, product_id, quantity, unit_price, total, "
            "                    placed_by_id, created_at) "
            "SELECT a.id, %s, 1, 89.90, 89.90, m.user_id, a.created_at "
            "FROM accounts a JOIN account_members m ON m.account_id = a.id AND m.role = 'owner' "
            "WHERE a.id >= %s",
            (product, big),
        )
        c.execute(
            "UPDATE orders SET status = 'paid', paid_at = created_at WHERE product_id = %s "
            "AND account_id IN (SELECT id FROM accounts WHERE status = 'active')",
            (product,),
        )
        c.execute(
            "UPDATE orders SET status = 'fulfilled', fulfilled_at = created_at "
            "WHERE product_id = %s AND status = 'paid'",
            (product,),
        )
        c.execute(
            "INSERT INTO subscriptions (account_id, product_id, quantity, started_at, "
            "                           current_period_end) "
            "SELECT id, %s, 1, created_at, now() + interval '20 days' FROM accounts "
            "WHERE status = 'active' AND id >= %s",
            (product, big),
        )
        c.execute(
            "UPDATE accounts SET status = 'suspended', suspended_at = now(), "
            "suspension_reason = 'Fatura em atraso' WHERE id > %s AND (id - %s) %% 97 = 3 "
            "AND status = 'active'",
            (big, big),
        )

        self.step("buckets and access keys")
        c.execute(
            "INSERT INTO buckets (account_id, name, versioning, lifecycle_rules, object_count, "
            "                     size_bytes, created_by_id, created_at) "
            "SELECT %s, 'bucket-' || lpad(g::text, 6, '0'), "
            "       CASE WHEN g %% 3 = 0 THEN 'enabled' ELSE 'unversioned' END, "
            "       CASE WHEN g %% 10 = 0 THEN jsonb_build_array(jsonb_build_object("
            "            'id', 'expirar', 'status', 'Enabled', "
            "            'filter', jsonb_build_object('prefix', 'logs/'), "
            "            'expiration', jsonb_build_object('days', 30))) ELSE '[]'::jsonb END, "
            "       g * 13, g::bigint * 1048576, %s, now() - g * interval '1 minute' "
            "FROM generate_series(1, %s) g",
            (big, first_user, s.buckets),
        )
        c.execute(
            "INSERT INTO access_keys (account_id, key_id, name, secret_ciphertext, "
            "                         created_by_id, created_at) "
            "SELECT %s, 'PC' || lpad(g::text, 18, '0'), 'chave-' || g, '\\x00'::bytea, "
            "       %s, now() - g * interval '1 hour' "
            "FROM generate_series(1, %s) g",
            (big, first_user, s.keys),
        )
        # Every fourth key switched off, every fourth revoked (allowed moves only).
        c.execute(
            "UPDATE access_keys SET status = 'inactive' WHERE account_id = %s "
            "AND substr(key_id, 3)::bigint %% 4 IN (0, 1)",
            (big,),
        )
        c.execute(
            "UPDATE access_keys SET status = 'revoked', revoked_at = now() "
            "WHERE account_id = %s AND substr(key_id, 3)::bigint %% 4 = 0",
            (big,),
        )

        self.step("usage records")
        first_bucket = self.one("SELECT min(id) FROM buckets WHERE account_id = %s", (big,))
        with self.without_indexes("usage_records"):
            self._usage(big, first_bucket)
        self.step("usage per day")
        self._usage_daily(big)
        self._rest(big, first_user, product)
        return {
            "account_id": big,
            "owner": OWNER_EMAIL,
            "viewer": VIEWER_EMAIL,
            "admin": ADMIN_EMAIL,
            "password": PASSWORD,
        }

    def _usage(self, big: int, first_bucket: int) -> None:
        s, c = self.s, self.conn
        c.execute(
            "INSERT INTO usage_records (account_id, bucket_id, metric, quantity, period_start, "
            "                           period_end, source_event_id) "
            "SELECT %s, %s + (g %% 200), "
            "       (ARRAY['storage_gb_hours','egress_gb','requests_put','requests_get'])"
            "       [1 + g %% 4], (g %% 1000) + 0.5, "
            "       date_trunc('hour', now()) - (g / 20) * interval '1 hour', "
            "       date_trunc('hour', now()) - (g / 20 - 1) * interval '1 hour', "
            "       'scale-' || g "
            "FROM generate_series(1, %s) g",
            (big, first_bucket, s.usage),
        )

    def _usage_daily(self, big: int) -> None:
        """The records just inserted, summed per day into ``usage_daily`` and
        ``usage_daily_totals`` (what the importer
        does for the records it inserts; the billing page reads these sums)."""
        from portal.usage.services import DAILY_FROM_RECORDS

        for statement in DAILY_FROM_RECORDS:
            self.conn.execute(statement.format(where="WHERE account_id = %s"), (big,))

    def _rest(self, big: int, first_user: int, product: int) -> None:
        s, c = self.s, self.conn
        self.step("invoices")
        c.execute(
            "INSERT INTO invoices (account_id, period_start, period_end, total, created_at) "
            "SELECT a.id, date_trunc('month', now())::date - make_interval(months => m), "
            "       (date_trunc('month', now())::date - make_interval(months => m - 1))::date, "
            "       89.90, now() "
            "FROM (SELECT id FROM accounts WHERE status IN ('active', 'suspended') "
            "      ORDER BY id LIMIT %s) a CROSS JOIN generate_series(1, 2) m "
            "LIMIT %s",
            (s.invoices // 2 + 1, s.invoices),
        )
        c.execute(
            "INSERT INTO invoice_lines (invoice_id, description, quantity, unit_price, amount, "
            "                           product_id) "
            "SELECT id, 'Armazenamento 1 TB', 1, 89.90, 89.90, %s FROM invoices",
            (product,),
        )
        c.execute(
            "UPDATE invoices SET status = 'open', issued_at = period_end, due_at = period_end + 10"
        )
        c.execute(
            "UPDATE invoices SET status = 'paid', paid_at = period_end + 5, "
            "       payment_reference = 'E2E' || lpad(number::text, 29, '0') "
            "WHERE period_start < date_trunc('month', now()) - interval '1 month'"
        )

        self.step("quota requests")
        c.execute(
            "INSERT INTO quota_requests (account_id, resource, current_value, requested_value, "
            "                            reason, requested_by_id, created_at) "
            "SELECT a.id, 'buckets', 10, 50, 'Mais projetos este trimestre', m.user_id, "
            "       now() - (a.id %% 100) * interval '1 hour' "
            "FROM accounts a JOIN account_members m ON m.account_id = a.id AND m.role = 'owner' "
            "WHERE a.id > %s AND (a.id - %s) %% 10 = 1 AND a.status = 'active'",
            (big, big),
        )

        self.step("notifications")
        c.execute(
            "INSERT INTO notifications (user_id, account_id, kind, params, link, read, "
            "                           created_at, read_at) "
            "SELECT %s, %s, 'member.joined', "
            "       jsonb_build_object('account_name', %s::text, 'member_name', 'Pessoa ' || g, "
            "                          'role', 'member'), "
            "       '/accounts/' || %s::bigint || '/members', g %% 10 <> 0, "
            "       now() - g * interval '30 seconds', "
            "       CASE WHEN g %% 10 <> 0 THEN now() END "
            "FROM generate_series(1, %s) g",
            (first_user, big, BIG_ORG, big, s.notifications),
        )

        with self.without_indexes("audit_logs"):
            self._audit(big, first_user)
        self.step("done")

    def _audit(self, big: int, first_user: int) -> None:
        s, c = self.s, self.conn
        self.step(f"audit rows: {s.audit_big:,} of the big organization")
        actions = [
            "bucket.created",
            "bucket.lifecycle_changed",
            "key.created",
            "member.role_changed",
            "invitation.sent",
            "user.logged_in",
            "order.placed",
        ]
        c.execute(
            "INSERT INTO audit_logs (account_id, actor_id, action, target_type, target_id, "
            "                        target_label, ip, details, created_at) "
            "SELECT %s, CASE WHEN g %% 11 = 0 THEN NULL ELSE %s + g %% %s END, "
            "       (%s::text[])[1 + g %% 7], 'bucket', "
            "       'bucket-' || lpad((1 + g %% %s)::text, 6, '0'), "
            "       'bucket-' || lpad((1 + g %% %s)::text, 6, '0'), "
            "       '200.160.2.3'::inet, jsonb_build_object('n', g), "
            "       now() - g * interval '2 seconds' "
            "FROM generate_series(1, %s) g",
            (big, first_user, s.members, actions, s.buckets, s.buckets, s.audit_big),
        )
        rest = max(s.audit_total - s.audit_big, 0)
        self.step(f"audit rows: {rest:,} across the other organizations and the platform")
        c.execute(
            "INSERT INTO audit_logs (account_id, actor_id, action, target_type, target_id, "
            "                        target_label, ip, details, created_at) "
            "SELECT CASE WHEN g %% 9 = 0 THEN NULL ELSE %s + 1 + g %% %s END, "
            "       %s + %s + g %% %s, (%s::text[])[1 + g %% 7], 'account', NULL, NULL, "
            "       '200.160.2.3'::inet, '{}'::jsonb, now() - g * interval '1 second' "
            "FROM generate_series(1, %s) g",
            (
                big,
                s.organizations - 1,
                first_user,
                s.members,
                s.people - s.members,
                actions,
                rest,
            ),
        )


def seed_scale(sizes: Sizes, force: bool = False, echo=click.echo) -> dict:
    with psycopg.connect(_libpq_url()) as conn:
        existing = conn.execute("SELECT count(*) FROM accounts").fetchone()[0]
        if existing and not force:
            raise click.ClickException(
                f"the database already has {existing} organizations; seed-scale fills an "
                "empty one (use --force to add the scale dataset anyway)"
            )
        with conn.transaction():
            result = Scale(conn, sizes, echo).run()
    with psycopg.connect(_libpq_url(), autocommit=True) as conn:
        echo("VACUUM ANALYZE")
        conn.execute("VACUUM ANALYZE")
    return result


@click.command("seed-scale")
@click.option("--people", default=Sizes.people, show_default=True)
@click.option("--organizations", default=Sizes.organizations, show_default=True)
@click.option("--buckets", default=Sizes.buckets, show_default=True)
@click.option("--audit-big", default=Sizes.audit_big, show_default=True)
@click.option("--audit-total", default=Sizes.audit_total, show_default=True)
@click.option("--usage", default=Sizes.usage, show_default=True)
@click.option("--invoices", default=Sizes.invoices, show_default=True)
@click.option("--notifications", default=Sizes.notifications, show_default=True)
@click.option("--force", is_flag=True, help="Run even if the database has organizations.")
@with_appcontext
def seed_scale_command(force: bool, **sizes) -> None:
    """Fill an empty database with the scale dataset (for `make bench`)."""
    result = seed_scale(Sizes(**sizes), force=force)
    click.echo(
        f"organization {result['account_id']} ({BIG_ORG}); log in as {result['owner']}, "
        f"{result['viewer']} or {result['admin']} with password {result['password']}"
    )
