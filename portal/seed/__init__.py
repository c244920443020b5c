"""``flask seed-demo``: believable demo data in every table, through the portal's services,
dated relative to now, idempotent.

- :mod:`portal.seed.builders`: the toolkit (one builder per kind of thing, each calling its
  service at a moment in the past, or writing the rows of a domain that has no service yet);
- :mod:`portal.seed.demo`: the demo data itself (organizations, people, logins).

The command commits once, then delivers the emails the demo queued (invitations, a password
reset: printed to the console when MAIL_SERVER is not set), as any request does after its
commit.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from portal.extensions import db


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Fill the database with believable demo data (safe to run again)."""
    from portal import mail
    from portal.seed import builders, demo

    try:
        before = builders.table_counts()
        demo.seed_demo()
        after = builders.table_counts()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    mail.deliver_committed()
    created = {
        table: after[table] - before[table] for table in after if after[table] != before[table]
    }
    if created:
        click.echo("Created: " + ", ".join(f"{n} {table}" for table, n in sorted(created.items())))
    else:
        click.echo("The demo data is already there; nothing changed.")
    click.echo(
        "Demo logins: " + "; ".join(f"{email} / {password}" for email, password in demo.LOGINS)
    )
