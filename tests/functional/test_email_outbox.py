"""Email delivery through the outbox, against a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import re
import socket
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from portal import mail
from portal.models import EmailOutbox
from portal.users.services import check_password
from tests import factories

NEW_PASSWORD = "outra senha muito boa"


def _closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request_reset(client, csrf_token, email):
    response = client.post("/password/forgot", data={"email": email, "csrf_token": csrf_token()})
    assert response.status_code == 302
    return response


def reset_link(text: str) -> str:
    match = re.search(r"https?://\S+/password/reset/[A-Za-z0-9_\-]+", text)
    assert match, text
    return match.group(0)


def test_reset_email_arrives_and_its_link_sets_a_new_password(client, csrf_token, dbs, mailbox):
    user = factories.UserFactory(email="chega@example.com", locale="en")
    request_reset(client, csrf_token, "chega@example.com")

    message = mailbox.wait_for(1)[0]
    assert message["To"] == "chega@example.com"
    assert message["Subject"] == "Reset your PrimeCloud password"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    link = reset_link(text)
    assert f'href="{link}"' in html
    assert "PrimeCloud" in html and "<html" in html

    dbs.expire_all()
    row = dbs.scalar(select(EmailOutbox).where(EmailOutbox.to_address == user.email))
    assert row.status == "sent" and row.sent_at is not None and row.attempts == 1

    path = link.split("://", 1)[1].split("/", 1)[1]
    assert client.get(f"/{path}").status_code == 200
    response = client.post(f"/{path}", data={"password": NEW_PASSWORD, "csrf_token": csrf_token()})
    assert response.status_code == 302
    response = client.post(
        "/login",
        data={"email": user.email, "password": NEW_PASSWORD, "csrf_token": csrf_token()},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    dbs.expire_all()
    assert check_password(dbs.get(type(user), user.id), NEW_PASSWORD)


@pytest.mark.parametrize(("locale", "lang"), [("en", "en"), ("pt_BR", "pt-BR"), (None, "pt-BR")])
def test_reset_email_is_rendered_in_the_users_language(
    client, csrf_token, dbs, mailbox, locale, lang
):
    """The email follows the recipient's language, not the requester's (English here)."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en" if lang != "en" else "pt-BR"
    factories.UserFactory(email="idioma@example.com", locale=locale)
    request_reset(client, csrf_token, "idioma@example.com")
    dbs.expire_all()
    row = dbs.scalar(select(EmailOutbox).where(EmailOutbox.to_address == "idioma@example.com"))
    assert f'<html lang="{lang}">' in row.body_html


