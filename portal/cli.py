"""``flask`` commands: create-admin, outbox deliver (more come with their domains)."""

from __future__ import annotations

import getpass
import secrets

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
    app.cli.add_command(create_admin)
    from portal.keys.cli import keys_cli

    app.cli.add_command(keys_cli)
    from portal.scale import seed_scale_command
    from portal.schema_docs import schema_docs_command
    from portal.seed import seed_demo_command

    app.cli.add_command(seed_demo_command)
    app.cli.add_command(schema_docs_command)
    app.cli.add_command(seed_scale_command)
