"""A suspended organization is read-only: every page of it shows the suspension and its
reason, and every write control that would fail (invite, resend, change a role, ask for a
quota) is drawn disabled with that reason — what only takes access away (revoke, remove,
leave) stays. The same pages of an active organization have their forms."""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests import factories

REASON = "Fatura de março em atraso"
BANNER = f"This organization is suspended and read-only: {REASON}."


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def make_org(dbs, status):
    owner = factories.UserFactory()
    account = factories.AccountFactory(owner=owner, status=status, name="Pausa Ltda")
    if status == "suspended":
        account.suspension_reason = REASON
        dbs.commit()
    member = factories.MemberFactory(account=account, role="viewer")
    invitation = factories.InvitationFactory(account=account)
    return account, owner, member, invitation


def disabled(html, label):
    return re.search(
        rf'<button type="button" class="[^"]*" disabled aria-describedby="[^"]+">{label}</button>',
        html,
    )


@pytest.mark.parametrize("page", ["/", "/members", "/invitations", "/quotas"])
def test_every_page_of_a_suspended_organization_shows_the_reason(client, login, dbs, page):
    account, owner, _, _ = make_org(dbs, "suspended")
    login(owner)
    html = unescape(client.get(f"/accounts/{account.id}{page}").get_data(as_text=True))
    assert f'<p class="notice read-only-banner" id="account-read-only">{BANNER}' in html


def test_the_dashboard_says_since_when(client, login, dbs):
    account, owner, _, _ = make_org(dbs, "suspended")
    login(owner)
    html = unescape(client.get(f"/accounts/{account.id}/").get_data(as_text=True))
    assert 'id="suspended-on"' in html and "Every change stays disabled" in html


@pytest.mark.parametrize("status", ["active", "suspended"])
def test_write_controls_are_disabled_with_the_reason_when_suspended(client, login, dbs, status):
    account, owner, member, invitation = make_org(dbs, status)
    suspended = status == "suspended"
    login(owner)

    members = unescape(client.get(f"/accounts/{account.id}/members").get_data(as_text=True))
    assert (f'action="/accounts/{account.id}/members/{member.id}/role"' in members) is not suspended
    assert bool(disabled(members, "Change role")) is suspended
    # Removing only takes access away: it stays.
    assert f'action="/accounts/{account.id}/members/{member.id}/remove"' in members

    page = unescape(client.get(f"/accounts/{account.id}/invitations").get_data(as_text=True))
    assert (f'action="/accounts/{account.id}/invitations"' in page) is not suspended
    assert bool(disabled(page, "Send invitation")) is suspended
    resend = f'action="/accounts/{account.id}/invitations/{invitation.id}/resend"'
    assert (resend in page) is not suspended
    assert bool(disabled(page, "Resend")) is suspended
    assert f'action="/accounts/{account.id}/invitations/{invitation.id}/revoke"' in page
    if suspended:  # the form's own control says why, next to it
        assert re.search(rf'<span class="hint" id="invite-reason">{BANNER}', page)

    quotas = unescape(client.get(f"/accounts/{account.id}/quotas").get_data(as_text=True))
    assert (f'action="/accounts/{account.id}/quotas/requests"' in quotas) is not suspended
    assert bool(disabled(quotas, "Send the request")) is suspended


def test_row_controls_point_at_the_banner(client, login, dbs):
    account, owner, _, _ = make_org(dbs, "suspended")
    login(owner)
    html = client.get(f"/accounts/{account.id}/members").get_data(as_text=True)
    assert 'disabled aria-describedby="account-read-only">Change role</button>' in html


def test_a_suspension_without_a_recorded_reason_still_explains(client, login, dbs):
    account, owner, _, _ = make_org(dbs, "suspended")
    account.suspension_reason = None
    dbs.commit()
    login(owner)
    html = unescape(client.get(f"/accounts/{account.id}/").get_data(as_text=True))
    assert "This organization is suspended and read-only. Nothing can be created" in html
