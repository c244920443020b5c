"""/accounts/<id>/invitations (invite, resend, revoke) and /invitations/<token> (join)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.models import AccountMember, AuditLog, EmailOutbox, Invitation, Notification, User
from tests import factories
from tests.functional.conftest import HTMX, MANAGERS, ROLES, snapshot

pytestmark = pytest.mark.usefixtures("english")

# Everything an invitations request could write.
WRITES = (
    select(
        Invitation.id, Invitation.token_hash, Invitation.revoked_at, Invitation.accepted_at
    ).order_by(Invitation.id),
    AccountMember,
    AuditLog,
    EmailOutbox,
    Notification,
)


def url(account, suffix=""):
    return f"/accounts/{account.id}/invitations{suffix}"


def invite(client, csrf_token, account, headers=None, **data):
    form = {"email": "nova@example.com", "role": "member", "csrf_token": csrf_token()}
    form.update(data)
    return client.post(url(account), data=form, headers=headers or {})


def link_token(body: str) -> str:
    return re.search(r"/invitations/([A-Za-z0-9_-]{40,})", body).group(1)


# ---------------------------------------------------------------------- the list ---
@pytest.mark.parametrize("role", ROLES)
def test_invitations_page_by_role(client, login, org, role):
    account, people = org
    factories.InvitationFactory(account=account, email="waiting@example.com")
    login(people[role])
    response = client.get(url(account))
    if role in MANAGERS:
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "waiting@example.com" in html and 'name="email"' in html and 'name="role"' in html
        assert ('<option value="owner"' in html) is (role == "owner")
    else:
        assert response.status_code == 403


def test_expired_invitations_are_marked(client, login, org, dbs):
    account, people = org
    now = datetime.now(UTC)
    factories.InvitationFactory(
        account=account,
        email="late@example.com",
        created_at=now - timedelta(days=9),
        expires_at=now - timedelta(days=2),
    )
    factories.InvitationFactory(account=account, email="fresh@example.com")
    login(people["owner"])
    html = client.get(url(account)).get_data(as_text=True)
    late = html[html.index("late@example.com") :][:600]
    fresh = html[html.index("fresh@example.com") :][:600]
    assert "status-expired" in late and "Expired on" in late
    assert "status-pending" in fresh


def test_page_and_partial(client, login, org):
    account, people = org
    login(people["admin"])
    partial = client.get(url(account), headers=HTMX).get_data(as_text=True)
    assert "<html" not in partial and partial.lstrip().startswith('<div id="invitations"')
    assert "<html" in client.get(url(account)).get_data(as_text=True)


def test_invitations_page_query_count_does_not_grow(client, login, dbs, count_queries):
    def measure(size):
        owner = factories.UserFactory()
        account = factories.AccountFactory(owner=owner)
        for _ in range(size):
            factories.InvitationFactory(account=account)
        login(owner)
        with count_queries() as queries:
            response = client.get(url(account))
        assert response.get_data(as_text=True).count('<tr id="invitation-') == size
        return len(queries)

    assert measure(3) == measure(30) <= 7


# ------------------------------------------------------------------------ invite ---
@pytest.mark.parametrize("role", ROLES)
def test_invite_by_role(client, login, csrf_token, dbs, org, mailbox, role):
    account, people = org
    login(people[role])
    before = snapshot(dbs, *WRITES)
    response = invite(client, csrf_token, account, email="Nova@Example.com", role="billing")
    if role not in MANAGERS:
        assert response.status_code == 403
        assert snapshot(dbs, *WRITES) == before
        return
    assert response.status_code == 302 and response.headers["Location"] == url(account)
    inv = dbs.scalar(select(Invitation).where(Invitation.email == "nova@example.com"))
    assert inv.role == "billing" and inv.invited_by_id == people[role].id
    log = dbs.scalar(select(AuditLog).where(AuditLog.action == "invitation.sent"))
    assert log.actor_id == people[role].id and log.account_id == account.id
    assert log.details == {"email": "nova@example.com", "role": "billing"}
    (message,) = mailbox.wait_for(1)
    assert message["To"] == "nova@example.com"
    assert "Acme Ltda" in message["Subject"]
    body = message.get_body(("plain",)).get_content()
    assert "http://localhost/invitations/" in body
    from portal.invitations.tokens import hash_token

    assert hash_token(link_token(body)) == inv.token_hash
    assert "Invitation sent to nova@example.com as Billing." in client.get(url(account)).get_data(
        as_text=True
    )


def test_invite_with_htmx_returns_the_piece(client, login, csrf_token, org):
    account, people = org
    login(people["owner"])
    response = invite(client, csrf_token, account, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<div id="invitations"')
    assert "Invitation sent to nova@example.com" in html and "<html" not in html


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": ""}, "email", "Enter the email address"),
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"email": "x" * 250 + "@example.com"}, "email", "at most 254"),
        ({"email": "Member Person"}, "email", "Enter a valid email address."),
        ({"role": "emperor"}, "role", "Choose one of the roles."),
    ],
)
@pytest.mark.parametrize("headers", [{}, HTMX])
def test_bad_input_is_422(client, login, csrf_token, dbs, org, data, field, message, headers):
    account, people = org
    login(people["owner"])
    before = snapshot(dbs, *WRITES)
    response = invite(client, csrf_token, account, headers=headers, **data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html and message in html
    assert ("<html" in html) is (not headers)
    assert snapshot(dbs, *WRITES) == before


def test_an_address_with_a_pending_invitation_or_a_member_is_422(
    client, login, csrf_token, dbs, org
):
    account, people = org
    factories.InvitationFactory(account=account, email="ana@example.com")
    login(people["admin"])
    before = snapshot(dbs, *WRITES)
    response = invite(client, csrf_token, account, email="ANA@example.com")
    assert response.status_code == 422
    assert "An invitation to ana@example.com is already pending" in response.get_data(as_text=True)
    response = invite(client, csrf_token, account, email=people["viewer"].email)
    assert response.status_code == 422
    assert "is already a member of this organization" in response.get_data(as_text=True)
    assert snapshot(dbs, *WRITES) == before


def test_an_expired_invitation_is_replaced(client, login, csrf_token, dbs, org):
    account, people = org
    now = datetime.now(UTC)
    old = factories.InvitationFactory(
        account=account,
        email="ana@example.com",
        created_at=now - timedelta(days=9),
        expires_at=now - timedelta(days=2),
    )
    login(people["owner"])
    assert invite(client, csrf_token, account, email="ana@example.com").status_code == 302
    dbs.expire_all()
    rows = dbs.scalars(select(Invitation).where(Invitation.email == "ana@example.com")).all()
    assert len(rows) == 2
    assert {r.id: r.state for r in rows} == {old.id: "revoked", max(r.id for r in rows): "pending"}


def test_admin_cannot_invite_an_owner(client, login, csrf_token, dbs, org):
    account, people = org
    login(people["admin"])
    before = snapshot(dbs, *WRITES)
    assert invite(client, csrf_token, account, role="owner").status_code == 403
    assert snapshot(dbs, *WRITES) == before


def test_the_51st_invitation_of_the_day_is_refused(client, login, csrf_token, dbs, org):
    account, people = org
    for _ in range(50):
        factories.InvitationFactory(account=account)
    login(people["owner"])
    before = snapshot(dbs, *WRITES)
    response = invite(client, csrf_token, account)
    assert response.status_code == 422
    assert "50 invitations in the last 24 hours" in response.get_data(as_text=True)
    assert snapshot(dbs, *WRITES) == before


def test_invite_needs_csrf(client, login, dbs, org):
    account, people = org
    login(people["owner"])
    before = snapshot(dbs, *WRITES)
    response = client.post(url(account), data={"email": "x@example.com", "role": "member"})
    assert response.status_code == 400
    assert snapshot(dbs, *WRITES) == before


# ---------------------------------------------------------------- resend, revoke ---
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ["resend", "revoke"])
def test_resend_and_revoke_by_role(client, login, csrf_token, dbs, org, mailbox, role, action):
    account, people = org
    inv, token = factories.InvitationFactory.with_token(account=account, email="ana@example.com")
    login(people[role])
    before = snapshot(dbs, *WRITES)
    response = client.post(
        url(account, f"/{inv.id}/{action}"), data={"csrf_token": csrf_token(), "confirmed": "1"}
    )
    if role not in MANAGERS:
        assert response.status_code == 403
        assert snapshot(dbs, *WRITES) == before
        return
    assert response.status_code == 302
    dbs.expire_all()
    row = dbs.get(Invitation, inv.id)
    old_link = client.get(f"/invitations/{token}")
    if action == "resend":
        assert row.sent_count == 2 and row.state == "pending"
        (message,) = mailbox.wait_for(1)
        new_token = link_token(message.get_body(("plain",)).get_content())
        assert new_token != token
        assert old_link.status_code == 404
        # The new link works (for ana; the manager is told it is someone else's).
        new_link = client.get(f"/invitations/{new_token}")
        assert new_link.status_code == 403 and "a•a@example.com" in new_link.get_data(as_text=True)
    else:
        assert row.state == "revoked" and row.revoked_by_id == people[role].id
        assert old_link.status_code == 410
    log = dbs.scalar(select(AuditLog).where(AuditLog.account_id == account.id))
    assert log.action == {"resend": "invitation.resent", "revoke": "invitation.revoked"}[action]


@pytest.mark.parametrize(
    ("action", "text"), [("resend", "A new invitation was sent"), ("revoke", "Revoked")]
)
def test_resend_and_revoke_with_htmx_swap_the_row(client, login, csrf_token, org, action, text):
    account, people = org
    inv = factories.InvitationFactory(account=account)
    login(people["owner"])
    response = client.post(
        url(account, f"/{inv.id}/{action}"),
        data={"csrf_token": csrf_token(), "confirmed": "1"},
        headers=HTMX,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith(f'<tr id="invitation-{inv.id}"')
    assert text in html


def test_revoking_twice_is_422_for_htmx(client, login, csrf_token, dbs, org):
    account, people = org
    inv = factories.InvitationFactory(account=account)
    login(people["owner"])
    path = url(account, f"/{inv.id}/revoke")
    client.post(path, data={"csrf_token": csrf_token(), "confirmed": "1"})
    before = snapshot(dbs, *WRITES)
    response = client.post(path, data={"csrf_token": csrf_token(), "confirmed": "1"}, headers=HTMX)
    assert response.status_code == 422 and "was revoked" in response.get_data(as_text=True)
    assert snapshot(dbs, *WRITES) == before


def test_revoke_without_javascript_asks_first(client, login, csrf_token, dbs, org):
    account, people = org
    inv = factories.InvitationFactory(account=account, email="ana@example.com")
    login(people["admin"])
    before = snapshot(dbs, *WRITES)
    path = url(account, f"/{inv.id}/revoke")
    ask = client.post(path, data={"csrf_token": csrf_token()})
    page = ask.get_data(as_text=True)
    assert ask.status_code == 200 and "Revoke the invitation to ana@example.com?" in page
    assert f'action="{path}"' in page and 'name="confirmed" value="1"' in page
    assert f'href="{url(account)}"' in page  # "Cancel" goes back to the list
    assert snapshot(dbs, *WRITES) == before  # nothing happened yet
    done = client.post(path, data={"csrf_token": csrf_token(), "confirmed": "1"})
    assert done.status_code == 302 and done.headers["Location"] == url(account)
    dbs.expire_all()
    assert dbs.get(Invitation, inv.id).state == "revoked"


@pytest.mark.parametrize(("who", "role"), [("viewer", "member"), ("admin", "owner")])
def test_only_someone_who_may_revoke_is_asked(client, login, csrf_token, dbs, org, who, role):
    """A viewer, or an admin facing an owner's invitation, gets the 403 at once."""
    account, people = org
    inv = factories.InvitationFactory(account=account, role=role)
    login(people[who])
    before = snapshot(dbs, *WRITES)
    response = client.post(url(account, f"/{inv.id}/revoke"), data={"csrf_token": csrf_token()})
    assert response.status_code == 403
    assert "Please confirm" not in response.get_data(as_text=True)
    assert snapshot(dbs, *WRITES) == before


