"""Issue 13 items the lead fixed in the shared blocks (web.Rows), checked to hold here:
7 (an invalid role without htmx is a 422 with the page back), 13 (the last owner sees why
they cannot leave, no button), 15 (without JavaScript, Revoke asks first)."""

from __future__ import annotations

from sqlalchemy import select

from portal.models import AccountMember, Invitation
from tests import factories


def _org():
    owner = factories.UserFactory(locale="en")
    account = factories.AccountFactory(owner=owner)
    viewer = factories.UserFactory()
    member = factories.MemberFactory(account=account, user=viewer, role="viewer")
    return owner, account, member


def test_item_7_an_invalid_role_without_htmx_is_422_with_the_page(client, login, csrf_token, dbs):
    owner, account, member = _org()
    login(owner)
    response = client.post(
        f"/accounts/{account.id}/members/{member.id}/role",
        data={"role": "emperor", "csrf_token": csrf_token()},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Choose one of the roles." in html and 'id="members-table"' in html
    dbs.expire_all()
    assert dbs.get(AccountMember, member.id).role == "viewer"


def test_item_13_the_last_owner_sees_why_instead_of_a_leave_button(client, login, dbs):
    owner, account, _member = _org()
    login(owner)
    html = client.get(f"/accounts/{account.id}/members", headers={"Accept-Language": "en"})
    html = html.get_data(as_text=True)
    assert "You are the last owner of this organization." in html
    assert f'action="/accounts/{account.id}/members/leave"' not in html


def test_item_15_revoke_without_javascript_asks_first(client, login, csrf_token, dbs):
    owner, account, _member = _org()
    invitation = factories.InvitationFactory(account=account, email="x@example.com", role="viewer")
    login(owner)
    response = client.post(
        f"/accounts/{account.id}/invitations/{invitation.id}/revoke",
        data={"csrf_token": csrf_token()},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 200
    assert "Revoke the invitation to x@example.com?" in response.get_data(as_text=True)
    dbs.expire_all()
    assert dbs.scalar(select(Invitation.revoked_at).where(Invitation.id == invitation.id)) is None
