"""Text people type and text the portal derives from it (issue 13, items 3 and 6).

- Derived strings fit their columns by construction (portal.text.fit), tested at every
  maximum length the forms accept: 120-character person and organization names, 254-
  character emails, a 1000-character suspension reason.
- Every name-like field (person name, organization name, suspension reason) goes through
  portal.text.name_like: NFC, no control or format characters, something visible.
"""

from __future__ import annotations

import re
import unicodedata

import pytest
from sqlalchemy import func, select

from portal.models import Account, AuditLog, EmailOutbox, Invitation, Notification, User
from tests import factories

HTMX = {"HX-Request": "true"}
NAME_MAX = 120
EMAIL_MAX = 254
REASON_MAX = 1000


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def long_name(prefix: str, length: int = NAME_MAX) -> str:
    words = (prefix + " Souza de Albuquerque Cavalcanti " * 10).split()
    text = ""
    for word in words:
        if len(text) + len(word) + 1 > length:
            break
        text = f"{text} {word}".strip()
    return text + "x" * (length - len(text))


def long_email(length: int = EMAIL_MAX) -> str:
    domain = "@example.com"
    return "a" * (length - len(domain)) + domain


def snapshot(dbs):
    dbs.expire_all()
    tables = (User, Account, AuditLog, EmailOutbox, Invitation, Notification)
    return [dbs.scalar(select(func.count()).select_from(t)) for t in tables]


# ------------------------------------------------------- derived strings fit (3) ---
def test_invitations_with_the_longest_names_fit_the_outbox(client, login, csrf_token, dbs):
    inviter = factories.UserFactory(name=long_name("Ana"))
    assert len(inviter.name) == NAME_MAX
    account = factories.AccountFactory(owner=inviter, name=long_name("Organização"))
    login(inviter)
    email = long_email()
    response = client.post(
        f"/accounts/{account.id}/invitations",
        data={"email": email, "role": "member", "csrf_token": csrf_token()},
    )
    assert response.status_code == 302
    invitation = dbs.scalar(select(Invitation).where(Invitation.email == email))
    response = client.post(
        f"/accounts/{account.id}/invitations/{invitation.id}/resend",
        data={"csrf_token": csrf_token()},
    )
    assert response.status_code == 302
    subjects = dbs.scalars(
        select(EmailOutbox.subject).where(EmailOutbox.to_address == email).order_by("id")
    ).all()
    assert len(subjects) == 2
    for subject in subjects:
        assert len(subject) <= 255 and subject.endswith("…")
        assert subject.startswith(inviter.name[:50])


def test_the_subject_is_cut_in_the_recipients_language_too(client, login, csrf_token, dbs):
    inviter = factories.UserFactory(name=long_name("Ana"), locale="pt_BR")
    account = factories.AccountFactory(owner=inviter, name=long_name("Organização"))
    login(inviter)
    response = client.post(
        f"/accounts/{account.id}/invitations",
        data={"email": "pt@example.com", "role": "member", "csrf_token": csrf_token()},
    )
    assert response.status_code == 302
    subject = dbs.scalar(
        select(EmailOutbox.subject).where(EmailOutbox.to_address == "pt@example.com")
    )
    assert len(subject) <= 255 and "convidou" in subject and subject.endswith("…")


def test_the_longest_sign_up_and_organization_are_accepted(client, csrf_token, dbs):
    email = long_email()
    response = client.post(
        "/signup",
        data={
            "name": long_name("Ana"),
            "email": email,
            "password": "a long enough passphrase",
            "csrf_token": csrf_token(),
        },
    )
    assert response.status_code == 302
    response = client.post(
        "/accounts/new",
        data={
            "name": long_name("Organização"),
            "cnpj": factories.make_cnpj(777),
            "csrf_token": csrf_token(),
        },
    )
    assert response.status_code == 302
    labels = dbs.scalars(select(AuditLog.target_label)).all()
    assert email in labels and long_name("Organização") in labels


def test_a_failed_login_with_a_huge_email_fits_the_audit_label(client, csrf_token, dbs):
    response = client.post(
        "/login",
        data={"email": long_email(), "password": "whatever it is", "csrf_token": csrf_token()},
    )
    assert response.status_code == 422
    label = dbs.scalar(select(AuditLog.target_label).where(AuditLog.action == "user.login_failed"))
    assert label == long_email()


