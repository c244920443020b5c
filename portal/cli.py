"""``flask`` commands: create-admin, outbox deliver, usage import (more come with their
domains)."""

from __future__ import annotations

import getpass
import os
import secrets
import sys

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from portal.extensions import db

outbox_cli = AppGroup("outbox", help="The email outbox.")


@outbox_cli.command("deliver")
@click.option("--limit", default=100, show_default=True, help="At most this many emails.")
@click.option(
    "--now",
    "now_all",
    is_flag=True,
    help="Retry every queued email now, ignoring the backoff (after an SMTP outage is over).",
)
def outbox_deliver(limit: int, now_all: bool) -> None:
    """Deliver queued emails that are due (failed attempts are retried with backoff)."""
    from portal import mail

    sent, failed = mail.deliver(limit=limit, now_all=now_all)
    click.echo(f"sent {sent}, failed {failed}")


invoices_cli = AppGroup("invoices", help="Invoices.")


@invoices_cli.command("issue")
@click.option(
    "--period",
    default=None,
    help="The month to invoice, YYYY-MM (default: last month).",
)
def invoices_issue(period: str | None) -> None:
    """Draft one invoice per organization with a subscription or usage in the month.
    Running it again creates nothing new (organizations already invoiced are skipped)."""
    from portal.billing import invoices
    from portal.errors import Invalid

    try:
        result = invoices.issue_period(None, period or invoices.last_month())
    except Invalid as exc:
        db.session.rollback()
        raise click.BadParameter(exc.message, param_hint="--period") from None
    db.session.commit()
    label = invoices.period_label(result.period)
    click.echo(f"{label}: {result.created} drafts created, {result.existing} already existed")


usage_cli = AppGroup("usage", help="Metered usage from the metering pipeline.")


@usage_cli.command("import")
@click.argument("file", type=click.File("rb"))
def usage_import(file) -> None:
    """Import a usage file (JSON Lines or CSV; - reads standard input).

    Prints inserted / duplicate / rejected counts (each rejected line on standard error with
    its number and reason) and the access keys whose "last used" moved forward, and exits
    with status 1 when any line was rejected. Importing the same file again adds nothing."""
    from portal.usage import importer, thresholds

    name = getattr(file, "name", "-")
    name = name if isinstance(name, str) and name != "<stdin>" else "-"

    def report(rejected) -> None:
        click.echo(f"line {rejected.line}: {rejected.reason}", err=True)

    bar = None
    if sys.stdout.isatty() and name != "-" and os.path.isfile(name):
        with open(name, "rb") as handle:
            lines = sum(1 for _ in handle)
        bar = click.progressbar(length=lines, label="Importing", file=sys.stdout)
        bar.__enter__()
    try:
        result = importer.import_file(
            name,
            file,
            commit=db.session.commit,
            report=report,
            progress=bar.update if bar is not None else (lambda n: None),
        )
    except Exception:
        db.session.rollback()
        raise
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    notices = thresholds.check(result.accounts)
    db.session.commit()
    click.echo(
        f"inserted {result.inserted}, duplicate {result.duplicate}, rejected {result.rejected}; "
        f"access keys last used updated {result.keys_seen}"
    )
    click.echo(
        f"bucket snapshots: applied {result.applied}, not applied (not newer) {result.stale}; "
        f"quota notices sent {len(notices)}"
    )
    if result.rejected:
        sys.exit(1)


@click.command("create-admin")
@click.argument("email")
@click.option("--name", default=None, help="Name for a new user (default: the email's local part).")
@click.option("--password", default=None, help="Password for a new user (default: prompt).")
@with_appcontext
def create_admin(email: str, name: str | None, password: str | None) -> None:
    """Create a platform admin, or promote an existing user."""
    from portal.users import services

    user = services.find_by_email(email)
    if user is None:
        if password is None:
            password = getpass.getpass("Password (empty: generate one): ") or secrets.token_urlsafe(
                12
            )
            click.echo(f"password: {password}")
        from portal.errors import DomainError

        try:
            user = services.create_user(
                email=email, name=name or email.split("@", 1)[0], password=password
            )
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(exc.message) from None
    services.promote_admin(user)
    db.session.commit()
    click.echo(f"{user.email} is a platform admin")


def init_app(app: Flask) -> None:
    app.cli.add_command(outbox_cli)
    app.cli.add_command(invoices_cli)
    app.cli.add_command(usage_cli)
    app.cli.add_command(create_admin)
    from portal.keys.cli import keys_cli

    app.cli.add_command(keys_cli)
    from portal.scale import seed_scale_command
    from portal.schema_docs import schema_docs_command
    from portal.seed import seed_demo_command

    app.cli.add_command(seed_demo_command)
    app.cli.add_command(schema_docs_command)
    app.cli.add_command(seed_scale_command)
