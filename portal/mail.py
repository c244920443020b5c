"""Email through the outbox.

``queue()`` renders an email (text + HTML, in the recipient's language) and adds it to
email_outbox in the caller's transaction. After that transaction commits, the rows it
queued are delivered over SMTP (or printed to the console in development without
MAIL_SERVER). A failed delivery stays queued with exponential backoff; ``flask outbox
deliver`` retries due rows by hand (``--now``: every queued row, backoff or not, once an
outage is over). Failures go to the application log (the ``portal.mail`` logger), never to
a bare standard error.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import sys
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import Flask, current_app, render_template
from flask_babel import force_locale
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.models import EmailOutbox
from portal.text import fit

log = logging.getLogger(__name__)

SUBJECT_MAX = EmailOutbox.subject.type.length

MAX_ATTEMPTS = 8
_PENDING_KEY = "portal_outbox_pending"
_COMMITTED_KEY = "portal_outbox_committed"


def queue(
    to: str, template: str, subject: str, locale: str | None = None, **context
) -> EmailOutbox:
    """Render ``templates/email/<template>.txt`` and ``.html`` in ``locale`` and queue them.

    ``subject`` is a lazy or plain string; it is rendered in the recipient's locale too."""
    locale = locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        body_text = render_template(f"email/{template}.txt", **context)
        body_html = render_template(f"email/{template}.html", **context)
        # Built from names people chose (two of 120 characters for an invitation): it
        # fits email_outbox.subject by construction.
        subject_text = fit(" ".join(str(subject).split()), SUBJECT_MAX)
    row = EmailOutbox(
        to_address=to,
        subject=subject_text,
        body_text=body_text,
        body_html=body_html,
        template=template,
    )
    db.session.add(row)
    db.session.flush()
    db.session.info.setdefault(_PENDING_KEY, []).append(row.id)
    return row


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, … minutes, at most 6 hours."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


def _message(row: EmailOutbox) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    msg["To"] = row.to_address
    msg["Subject"] = row.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="primecloud.com.br")
    msg.set_content(row.body_text)
    msg.add_alternative(row.body_html, subtype="html")
    return msg


def _send(messages: list[EmailMessage]) -> None:
    cfg = current_app.config
    if not cfg.get("MAIL_SERVER"):
        if cfg.get("PORTAL_ENV") == "production":
            # Never print emails (reset links are secrets) into a production log: the rows
            # stay queued until MAIL_SERVER is set.
            raise smtplib.SMTPException("MAIL_SERVER is not set")
        for msg in messages:
            print(
                f"\n----- email (no MAIL_SERVER: printed, not sent) -----\n"
                f"To: {msg['To']}\nSubject: {msg['Subject']}\n\n"
                f"{msg.get_body(('plain',)).get_content()}-----",
                file=sys.stdout,
                flush=True,
            )
        return
    smtp_class = smtplib.SMTP_SSL if cfg.get("MAIL_USE_SSL") else smtplib.SMTP
    with smtp_class(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=cfg["MAIL_TIMEOUT"]) as smtp:
        if cfg.get("MAIL_USE_TLS") and not cfg.get("MAIL_USE_SSL"):
            smtp.starttls(context=ssl.create_default_context())
        if cfg.get("MAIL_USERNAME"):
            smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"])
        for msg in messages:
            smtp.send_message(msg)


def deliver(
    ids: list[int] | None = None, *, limit: int = 100, now_all: bool = False
) -> tuple[int, int]:
    """Deliver queued emails that are due (or exactly ``ids``; ``now_all``: every queued
    email, whatever its backoff says). Returns (sent, failed).

    Rows are locked with SKIP LOCKED, so two deliverers never send the same email."""
    now = datetime.now(UTC)
    stmt = select(EmailOutbox).where(EmailOutbox.status == "queued")
    if ids is not None:
        stmt = stmt.where(EmailOutbox.id.in_(ids))
    elif not now_all:
        stmt = stmt.where(EmailOutbox.next_attempt_at <= now)
    stmt = stmt.order_by(EmailOutbox.next_attempt_at).limit(limit).with_for_update(skip_locked=True)
    rows = db.session.scalars(stmt).all()
    sent = failed = 0
    for row in rows:
        row.attempts += 1
        try:
            _send([_message(row)])
        # Any failure (SMTP, network, or a row the email package refuses to turn into a
        # message) is this row's: it must not undo the rows already sent in this batch
        # (sent twice) nor block every later delivery.
        except Exception as exc:  # noqa: BLE001
            failed += 1
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if row.attempts >= MAX_ATTEMPTS:
                row.status = "failed"
            else:
                row.next_attempt_at = now + backoff(row.attempts)
            log.warning(
                "email %s (%s) to %s not delivered, attempt %s of %s%s: %s",
                row.id,
                row.template,
                row.to_address,
                row.attempts,
                MAX_ATTEMPTS,
                "; given up" if row.status == "failed" else f"; next try at {row.next_attempt_at}",
                row.last_error,
            )
        else:
            sent += 1
            row.status = "sent"
            row.sent_at = datetime.now(UTC)
            row.last_error = None
    db.session.commit()
    return sent, failed


@event.listens_for(Session, "after_commit")
def _remember(session: Session) -> None:
    pending = session.info.pop(_PENDING_KEY, None)
    if pending:
        session.info.setdefault(_COMMITTED_KEY, []).extend(pending)


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_PENDING_KEY, None)


def take_committed() -> list[int]:
    """The ids of rows queued by this session's committed transactions, not yet delivered."""
    return db.session.info.pop(_COMMITTED_KEY, None) or []


def deliver_committed() -> None:
    """Deliver now what this session's committed transactions queued (CLI commands)."""
    ids = take_committed()
    if ids:
        _deliver_ids(current_app._get_current_object(), ids)


def _deliver_ids(app: Flask, ids: list[int]) -> None:
    with app.app_context():
        try:
            deliver(ids)
        except Exception:  # noqa: BLE001 - delivery must never break the caller
            log.exception("outbox delivery after commit failed; rows %s stay queued", ids)
            db.session.rollback()


def init_app(app: Flask) -> None:
    """Deliver what a request's transactions queued once they have committed.

    Delivery runs when the response has been sent (``call_on_close``), so SMTP latency is
    not added to the request and a page answers as fast whether or not it sent an email
    (the "forgot password" page reveals nothing by its timing)."""

    @app.after_request
    def _deliver_committed(response):
        ids = take_committed()
        if ids and app.config.get("MAIL_DELIVER_AFTER_COMMIT"):
            response.call_on_close(lambda: _deliver_ids(app, ids))
        return response