def test_the_longest_suspension_reason_of_the_longest_organization(client, login, csrf_token, dbs):
    account = factories.AccountFactory(
        owner=factories.UserFactory(name=long_name("Ana")), name=long_name("Organização")
    )
    login(factories.AdminFactory())
    reason = ("Faturas em aberto há mais de noventa dias. " * 30)[:REASON_MAX]
    response = client.post(
        f"/admin/accounts/{account.id}/suspend",
        data={"reason": reason, "back": "/admin/accounts", "csrf_token": csrf_token()},
    )
    assert response.status_code == 302
    dbs.expire_all()
    assert dbs.get(Account, account.id).suspension_reason == reason.strip()


@pytest.mark.parametrize("length", [1, 2, 10, 64, 255])
def test_fit_cuts_with_an_ellipsis_at_any_length(length):
    from portal.text import fit

    for value in ("x" * 400, "palavra " * 80, "ã" * 300):
        result = fit(value, length)
        assert len(result) <= length
        assert result.endswith("…")
    assert fit("short", length) == "short"[:length] or length < 5
    assert fit(None, length) is None


# ---------------------------------------------------- name-like fields (6) -------
BAD = {
    "zero-width only": "\u200b\u200c\u200d",
    "rtl override": "Ana \u202eevil",
    "ansi escape": "Ana \x1b[31mred",
    "bell": "Ana\x07",
    "hangul filler only": "\u3164\u3164",
    "line separator": "Ana\u2028Souza",
    "bom": "\ufeffAna",
}


def _signup(client, csrf_token, value):
    return client.post(
        "/signup",
        data={
            "name": value,
            "email": "bad.name@example.com",
            "password": "a long enough passphrase",
            "csrf_token": csrf_token(),
        },
    )


def _new_org(client, csrf_token, value):
    return client.post(
        "/accounts/new",
        data={"name": value, "cnpj": factories.make_cnpj(991), "csrf_token": csrf_token()},
    )


def _suspend(client, csrf_token, value, account):
    return client.post(
        f"/admin/accounts/{account.id}/suspend",
        data={"reason": value, "back": "/admin/accounts", "csrf_token": csrf_token()},
    )


@pytest.mark.parametrize("case", list(BAD))
@pytest.mark.parametrize("form", ["signup", "organization", "suspension", "profile"])
def test_every_name_like_field_refuses_invisible_and_control_characters(
    client, login, csrf_token, dbs, form, case
):
    value = BAD[case]
    account = factories.AccountFactory(owner=factories.UserFactory())
    if form == "organization":
        login(factories.UserFactory())
    elif form == "suspension":
        login(factories.AdminFactory())
    elif form == "profile":
        login(factories.UserFactory())
    before = snapshot(dbs)
    if form == "signup":
        response, field = _signup(client, csrf_token, value), "name"
    elif form == "organization":
        response, field = _new_org(client, csrf_token, value), "name"
    elif form == "suspension":
        response, field = _suspend(client, csrf_token, value, account), "reason"
    else:
        response = client.post(
            "/profile",
            data={
                "name": value,
                "locale": "en",
                "timezone": "America/Sao_Paulo",
                "csrf_token": csrf_token(),
            },
        )
        field = "name"
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert (
        "Remove the invisible or control characters" in html
        or "Enter at least one visible character." in html
    )
    assert re.search(rf'id="{field}(-\d+)?-error"', html)
    assert snapshot(dbs) == before


def test_names_are_nfc_normalized_and_spaces_collapsed(client, csrf_token, dbs):
    decomposed = unicodedata.normalize("NFD", "  José   Conceição\u00a0Souza ")
    assert decomposed != unicodedata.normalize("NFC", decomposed)
    response = _signup(client, csrf_token, decomposed)
    assert response.status_code == 302
    name = dbs.scalar(select(User.name).where(User.email == "bad.name@example.com"))
    assert name == "José Conceição Souza"
    assert name == unicodedata.normalize("NFC", name)


def test_a_multiline_reason_keeps_its_line_breaks(client, login, csrf_token, dbs):
    account = factories.AccountFactory(owner=factories.UserFactory())
    login(factories.AdminFactory())
    response = _suspend(
        client, csrf_token, "Faturas em aberto.\r\n\r\nContato sem resposta.", account
    )
    assert response.status_code == 302
    dbs.expire_all()
    assert dbs.get(Account, account.id).suspension_reason == (
        "Faturas em aberto.\n\nContato sem resposta."
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Ana", "Ana"),
        ("  Ana \t Souza ", None),  # a tab is a control character
        ("O'Brien-Souza", "O'Brien-Souza"),
        ("李小龍", "李小龍"),
        ("Zoë 🚀", "Zoë 🚀"),
        ("", ""),
    ],
)
def test_name_like_unit(app_ctx, value, expected):
    from portal.errors import Invalid
    from portal.text import name_like

    if expected is None:
        with pytest.raises(Invalid):
            name_like(value, "name")
    else:
        assert name_like(value, "name") == expected
