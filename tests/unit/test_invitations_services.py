"""Invitations: invite, resend, revoke, accept; expiry, reuse, the daily limit."""

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.errors import Invalid, NotAllowed, NotFound
from portal.extensions import db
from portal.invitations import joining, managing, tokens
from portal.models import AccountMember, AuditLog, EmailOutbox, Invitation, Notification
from tests import factories
from tests.unit.conftest import ours


@pytest.fixture
def sent(monkeypatch):
    """The calls to mail.queue (the email is still queued for real)."""
    calls = []
    original = managing.mail.queue

    def spy(to, template, subject, locale=None, **context):
        calls.append({"to": to, "template": template, "locale": locale, **context})
        return original(to, template, subject, locale=locale, **context)

    monkeypatch.setattr(managing.mail, "queue", spy)
    return calls


def token_in(link: str) -> str:
    return re.search(r"/invitations/([A-Za-z0-9_-]+)$", link).group(1)


def actions(account_id):
    return db.session.scalars(
        select(AuditLog.action).where(AuditLog.account_id == account_id).order_by(AuditLog.id)
    ).all()


def suspend(account):
    account.status, account.suspended_at = "suspended", datetime.now(UTC)


def test_invite_stores_only_the_hash_and_emails_the_link(org, sent):
    account, people = org
    inv = managing.invite(ours(people["owner"]), account.id, "  Ana.Souza@Example.COM ", "billing")
    assert inv.email == "ana.souza@example.com" and inv.role == "billing"
    (call,) = sent
    assert call["to"] == "ana.souza@example.com" and call["template"] == "invitation"
    assert call["link"].startswith("http://localhost/invitations/")
    token = token_in(call["link"])
    assert len(token) >= 43
    assert inv.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in inv.token_hash
    assert timedelta(days=6, hours=23) < inv.expires_at - datetime.now(UTC) <= timedelta(days=7)
    assert inv.invited_by_id == people["owner"].id and inv.sent_count == 1
    outbox = db.session.scalar(select(EmailOutbox).where(EmailOutbox.to_address == inv.email))
    assert call["link"] in outbox.body_text and "Acme Ltda" in outbox.subject
    assert actions(account.id) == ["invitation.sent"]


def test_email_language_is_the_invited_persons_else_the_inviters(org, sent, dbs):
    account, people = org
    factories.UserFactory(email="Known@example.com", locale="pt_BR")
    managing.invite(ours(people["owner"]), account.id, "known@example.com", "member")
    managing.invite(ours(people["owner"]), account.id, "new@example.com", "member")
    assert [c["locale"] for c in sent] == ["pt_BR", "en"]


def test_a_pending_invitation_blocks_a_second_one(org):
    account, people = org
    managing.invite(ours(people["owner"]), account.id, "ana@example.com", "member")
    with pytest.raises(Invalid, match="already pending") as caught:
        managing.invite(ours(people["admin"]), account.id, "ANA@example.com", "viewer")
    assert caught.value.field == "email"


def test_an_expired_invitation_is_replaced(org, dbs):
    account, people = org
    old = factories.InvitationFactory(
        account=account,
        email="ana@example.com",
        created_at=datetime.now(UTC) - timedelta(days=10),
        expires_at=datetime.now(UTC) - timedelta(days=3),
    )
    new = managing.invite(ours(people["owner"]), account.id, "ana@example.com", "member")
    assert ours(old).revoked_at is not None and ours(old).revoked_by_id == people["owner"].id
    assert new.id != old.id and new.state == "pending"
    assert actions(account.id) == ["invitation.revoked", "invitation.sent"]


def test_an_address_already_member_is_refused(org):
    account, people = org
    with pytest.raises(Invalid, match="already a member") as caught:
        managing.invite(ours(people["owner"]), account.id, people["viewer"].email.upper(), "member")
    assert caught.value.field == "email"


@pytest.mark.parametrize(("email", "role"), [("nope", "member"), ("a@b.c", "emperor")])
def test_bad_input(org, email, role):
    account, people = org
    with pytest.raises(Invalid):
        managing.invite(ours(people["owner"]), account.id, email, role)
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 0


def test_admins_cannot_invite_owners_and_viewers_cannot_invite(org):
    account, people = org
    with pytest.raises(NotAllowed):
        managing.invite(ours(people["admin"]), account.id, "boss@example.com", "owner")
    with pytest.raises(NotAllowed):
        managing.invite(ours(people["viewer"]), account.id, "x@example.com", "viewer")
    with pytest.raises(NotFound):
        managing.invite(ours(factories.UserFactory()), account.id, "x@example.com", "viewer")
    managing.invite(ours(people["owner"]), account.id, "boss@example.com", "owner")


