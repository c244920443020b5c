"""/accounts/<id>/members: the list, role changes (htmx swaps the row), removal, leaving."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from portal.models import AccountMember, AuditLog, Notification
from tests import factories
from tests.functional.conftest import HTMX, MANAGERS, ROLES, snapshot

pytestmark = pytest.mark.usefixtures("english")

# Everything a members request could write.
WRITES = (
    select(AccountMember.id, AccountMember.role).order_by(AccountMember.id),
    AuditLog,
    Notification,
)


@pytest.fixture
def org(org):
    """The every-role organization and the "target" of role changes and removals (a second
    viewer): (account, people, membership ids)."""
    account, people = org
    people["target"] = factories.UserFactory(name="Tina Target")
    org.members["target"] = factories.MemberFactory(
        account=account, user=people["target"], role="viewer"
    ).id
    return account, people, org.members


def role_of(dbs, membership_id):
    dbs.expire_all()
    return dbs.scalar(select(AccountMember.role).where(AccountMember.id == membership_id))


def url(account, suffix=""):
    return f"/accounts/{account.id}/members{suffix}"


# --------------------------------------------------------------------------- list ---
@pytest.mark.parametrize("role", ROLES)
def test_every_member_sees_the_list(client, login, org, role):
    account, people, ms = org
    login(people[role])
    response = client.get(url(account))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for person in people.values():
        assert person.name in html and person.email in html
    target_id = ms["target"]
    controls = f'action="{url(account, f"/{target_id}/role")}"' in html
    assert controls is (role in MANAGERS)
    assert ('id="member-' in html) and ('id="members-table"' in html)
    # Everyone may leave but the last owner, who is told why instead.
    leave_form = f'action="{url(account, "/leave")}"' in html
    assert leave_form is (role != "owner")
    assert ("You are the last owner of this organization" in html) is (role == "owner")


def test_admins_get_no_controls_on_owners_nor_the_owner_option(client, login, org):
    account, people, ms = org
    login(people["admin"])
    html = client.get(url(account)).get_data(as_text=True)
    assert f"/members/{ms['owner']}/role" not in html
    assert f"/members/{ms['owner']}/remove" not in html
    assert 'value="owner"' not in html
    login(people["owner"])
    assert 'value="owner"' in client.get(url(account)).get_data(as_text=True)


def test_list_partial_for_htmx(client, login, org):
    account, people, _ = org
    login(people["viewer"])
    html = client.get(url(account), headers=HTMX).get_data(as_text=True)
    assert "<html" not in html and html.lstrip().startswith('<div id="members-table"')
    assert "<html" in client.get(url(account)).get_data(as_text=True)


def test_list_query_count_does_not_grow(client, login, dbs, count_queries):
    def measure(size, query_string=None):
        owner = factories.UserFactory()
        account = factories.AccountFactory(owner=owner)
        for _ in range(size - 1):
            factories.MemberFactory(account=account, role="member")
        login(owner)
        with count_queries() as queries:
            response = client.get(url(account), query_string=query_string)
        assert response.status_code == 200
        assert response.get_data(as_text=True).count('<tr id="member-') == min(size, 50)
        return len(queries)

    assert measure(3) == measure(60) <= 6
    assert measure(60, {"q": "example"}) == measure(3)


def _crowd(size):
    """An organization of ``size`` members (the owner first), joined one second apart."""
    owner = factories.UserFactory(name="Owner Zero", email="owner.zero@example.com")
    account = factories.AccountFactory(owner=owner)
    members = [owner]
    for i in range(1, size):
        person = factories.UserFactory(name=f"Person {i:03d}", email=f"p{i:03d}@crowd.example")
        factories.MemberFactory(
            account=account,
            user=person,
            role="member",
            created_at=datetime(2026, 1, 1, tzinfo=UTC).replace(second=i % 60, minute=i // 60),
        )
        members.append(person)
    return account, owner, members


def test_members_come_in_pages_of_fifty_oldest_first(client, login, dbs):
    account, owner, members = _crowd(120)
    login(owner)
    seen = []
    next_url = url(account)
    for _ in range(3):
        html = client.get(next_url).get_data(as_text=True)
        seen += [p.email for p in members if f">{p.email}<" in html]
        found = re.search(r'<a class="button secondary" rel="next" href="([^"]+)"', html)
        next_url = found.group(1).replace("&amp;", "&") if found else None
        if next_url is None:
            break
    assert next_url is None
    assert sorted(seen) == sorted(p.email for p in members) and len(seen) == 120
    page_one = client.get(url(account)).get_data(as_text=True)
    assert page_one.count('<tr id="member-') == 50
    assert page_one.index("Person 001") < page_one.index("Person 002")


def test_search_by_name_or_email_stays_in_the_url(client, login, dbs):
    account, owner, members = _crowd(70)
    login(owner)
    html = client.get(url(account), query_string={"q": "PERSON 06"}).get_data(as_text=True)
    assert html.count('<tr id="member-') == 10  # Person 060 … 069
    assert 'value="PERSON 06"' in html
    by_email = client.get(url(account), query_string={"q": "p007@"}).get_data(as_text=True)
    assert by_email.count('<tr id="member-') == 1 and "Person 007" in by_email
    # A LIKE wildcard is searched for as itself.
    wildcard = client.get(url(account), query_string={"q": "%"}).get_data(as_text=True)
    assert 'id="member-' not in wildcard
    assert "No member" in wildcard, wildcard[wildcard.index('id="members-results"') :]
    # The next page keeps the search.
    wide = client.get(url(account), query_string={"q": "crowd"}).get_data(as_text=True)
    assert wide.count('<tr id="member-') == 50
    assert "q=crowd" in re.search(r'rel="next" href="([^"]+)"', wide).group(1)


def test_live_search_answers_the_results_piece(client, login, dbs):
    account, owner, _ = _crowd(5)
    login(owner)
    html = client.get(url(account), query_string={"q": "person 00"}, headers=HTMX).get_data(
        as_text=True
    )
    assert "<html" not in html and 'id="members-results"' in html
    assert html.count('<tr id="member-') == 4
    assert 'hx-trigger="input changed delay:300ms, search"' in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"q": "x" * 101}, "Field cannot be longer than 100 characters."),
        ({"before": "not-a-cursor"}, "This page link is not valid."),
    ],
)
def test_a_bad_search_or_cursor_is_422(client, login, dbs, org, query, message):
    account, people, _ = org
    login(people["viewer"])
    response = client.get(url(account), query_string=query)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and 'id="member-' not in html


def test_a_refused_change_without_javascript_shows_that_member_wherever_it_is(
    client, login, csrf_token, dbs
):
    account, owner, members = _crowd(60)
    login(owner)
    owner_id = dbs.scalar(
        select(AccountMember.id).where(
            AccountMember.account_id == account.id, AccountMember.user_id == owner.id
        )
    )
    factories.MemberFactory(account=account, role="owner")  # joins last: page 2
    last = dbs.scalar(select(func.max(AccountMember.id)))
    response = client.post(
        url(account, f"/{last}/role"), data={"role": "emperor", "csrf_token": csrf_token()}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.count('<tr id="member-') == 1 and f'id="member-{last}-error"' in html
    assert "Choose one of the roles." in html and "Show all members" in html
    assert owner_id != last


# -------------------------------------------------------------------- change role ---
@pytest.mark.parametrize("role", ROLES)
def test_change_role_by_role(client, login, csrf_token, dbs, org, role):
    account, people, ms = org
    login(people[role])
    before = snapshot(dbs, *WRITES)
    response = client.post(
        url(account, f"/{ms['target']}/role"), data={"role": "billing", "csrf_token": csrf_token()}
    )
    if role in MANAGERS:
        assert response.status_code == 302 and response.headers["Location"] == url(account)
        assert role_of(dbs, ms["target"]) == "billing"
        log = dbs.scalar(select(AuditLog).where(AuditLog.action == "member.role_changed"))
        assert log.actor_id == people[role].id and log.details["new_role"] == "billing"
        note = dbs.scalar(select(Notification).where(Notification.user_id == people["target"].id))
        assert note.kind == "member.role_changed" and note.params["role"] == "billing"
        page = client.get(url(account)).get_data(as_text=True)
        assert "Tina Target is now Billing." in page
    else:
        assert response.status_code == 403
        assert snapshot(dbs, *WRITES) == before


def test_change_role_with_htmx_swaps_the_row(client, login, csrf_token, dbs, org):
    account, people, ms = org
    login(people["owner"])
    response = client.post(
        url(account, f"/{ms['target']}/role"),
        data={"role": "member", "csrf_token": csrf_token()},
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    target_id = ms["target"]
    assert "<html" not in html and html.lstrip().startswith(f'<tr id="member-{target_id}"')
    assert '<option value="member" selected>' in html and "is now Member" in html


@pytest.mark.parametrize(
    ("actor", "target", "new_role"),
    [("admin", "owner", "viewer"), ("admin", "target", "owner"), ("admin", "owner", "owner")],
)
def test_admins_never_act_on_owners_nor_grant_owner(
    client, login, csrf_token, dbs, org, actor, target, new_role
):
    account, people, ms = org
    login(people[actor])
    before = snapshot(dbs, *WRITES)
    response = client.post(
        url(account, f"/{ms[target]}/role"), data={"role": new_role, "csrf_token": csrf_token()}
    )
    assert response.status_code == 403
    assert snapshot(dbs, *WRITES) == before


def test_the_last_owner_cannot_be_demoted(client, login, csrf_token, dbs, org):
    account, people, ms = org
    login(people["owner"])
    before = snapshot(dbs, *WRITES)
    path = url(account, f"/{ms['owner']}/role")
    partial = client.post(path, data={"role": "admin", "csrf_token": csrf_token()}, headers=HTMX)
    assert partial.status_code == 422
    html = partial.get_data(as_text=True)
    assert "<html" not in html and "is the last owner of this organization" in html
    assert snapshot(dbs, *WRITES) == before
    # Without JavaScript: the whole page again, the message next to that member (422).
    plain = client.post(path, data={"role": "admin", "csrf_token": csrf_token()})
    assert plain.status_code == 422
    page = plain.get_data(as_text=True)
    assert "<html" in page and f'id="member-{ms["owner"]}-error"' in page
    assert "is the last owner of this organization" in page
    assert snapshot(dbs, *WRITES) == before


def test_a_second_owner_makes_demotion_possible(client, login, csrf_token, dbs, org):
    account, people, ms = org
    login(people["owner"])
    token = csrf_token()
    client.post(url(account, f"/{ms['admin']}/role"), data={"role": "owner", "csrf_token": token})
    response = client.post(
        url(account, f"/{ms['owner']}/role"), data={"role": "viewer", "csrf_token": token}
    )
    assert response.status_code == 302
    assert role_of(dbs, ms["owner"]) == "viewer"


def test_an_unknown_role_is_422_with_htmx(client, login, csrf_token, dbs, org):
    account, people, ms = org
    login(people["owner"])
    before = snapshot(dbs, *WRITES)
    response = client.post(
        url(account, f"/{ms['target']}/role"),
        data={"role": "emperor", "csrf_token": csrf_token()},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "Choose one of the roles." in response.get_data(as_text=True)
    assert snapshot(dbs, *WRITES) == before


def test_acting_on_another_organizations_member_is_404(client, login, csrf_token, dbs, org):
    account, people, _ = org
    other = factories.MemberFactory(role="viewer")
    login(people["owner"])
    before = snapshot(dbs, *WRITES)
    token = csrf_token()
    assert (
        client.post(url(account, f"/{other.id}/role"), data={"role": "member", "csrf_token": token})
    ).status_code == 404
    assert (
        client.post(
            url(account, f"/{other.id}/remove"), data={"csrf_token": token, "confirmed": "1"}
        ).status_code
        == 404
    )
    # A person of another organization acting on this one's members.
    login(factories.UserFactory())
    for suffix in (f"/{people['target'].id}/role", f"/{people['target'].id}/remove", "/leave"):
        response = client.post(url(account, suffix), data={"role": "member", "csrf_token": token})
        assert response.status_code == 404
    assert snapshot(dbs, *WRITES) == before


@pytest.mark.parametrize("suffix", ["/{id}/role", "/{id}/remove", "/leave"])
def test_csrf_is_required(client, login, dbs, org, suffix):
    account, people, ms = org
    login(people["owner"])
    before = snapshot(dbs, *WRITES)
    response = client.post(url(account, suffix.format(id=ms["target"])), data={"role": "member"})
    assert response.status_code == 400
    assert snapshot(dbs, *WRITES) == before


# ------------------------------------------------------------------------- remove ---
@pytest.mark.parametrize("role", ROLES)
def test_remove_by_role(client, login, csrf_token, dbs, org, role):
    account, people, ms = org
    login(people[role])
    before = snapshot(dbs, *WRITES)
    response = client.post(
        url(account, f"/{ms['target']}/remove"), data={"csrf_token": csrf_token(), "confirmed": "1"}
    )
    if role in MANAGERS:
        assert response.status_code == 302
        assert role_of(dbs, ms["target"]) is None
        assert dbs.scalar(select(AuditLog.action).where(AuditLog.actor_id == people[role].id)) == (
            "member.removed"
        )
        note = dbs.scalar(select(Notification).where(Notification.user_id == people["target"].id))
        assert note.kind == "member.removed" and note.params["account_name"] == "Acme Ltda"
    else:
        assert response.status_code == 403
        assert snapshot(dbs, *WRITES) == before


def test_remove_with_htmx_replaces_the_row_with_the_message(client, login, csrf_token, org):
    account, people, ms = org
    login(people["admin"])
    response = client.post(
        url(account, f"/{ms['target']}/remove"), data={"csrf_token": csrf_token()}, headers=HTMX
    )
    html = response.get_data(as_text=True)
    target_id = ms["target"]
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<tr id="member-{target_id}" class="gone-row">')
    assert "Tina Target was removed" in html and "Remove" not in html


def test_remove_without_javascript_asks_first(client, login, csrf_token, dbs, org):
    account, people, ms = org
    login(people["admin"])
    before = snapshot(dbs, *WRITES)
    path = url(account, f"/{ms['target']}/remove")
    ask = client.post(path, data={"csrf_token": csrf_token()})
    page = ask.get_data(as_text=True)
    assert ask.status_code == 200 and "Remove Tina Target from Acme Ltda?" in page
    assert f'action="{path}"' in page and 'name="confirmed" value="1"' in page
    assert snapshot(dbs, *WRITES) == before  # nothing happened yet
    done = client.post(path, data={"csrf_token": csrf_token(), "confirmed": "1"})
    assert done.status_code == 302 and role_of(dbs, ms["target"]) is None


def test_admin_cannot_remove_an_owner_and_self_removal_is_refused(
    client, login, csrf_token, dbs, org
):
    account, people, ms = org
    before = snapshot(dbs, *WRITES)
    login(people["admin"])
    response = client.post(
        url(account, f"/{ms['owner']}/remove"), data={"csrf_token": csrf_token(), "confirmed": "1"}
    )
    assert response.status_code == 403
    login(people["owner"])
    response = client.post(
        url(account, f"/{ms['owner']}/remove"),
        data={"csrf_token": csrf_token(), "confirmed": "1"},
        headers=HTMX,
    )
    assert response.status_code == 422 and "Leave organization" in response.get_data(as_text=True)
    assert snapshot(dbs, *WRITES) == before


# -------------------------------------------------------------------------- leave ---
@pytest.mark.parametrize("role", ["admin", "member", "billing", "viewer"])
def test_anyone_can_leave(client, login, csrf_token, dbs, org, role):
    account, people, ms = org
    login(people[role])
    response = client.post(
        url(account, "/leave"), data={"csrf_token": csrf_token(), "confirmed": "1"}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert role_of(dbs, ms[role]) is None
    note = dbs.scalar(select(Notification).where(Notification.user_id == people["owner"].id))
    assert note.kind == "member.left" and note.params["member_name"] == people[role].name
    assert client.get(url(account)).status_code == 404


def test_leave_with_htmx_redirects_the_page(client, login, csrf_token, org):
    account, people, _ = org
    login(people["viewer"])
    response = client.post(
        url(account, "/leave"), data={"csrf_token": csrf_token(), "confirmed": "1"}, headers=HTMX
    )
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/"


def test_the_last_owner_cannot_leave(client, login, csrf_token, dbs, org):
    account, people, ms = org
    login(people["owner"])
    before = snapshot(dbs, *WRITES)
    partial = client.post(
        url(account, "/leave"), data={"csrf_token": csrf_token(), "confirmed": "1"}, headers=HTMX
    )
    assert partial.status_code == 422
    html = partial.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="leave"') and "You are the last owner" in html
    plain = client.post(url(account, "/leave"), data={"csrf_token": csrf_token(), "confirmed": "1"})
    assert plain.status_code == 422 and "You are the last owner" in plain.get_data(as_text=True)
    assert snapshot(dbs, *WRITES) == before
    # The page never offers the last owner a button that can only fail.
    page = client.get(url(account)).get_data(as_text=True)
    assert f'action="{url(account, "/leave")}"' not in page
    assert page.count("You are the last owner of this organization") == 1


# ---------------------------------------------------------------- odd input, state ---
@pytest.mark.parametrize(
    "path",
    [
        "/accounts/{big}/members",
        "/accounts/{account}/members/{big}/role",
        "/accounts/{account}/members/{big}/remove",
        "/accounts/{big}/members/leave",
    ],
)
@pytest.mark.parametrize("big", [2**63, 10**30])
def test_ids_beyond_bigint_are_404(client, login, csrf_token, dbs, org, path, big):
    account, people, _ = org
    login(people["owner"])
    before = snapshot(dbs, *WRITES)
    path = path.format(account=account.id, big=big)
    method = client.get if path.endswith("/members") else client.post
    response = method(path, data={"role": "viewer", "csrf_token": csrf_token()})
    assert response.status_code == 404
    assert snapshot(dbs, *WRITES) == before


@pytest.mark.parametrize(("who", "status"), [("stranger", 404), ("viewer", 403)])
@pytest.mark.parametrize("role", ["emperor", ""])
def test_a_bad_role_from_someone_who_may_not_act_is_404_or_403(
    client, login, csrf_token, dbs, org, who, status, role
):
    account, people, ms = org
    login(factories.UserFactory() if who == "stranger" else people[who])
    before = snapshot(dbs, *WRITES)
    response = client.post(
        url(account, f"/{ms['target']}/role"), data={"role": role, "csrf_token": csrf_token()}
    )
    assert response.status_code == status
    assert snapshot(dbs, *WRITES) == before


def test_a_suspended_organization_changes_no_role_but_removal_works(
    client, login, csrf_token, dbs, org
):
    account, people, ms = org
    account.status, account.suspended_at = "suspended", datetime.now(UTC)
    dbs.commit()
    login(people["owner"])
    before = snapshot(dbs, *WRITES)
    response = client.post(
        url(account, f"/{ms['target']}/role"),
        data={"role": "admin", "csrf_token": csrf_token()},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "suspended and read-only" in response.get_data(as_text=True)
    assert snapshot(dbs, *WRITES) == before
    response = client.post(
        url(account, f"/{ms['target']}/remove"), data={"csrf_token": csrf_token(), "confirmed": "1"}
    )
    assert response.status_code == 302 and role_of(dbs, ms["target"]) is None