@pytest.mark.parametrize("action", ["resend", "revoke"])
def test_admin_cannot_touch_an_owner_invitation(client, login, csrf_token, dbs, org, action):
    account, people = org
    inv = factories.InvitationFactory(account=account, role="owner")
    login(people["admin"])
    before = snapshot(dbs, *WRITES)
    response = client.post(
        url(account, f"/{inv.id}/{action}"), data={"csrf_token": csrf_token(), "confirmed": "1"}
    )
    assert response.status_code == 403
    assert snapshot(dbs, *WRITES) == before


@pytest.mark.parametrize("action", ["resend", "revoke"])
def test_resend_and_revoke_need_csrf(client, login, dbs, org, action):
    account, people = org
    inv = factories.InvitationFactory(account=account)
    login(people["owner"])
    before = snapshot(dbs, *WRITES)
    assert client.post(url(account, f"/{inv.id}/{action}")).status_code == 400
    assert snapshot(dbs, *WRITES) == before


# ------------------------------------------------------------------- the landing ---
@pytest.fixture
def invitation(dbs, org):
    account, people = org
    inv, token = factories.InvitationFactory.with_token(
        account=account, email="ana@example.com", role="billing", invited_by_id=people["admin"].id
    )
    return account, people, inv, token


def test_anonymous_landing_offers_signup_and_login(client, invitation):
    account, _, _, token = invitation
    response = client.get(f"/invitations/{token}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Acme Ltda" in html and "Billing" in html and "Admin Person" in html
    assert f'href="/signup?next=/invitations/{token}"' in html
    assert f'href="/login?next=/invitations/{token}"' in html
    with client.session_transaction() as session:
        assert session["invitation_token"] == token
        assert session["invitation_email"] == "ana@example.com"


def test_join_with_the_invited_address(client, login, csrf_token, dbs, invitation):
    account, people, inv, token = invitation
    ana = login(factories.UserFactory(email="Ana@Example.com", name="Ana", email_verified_at=None))
    page = client.get(f"/invitations/{token}")
    assert page.status_code == 200
    assert f'action="/invitations/{token}"' in page.get_data(as_text=True)
    response = client.post(
        f"/invitations/{token}", data={"csrf_token": csrf_token(), "confirmed": "1"}
    )
    assert (
        response.status_code == 302 and response.headers["Location"] == f"/accounts/{account.id}/"
    )
    dbs.expire_all()
    membership = dbs.scalar(select(AccountMember).where(AccountMember.user_id == ana.id))
    assert (membership.account_id, membership.role) == (account.id, "billing")
    row = dbs.get(Invitation, inv.id)
    assert row.accepted_by_id == ana.id and row.accepted_at is not None
    assert dbs.get(User, ana.id).email_verified_at is not None
    actions = dbs.scalars(
        select(AuditLog.action).where(AuditLog.account_id == account.id).order_by(AuditLog.id)
    ).all()
    assert actions == ["invitation.accepted", "member.joined"]
    kinds = dict(dbs.execute(select(Notification.user_id, Notification.kind)).all())
    assert kinds == {people["admin"].id: "invitation.accepted", people["owner"].id: "member.joined"}
    welcome = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You joined Acme Ltda as Billing" in welcome
    # The link worked once.
    again = client.get(f"/invitations/{token}")
    assert again.status_code == 410 and "already used" in again.get_data(as_text=True)
    assert (
        client.post(
            f"/invitations/{token}", data={"csrf_token": csrf_token(), "confirmed": "1"}
        ).status_code
        == 410
    )


def test_logged_in_as_someone_else(client, login, csrf_token, dbs, invitation):
    account, _, _, token = invitation
    login(factories.UserFactory(email="bob@example.com"))
    before = snapshot(dbs, *WRITES)
    page = client.get(f"/invitations/{token}")
    assert page.status_code == 403
    html = page.get_data(as_text=True)
    assert "a•a@example.com" in html and "ana@example.com" not in html
    assert 'action="/logout"' in html
    response = client.post(
        f"/invitations/{token}", data={"csrf_token": csrf_token(), "confirmed": "1"}
    )
    assert response.status_code == 403 and "a•a@example.com" in response.get_data(as_text=True)
    assert snapshot(dbs, *WRITES) == before


def test_already_a_member(client, login, csrf_token, dbs, invitation):
    account, people, _, token = invitation
    # The member's address is invited too (e.g. before they joined some other way).
    inv, member_token = factories.InvitationFactory.with_token(
        account=account, email=people["viewer"].email
    )
    login(people["viewer"])
    before = snapshot(dbs, *WRITES)
    page = client.get(f"/invitations/{member_token}")
    assert page.status_code == 200 and "You are already a member of Acme Ltda" in page.get_data(
        as_text=True
    )
    response = client.post(
        f"/invitations/{member_token}", data={"csrf_token": csrf_token(), "confirmed": "1"}
    )
    assert response.status_code == 409
    assert snapshot(dbs, *WRITES) == before


@pytest.mark.parametrize(
    ("state", "status", "text"),
    [
        ("expired", 410, "This invitation has expired"),
        ("revoked", 410, "This invitation was withdrawn"),
        ("accepted", 410, "This invitation was already used"),
        ("unknown", 404, "Invitation not found"),
        ("suspended", 409, "This organization is suspended"),
    ],
)
@pytest.mark.parametrize("logged_in", [False, True])
def test_unusable_links_get_a_clear_page(
    client, login, csrf_token, dbs, org, state, status, text, logged_in
):
    account, people = org
    now = datetime.now(UTC)
    kwargs = {"account": account, "email": "ana@example.com"}
    if state == "expired":
        kwargs.update(created_at=now - timedelta(days=8), expires_at=now - timedelta(minutes=1))
    inv, token = factories.InvitationFactory.with_token(**kwargs)
    if state == "revoked":
        inv.revoked_at = now
    elif state == "accepted":
        inv.accepted_at, inv.accepted_by_id = now, people["viewer"].id
    elif state == "unknown":
        token = "x" * 43
    elif state == "suspended":
        account.status, account.suspended_at = "suspended", now
    dbs.commit()
    if logged_in:
        login(factories.UserFactory(email="ana@example.com"))
    before = snapshot(dbs, *WRITES)
    page = client.get(f"/invitations/{token}")
    assert page.status_code == status and text in page.get_data(as_text=True)
    if logged_in:
        response = client.post(
            f"/invitations/{token}", data={"csrf_token": csrf_token(), "confirmed": "1"}
        )
        assert response.status_code == status and text in response.get_data(as_text=True)
    assert snapshot(dbs, *WRITES) == before


def test_join_needs_csrf_and_a_login(client, login, csrf_token, dbs, invitation):
    _, _, _, token = invitation
    before = snapshot(dbs, *WRITES)
    anonymous = client.post(
        f"/invitations/{token}", data={"csrf_token": csrf_token(), "confirmed": "1"}
    )
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")
    login(factories.UserFactory(email="ana@example.com"))
    assert client.post(f"/invitations/{token}").status_code == 400
    assert snapshot(dbs, *WRITES) == before


# ---------------------------------------------------------------- odd input, state ---
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/accounts/{big}/invitations"),
        ("post", "/accounts/{big}/invitations"),
        ("post", "/accounts/{account}/invitations/{big}/resend"),
        ("post", "/accounts/{account}/invitations/{big}/revoke"),
    ],
)
@pytest.mark.parametrize("big", [2**63, 10**30])
def test_ids_beyond_bigint_are_404(client, login, csrf_token, dbs, org, method, path, big):
    account, people = org
    login(people["owner"])
    before = snapshot(dbs, *WRITES)
    path = path.format(account=account.id, big=big)
    data = {"email": "ana@example.com", "role": "member", "csrf_token": csrf_token()}
    response = getattr(client, method)(path, data=data if method == "post" else None)
    assert response.status_code == 404
    assert snapshot(dbs, *WRITES) == before


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_a_suspended_organization_invites_nobody(client, login, csrf_token, dbs, org, headers):
    account, people = org
    inv = factories.InvitationFactory(account=account)
    account.status, account.suspended_at = "suspended", datetime.now(UTC)
    dbs.commit()
    login(people["owner"])
    before = snapshot(dbs, *WRITES)
    response = invite(client, csrf_token, account, headers=headers)
    assert response.status_code == 422
    assert "suspended and read-only" in response.get_data(as_text=True)
    response = client.post(
        url(account, f"/{inv.id}/resend"),
        data={"csrf_token": csrf_token(), "confirmed": "1"},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "suspended and read-only" in response.get_data(as_text=True)
    assert snapshot(dbs, *WRITES) == before