def test_at_most_50_a_day_resends_included(org, dbs):
    account, people = org
    for _ in range(49):
        factories.InvitationFactory(account=account)
    # Older than a day: not counted.
    factories.InvitationFactory(
        account=account,
        created_at=datetime.now(UTC) - timedelta(days=2),
        expires_at=datetime.now(UTC) + timedelta(days=5),
    )
    inv = managing.invite(ours(people["owner"]), account.id, "fiftieth@example.com", "member")
    assert managing.sends_in_last_day(account.id) == 50
    with pytest.raises(Invalid, match="50 invitations"):
        managing.invite(ours(people["owner"]), account.id, "51st@example.com", "member")
    with pytest.raises(Invalid, match="50 invitations"):
        managing.resend(ours(people["owner"]), account.id, inv.id)


def test_a_resend_counts_toward_the_limit(org, dbs):
    account, people = org
    for _ in range(48):
        factories.InvitationFactory(account=account)
    inv = managing.invite(ours(people["owner"]), account.id, "a@example.com", "member")
    managing.resend(ours(people["owner"]), account.id, inv.id)
    with pytest.raises(Invalid, match="50 invitations"):
        managing.invite(ours(people["owner"]), account.id, "b@example.com", "member")


def test_resend_issues_a_new_link_and_the_old_one_dies(org, sent, dbs):
    account, people = org
    inv = factories.InvitationFactory(
        account=account,
        created_at=datetime.now(UTC) - timedelta(days=9),
        expires_at=datetime.now(UTC) - timedelta(days=2),
    )
    old_hash = inv.token_hash
    again = managing.resend(ours(people["admin"]), account.id, inv.id)
    assert again.invitation.token_hash != old_hash and again.invitation.sent_count == 2
    assert again.state == "pending"
    new_token = token_in(sent[0]["link"])
    assert joining.landing(new_token).invitation.id == inv.id
    assert actions(account.id) == ["invitation.resent"]


def test_revoke_kills_the_link_once(org, dbs):
    account, people = org
    inv, token = factories.InvitationFactory.with_token(account=account)
    managing.revoke(ours(people["owner"]), account.id, inv.id)
    assert ours(inv).revoked_by_id == people["owner"].id
    with pytest.raises(joining.InvitationUnavailable) as caught:
        joining.landing(token)
    assert (caught.value.reason, caught.value.status) == ("revoked", 410)
    with pytest.raises(Invalid, match="revoked"):
        managing.revoke(ours(people["owner"]), account.id, inv.id)
    with pytest.raises(Invalid, match="revoked"):
        managing.resend(ours(people["owner"]), account.id, inv.id)
    assert actions(account.id) == ["invitation.revoked"]


def test_admins_do_not_touch_an_owners_invitation(org, dbs):
    account, people = org
    inv = factories.InvitationFactory(account=account, role="owner")
    with pytest.raises(NotAllowed):
        managing.revoke(ours(people["admin"]), account.id, inv.id)
    with pytest.raises(NotAllowed):
        managing.resend(ours(people["admin"]), account.id, inv.id)
    other = factories.InvitationFactory()  # another organization's
    with pytest.raises(NotFound):
        managing.revoke(ours(people["owner"]), account.id, other.id)


def test_accept_joins_with_the_role_and_tells_the_right_people(org, dbs):
    account, people = org
    second_owner = factories.UserFactory()
    factories.MemberFactory(account=account, user=second_owner, role="owner")
    inv, token = factories.InvitationFactory.with_token(
        account=account, email="ana@example.com", role="billing", invited_by_id=people["admin"].id
    )
    ana = ours(factories.UserFactory(email="Ana@Example.com", name="Ana", email_verified_at=None))
    joined = joining.accept(ana, token)
    assert joined.account.id == account.id and joined.membership.role == "billing"
    row = ours(inv)
    assert row.accepted_by_id == ana.id and row.accepted_at is not None
    assert ana.email_verified_at is not None and ana.last_account_id == account.id
    assert actions(account.id) == ["invitation.accepted", "member.joined"]
    notes = db.session.execute(
        select(Notification.user_id, Notification.kind, Notification.params)
    ).all()
    by_user = {uid: (kind, params) for uid, kind, params in notes}
    assert by_user[people["admin"].id] == (
        "invitation.accepted",
        {"account_name": "Acme Ltda", "member_name": "Ana"},
    )
    joined_params = {"account_name": "Acme Ltda", "member_name": "Ana", "role": "billing"}
    assert by_user[people["owner"].id] == ("member.joined", joined_params)
    assert by_user[second_owner.id] == ("member.joined", joined_params)
    assert people["viewer"].id not in by_user and ana.id not in by_user
    assert len(notes) == 3
    with pytest.raises(joining.InvitationUnavailable) as caught:
        joining.accept(ana, token)
    assert caught.value.reason == "accepted"


