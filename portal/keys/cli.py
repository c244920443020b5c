"""``flask keys expiry-notices``: for a daily timer (see the README's timers)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from portal.extensions import db

keys_cli = AppGroup("keys", help="Access keys.")


@keys_cli.command("expiry-notices")
def expiry_notices() -> None:
    """Notify owners and admins, once per key, of keys expiring within 7 days and of keys
    that have expired. Idempotent: a second run sends nothing new."""
    from portal.keys import services

    expiring, expired = services.send_expiry_notices()
    db.session.commit()
    click.echo(f"expiring {expiring}, expired {expired}")