def test_smtp_down_keeps_the_row_queued_then_the_cli_delivers_it(
    app, client, csrf_token, dbs, mailbox, runner, monkeypatch
):
    factories.UserFactory(email="fila@example.com")
    with monkeypatch.context() as m:
        m.setitem(app.config, "MAIL_PORT", _closed_port())
        request_reset(client, csrf_token, "fila@example.com")

    dbs.expire_all()
    row = dbs.scalar(select(EmailOutbox).where(EmailOutbox.to_address == "fila@example.com"))
    assert row.status == "queued"
    assert row.attempts == 1
    assert row.last_error
    assert row.next_attempt_at > datetime.now(UTC)
    assert row.sent_at is None
    assert list(mailbox) == []

    # Not due yet: the CLI leaves it alone.
    result = runner.invoke(args=["outbox", "deliver"])
    assert result.exit_code == 0, result.output
    assert "sent 0, failed 0" in result.output

    dbs.execute(
        update(EmailOutbox)
        .where(EmailOutbox.id == row.id)
        .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    dbs.commit()
    result = runner.invoke(args=["outbox", "deliver"])
    assert result.exit_code == 0, result.output
    assert "sent 1, failed 0" in result.output

    message = mailbox.wait_for(1)[0]
    assert message["To"] == "fila@example.com"
    assert "/password/reset/" in message.get_body(("plain",)).get_content()
    dbs.expire_all()
    row = dbs.get(EmailOutbox, row.id)
    assert row.status == "sent" and row.attempts == 2 and row.last_error is None


def test_a_row_that_cannot_be_sent_does_not_block_the_others(app_ctx, dbs, mailbox):
    """A row the email package refuses (a header with a line break) fails alone: the rows
    around it are sent once and marked sent, and it waits for its retry."""
    from portal.extensions import db

    for to in ("antes@example.com", "ruim@example.com\r\nBcc: x@example.com", "depois@example.com"):
        mail.queue(to, "password_reset", "Assunto", name="Z", link="L", minutes=60)
    db.session.commit()
    assert mail.deliver(mail.take_committed()) == (2, 1)
    assert sorted(m["To"] for m in mailbox.wait_for(2)) == [
        "antes@example.com",
        "depois@example.com",
    ]
    dbs.expire_all()
    rows = {r.to_address.split("@")[0]: r for r in dbs.scalars(select(EmailOutbox))}
    assert rows["antes"].status == rows["depois"].status == "sent"
    assert rows["ruim"].status == "queued" and rows["ruim"].attempts == 1
    assert rows["ruim"].last_error.startswith("ValueError")


@pytest.mark.parametrize(("env", "printed"), [("development", True), ("production", False)])
def test_without_mail_server_emails_are_printed_only_in_development(
    app, app_ctx, dbs, capsys, monkeypatch, env, printed
):
    """In production a missing MAIL_SERVER must not put reset links into the log and mark
    the emails sent: they stay queued."""
    from portal.extensions import db

    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    monkeypatch.setitem(app.config, "PORTAL_ENV", env)
    mail.queue(
        "semsmtp@example.com", "password_reset", "Assunto", name="Z", link="SEGREDO", minutes=60
    )
    db.session.commit()
    assert mail.deliver(mail.take_committed()) == ((1, 0) if printed else (0, 1))
    assert ("SEGREDO" in capsys.readouterr().out) is printed
    dbs.expire_all()
    status = dbs.scalar(select(EmailOutbox.status).where(EmailOutbox.to_address.like("semsmtp@%")))
    assert status == ("sent" if printed else "queued")


@pytest.mark.parametrize(
    ("attempts", "minutes"),
    [(0, 1), (1, 1), (2, 2), (3, 4), (5, 16), (9, 256), (10, 360), (50, 360)],
)
def test_backoff_doubles_up_to_six_hours(attempts, minutes):
    assert mail.backoff(attempts) == timedelta(minutes=minutes)


def test_a_rolled_back_transaction_delivers_nothing(app_ctx, dbs, mailbox):
    from portal.extensions import db

    mail.queue("rollback@example.com", "password_reset", "Subject", name="X", link="L", minutes=60)
    db.session.rollback()
    mail.deliver_committed()
    assert mailbox.wait_for(1, timeout=0.5) == []
    dbs.expire_all()
    assert dbs.scalar(select(EmailOutbox).where(EmailOutbox.to_address.like("rollback@%"))) is None


def test_a_committed_transaction_delivers_after_commit(app_ctx, dbs, mailbox):
    from portal.extensions import db

    mail.queue("commit@example.com", "password_reset", "Assunto", name="Y", link="L", minutes=60)
    db.session.commit()
    mail.deliver_committed()
    message = mailbox.wait_for(1)[0]
    assert message["To"] == "commit@example.com"
    assert message["Subject"] == "Assunto"


def test_delivery_waits_until_the_response_has_been_sent(client, csrf_token, dbs, mailbox):
    """Email goes out from the response's close callback, after the page was sent: SMTP
    time is not part of the request, and a known address answers as fast as an unknown one."""
    factories.UserFactory(email="later@example.com")
    response = client.post(
        "/password/forgot",
        data={"email": "later@example.com", "csrf_token": csrf_token()},
        buffered=False,
    )
    assert response.status_code in (200, 302)
    assert mailbox.wait_for(1, timeout=0.3) == []
    response.close()
    assert mailbox.wait_for(1)[0]["To"] == "later@example.com"


# ----------------------------------------------------------- outage: log, retry now ---
def test_a_delivery_failure_goes_to_the_application_log_not_stderr(
    app, app_ctx, dbs, caplog, capsys, monkeypatch
):
    """The failure is a WARNING record of the ``portal.mail`` logger (which the deployment's
    logging configuration routes), with the row, the attempt and the error; nothing is
    written to standard error behind the logging configuration's back."""
    import logging

    from portal.extensions import db

    monkeypatch.setitem(app.config, "MAIL_PORT", _closed_port())
    row = mail.queue(
        "panne@example.com", "password_reset", "Assunto", name="Z", link="x", minutes=1
    )
    db.session.commit()
    capsys.readouterr()
    with caplog.at_level(logging.WARNING, logger="portal"):
        assert mail.deliver(mail.take_committed()) == (0, 1)
    records = [r for r in caplog.records if r.name == "portal.mail"]
    assert len(records) == 1 and records[0].levelno == logging.WARNING
    message = records[0].getMessage()
    assert f"email {row.id} (password_reset)" in message
    assert "attempt 1 of 8" in message and "ConnectionRefusedError" in message
    assert "not delivered" not in capsys.readouterr().err


def test_outbox_deliver_now_retries_every_queued_email_after_an_outage(
    app, client, csrf_token, dbs, mailbox, runner, monkeypatch
):
    """During an outage emails wait with growing backoff; once it is over, ``flask outbox
    deliver --now`` sends every queued one at once (plain ``deliver`` waits for the backoff)."""
    for n in range(3):
        factories.UserFactory(email=f"apagao{n}@example.com")
    with monkeypatch.context() as m:
        m.setitem(app.config, "MAIL_PORT", _closed_port())
        for n in range(3):
            request_reset(client, csrf_token, f"apagao{n}@example.com")
    dbs.expire_all()
    rows = dbs.scalars(select(EmailOutbox).where(EmailOutbox.to_address.like("apagao%"))).all()
    assert [r.status for r in rows] == ["queued"] * 3
    assert all(r.next_attempt_at > datetime.now(UTC) for r in rows)

    result = runner.invoke(args=["outbox", "deliver"])
    assert "sent 0, failed 0" in result.output
    result = runner.invoke(args=["outbox", "deliver", "--now"])
    assert result.exit_code == 0, result.output
    assert "sent 3, failed 0" in result.output
    assert sorted(m["To"] for m in mailbox.wait_for(3)) == [
        f"apagao{n}@example.com" for n in range(3)
    ]
    dbs.expire_all()
    assert {dbs.get(EmailOutbox, r.id).status for r in rows} == {"sent"}