def test_accept_refuses_another_address_and_existing_members(org, dbs):
    account, people = org
    inv, token = factories.InvitationFactory.with_token(account=account, email="ana@example.com")
    with pytest.raises(joining.WrongUser):
        joining.accept(ours(factories.UserFactory(email="bob@example.com")), token)
    viewer_inv, viewer_token = factories.InvitationFactory.with_token(
        account=account, email=people["viewer"].email
    )
    with pytest.raises(joining.AlreadyMember):
        joining.accept(ours(people["viewer"]), viewer_token)
    assert ours(inv).accepted_at is None and ours(viewer_inv).accepted_at is None
    assert db.session.scalar(select(func.count()).select_from(AccountMember)) == len(org.members)


@pytest.mark.parametrize(
    ("arrange", "reason", "status"),
    [
        ("unknown", "unknown", 404),
        ("expired", "expired", 410),
        ("revoked", "revoked", 410),
        ("accepted", "accepted", 410),
        ("suspended", "suspended", 409),
    ],
)
def test_unusable_links(org, dbs, arrange, reason, status):
    account, people = org
    now = datetime.now(UTC)
    kwargs = {"account": account, "email": "ana@example.com"}
    if arrange == "expired":
        kwargs.update(created_at=now - timedelta(days=8), expires_at=now - timedelta(seconds=1))
    inv, token = factories.InvitationFactory.with_token(**kwargs)
    if arrange == "revoked":
        inv.revoked_at = now
    elif arrange == "accepted":
        inv.accepted_at, inv.accepted_by_id = now, people["viewer"].id
    elif arrange == "unknown":
        token = token[::-1]
    elif arrange == "suspended":
        suspend(account)
    dbs.commit()
    ana = ours(factories.UserFactory(email="ana@example.com"))
    for call in (lambda: joining.landing(token), lambda: joining.accept(ana, token)):
        with pytest.raises(joining.InvitationUnavailable) as caught:
            call()
        assert (caught.value.reason, caught.value.status) == (reason, status)
    assert db.session.scalar(select(AccountMember).where(AccountMember.user_id == ana.id)) is None


def test_a_suspended_organization_invites_nobody_but_may_revoke(org, dbs):
    account, people = org
    inv = factories.InvitationFactory(account=account)
    suspend(account)
    dbs.commit()
    owner = ours(people["owner"])
    with pytest.raises(Invalid, match="suspended and read-only"):
        managing.invite(owner, account.id, "ana@example.com", "member")
    with pytest.raises(Invalid, match="suspended and read-only"):
        managing.resend(owner, account.id, inv.id)
    assert actions(account.id) == [] and db.session.scalar(select(func.count(EmailOutbox.id))) == 0
    managing.revoke(owner, account.id, inv.id)  # taking access away stays possible
    assert ours(inv).state == "revoked" and actions(account.id) == ["invitation.revoked"]


@pytest.mark.parametrize(("email", "role"), [("nope", "member"), ("a@b.c", "emperor")])
def test_who_may_invite_is_checked_before_the_input(org, email, role):
    account, people = org
    with pytest.raises(NotAllowed):
        managing.invite(ours(people["viewer"]), account.id, email, role)
    with pytest.raises(NotFound):
        managing.invite(ours(factories.UserFactory()), account.id, email, role)


@pytest.mark.parametrize("action", [managing.resend, managing.revoke])
@pytest.mark.parametrize("bad_id", [2**63, 10**30])
def test_ids_beyond_bigint_are_not_found(org, action, bad_id):
    account, people = org
    with pytest.raises(NotFound):
        action(ours(people["owner"]), account.id, bad_id)
    with pytest.raises(NotFound):
        managing.list_invitations(ours(people["owner"]), bad_id)


@pytest.mark.parametrize(
    ("email", "masked"),
    [
        ("ana.souza@example.com", "a•••••••a@example.com"),
        ("jo@x.com.br", "j•@x.com.br"),
        ("a@x.com", "a•@x.com"),
    ],
)
def test_mask_email(email, masked):
    assert tokens.mask_email(email) == masked
