"""Server-side sessions (issue 13, item 1): logging out ends the session for good, /sessions
lists the person's sessions with "log out" per session and "log out everywhere else",
"last seen" is written at most once a minute, and loading a session is one query."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from portal import clock
from portal.audit import Action
from portal.models import AuditLog, UserSession
from tests import factories

HTMX = {"HX-Request": "true"}
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def browser(app, user_agent=FIREFOX, ip="203.0.113.7"):
    from tests.conftest import ClosingClient

    app.test_client_class = ClosingClient
    c = app.test_client()
    c.environ_base.update(HTTP_ACCEPT_LANGUAGE="en", HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip)
    return c


def csrf_of(c, path="/login") -> str:
    response = c.get(path)
    if response.status_code == 302:  # /login when logged in: any page has the token
        response = c.get("/notifications")
    html = response.get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def log_in(c, user, remember=False):
    data = {"email": user.email, "password": factories.PASSWORD, "csrf_token": csrf_of(c)}
    if remember:
        data["remember"] = "y"
    response = c.post("/login", data=data)
    assert response.status_code == 302
    return c


def log_out(c):
    token = csrf_of(c, "/notifications")
    assert c.post("/logout", data={"csrf_token": token}).status_code == 302


def is_logged_in(c, account) -> bool:
    response = c.get(f"/accounts/{account.id}/")
    return response.status_code == 200


def sessions_of(dbs, user) -> list[UserSession]:
    dbs.expire_all()
    return list(
        dbs.scalars(select(UserSession).where(UserSession.user_id == user.id).order_by("id"))
    )


def actions(dbs, action) -> list[AuditLog]:
    dbs.expire_all()
    return list(dbs.scalars(select(AuditLog).where(AuditLog.action == str(action))))


# ------------------------------------------------------------- logout is for good ---
def test_a_copied_session_cookie_stops_working_after_logout(app, dbs):
    user = factories.UserFactory()
    account = factories.AccountFactory(owner=user)
    victim = log_in(browser(app), user)
    copied = victim.get_cookie("session").value
    thief = browser(app, ip="198.51.100.66")
    thief.set_cookie("session", copied)
    assert is_logged_in(thief, account)

    log_out(victim)
    assert sessions_of(dbs, user) == []
    response = thief.get(f"/accounts/{account.id}/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    # Nor can it submit a form: the copied cookie's CSRF token still matches, the person
    # does not.
    token = csrf_of(thief, "/login")
    response = thief.post(
        f"/accounts/{account.id}/invitations",
        data={"email": "intruder@example.com", "role": "owner", "csrf_token": token},
    )
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert actions(dbs, Action.INVITATION_SENT) == []


def test_a_copied_remember_me_cookie_stops_working_after_logout(app, dbs):
    user = factories.UserFactory()
    account = factories.AccountFactory(owner=user)
    victim = log_in(browser(app), user, remember=True)
    remember = victim.get_cookie("remember_token").value
    thief = browser(app)
    thief.set_cookie("remember_token", remember)
    assert is_logged_in(thief, account)  # the cookie alone logs in (30 days)

    log_out(victim)
    later = browser(app)
    later.set_cookie("remember_token", remember)
    assert not is_logged_in(later, account)


def test_the_cookies_hold_a_random_session_id_and_the_table_only_its_hash(app, dbs):
    from portal.sessions.services import digest

    user = factories.UserFactory()
    c = log_in(browser(app), user, remember=True)
    with c.session_transaction() as session:
        session_id = session["_user_id"]
    assert len(session_id) >= 40 and str(user.id) != session_id
    (row,) = sessions_of(dbs, user)
    assert row.token_hash == digest(session_id) and session_id not in row.token_hash
    assert row.remember and row.user_agent == FIREFOX and str(row.ip) == "203.0.113.7"
    assert timedelta(days=29) < row.expires_at - row.created_at <= timedelta(days=30)


def test_logging_in_again_starts_another_session_and_keeps_rotation(app, dbs):
    user = factories.UserFactory()
    c = log_in(browser(app), user)
    with c.session_transaction() as session:
        first = session["_user_id"]
    log_in(c, user)
    with c.session_transaction() as session:
        assert session["_user_id"] != first
    assert len(sessions_of(dbs, user)) == 2


def test_a_password_reset_ends_every_session(app, client, csrf_token, dbs):
    user = factories.UserFactory()
    account = factories.AccountFactory(owner=user)
    laptop = log_in(browser(app), user, remember=True)
    remember = laptop.get_cookie("remember_token").value
    _row, token = factories.PasswordResetFactory.with_token(user=user)
    response = client.post(
        f"/password/reset/{token}",
        data={"password": "a brand new passphrase", "csrf_token": csrf_token()},
    )
    assert response.status_code == 302
    assert sessions_of(dbs, user) == []
    assert not is_logged_in(laptop, account)
    fresh = browser(app)
    fresh.set_cookie("remember_token", remember)
    assert not is_logged_in(fresh, account)
    (row,) = actions(dbs, Action.USER_PASSWORD_RESET)
    assert row.details == {"sessions_ended": 1}


def test_an_idle_session_expires(app, dbs):
    user = factories.UserFactory()
    account = factories.AccountFactory(owner=user)
    c = log_in(browser(app), user)
    with clock.travel(clock.now() + timedelta(hours=11)):
        assert is_logged_in(c, account)  # and its expiry moves on
    with clock.travel(clock.now() + timedelta(hours=22)):
        assert is_logged_in(c, account)
    with clock.travel(clock.now() + timedelta(hours=35)):
        assert not is_logged_in(c, account)


def test_login_logout_and_revocations_are_audited(app, dbs):
    user = factories.UserFactory()
    phone = log_in(browser(app, IPHONE, "198.51.100.1"), user)
    laptop = log_in(browser(app), user)
    other = log_in(browser(app, ip="192.0.2.9"), user)
    (row,) = sessions_of(dbs, user)[:1]
    token = csrf_of(laptop, "/sessions")
    assert (
        laptop.post(
            f"/sessions/{row.id}/revoke", data={"csrf_token": token}, headers=HTMX
        ).status_code
        == 200
    )
    assert (
        laptop.post("/sessions/revoke-others", data={"csrf_token": token}, headers=HTMX).status_code
        == 200
    )
    log_out(laptop)
    assert len(actions(dbs, Action.USER_LOGGED_IN)) == 3
    (revoked,) = actions(dbs, Action.USER_SESSION_REVOKED)
    assert revoked.actor_id == user.id and revoked.target_label == user.email
    assert revoked.details == {"device": "Safari on iOS", "session_ip": "198.51.100.1"}
    (others,) = actions(dbs, Action.USER_OTHER_SESSIONS_REVOKED)
    assert others.details == {"count": 1}
    assert len(actions(dbs, Action.USER_LOGGED_OUT)) == 1
    assert not is_logged_in(phone, factories.AccountFactory(owner=user))
    assert other.get("/sessions").status_code == 302


# ---------------------------------------------------------------------- /sessions ---
def test_the_sessions_page_lists_device_ip_and_last_seen_this_one_first(app, dbs):
    user = factories.UserFactory()
    log_in(browser(app, IPHONE, "198.51.100.1"), user)
    me = log_in(browser(app), user)
    html = me.get("/sessions").get_data(as_text=True)
    rows = re.findall(r'<tr id="session-(\d+)">(.*?)</tr>', html, re.S)
    assert len(rows) == 2
    current, phone = rows
    assert "Firefox on Linux" in current[1] and "This browser" in current[1]
    assert "203.0.113.7" in current[1] and "/revoke" not in current[1]
    assert "Safari on iOS" in phone[1] and "198.51.100.1" in phone[1]
    assert f"/sessions/{phone[0]}/revoke" in phone[1]
    assert "Log out everywhere else" in html
    assert re.search(r"Times are in your time zone \(America/Sao_Paulo\)", html)


def test_log_out_one_session_with_htmx_swaps_the_row(app, dbs):
    user = factories.UserFactory()
    account = factories.AccountFactory(owner=user)
    phone = log_in(browser(app, IPHONE), user)
    me = log_in(browser(app), user)
    target = sessions_of(dbs, user)[0]
    response = me.post(
        f"/sessions/{target.id}/revoke",
        data={"csrf_token": csrf_of(me, "/sessions")},
        headers=HTMX,
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert f'id="session-{target.id}"' in body and "Safari on iOS was logged out" in body
    assert not is_logged_in(phone, account)
    assert is_logged_in(me, account)


def test_without_javascript_log_out_asks_first(app, dbs):
    user = factories.UserFactory()
    log_in(browser(app, IPHONE), user)
    me = log_in(browser(app), user)
    target = sessions_of(dbs, user)[0]
    token = csrf_of(me, "/sessions")
    response = me.post(f"/sessions/{target.id}/revoke", data={"csrf_token": token})
    assert response.status_code == 200
    assert "Log out the session on Safari on iOS?" in response.get_data(as_text=True)
    assert len(sessions_of(dbs, user)) == 2
    response = me.post(
        f"/sessions/{target.id}/revoke", data={"csrf_token": token, "confirmed": "1"}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/sessions"
    assert len(sessions_of(dbs, user)) == 1
    assert "was logged out" in me.get("/sessions").get_data(as_text=True)


def test_log_out_everywhere_else_keeps_only_this_browser(app, dbs):
    user = factories.UserFactory()
    account = factories.AccountFactory(owner=user)
    others = [log_in(browser(app, IPHONE), user), log_in(browser(app), user, remember=True)]
    me = log_in(browser(app), user)
    token = csrf_of(me, "/sessions")
    response = me.post("/sessions/revoke-others", data={"csrf_token": token})
    assert response.status_code == 200 and "Please confirm" in response.get_data(as_text=True)
    assert len(sessions_of(dbs, user)) == 3
    response = me.post("/sessions/revoke-others", data={"csrf_token": token, "confirmed": "1"})
    assert response.status_code == 302
    assert "2 other sessions were logged out." in me.get("/sessions").get_data(as_text=True)
    assert len(sessions_of(dbs, user)) == 1
    assert [is_logged_in(o, account) for o in others] == [False, False]
    assert is_logged_in(me, account)


def test_another_persons_session_is_404_and_this_one_is_422(app, dbs):
    user = factories.UserFactory()
    stranger = factories.UserFactory()
    log_in(browser(app), stranger)
    me = log_in(browser(app), user)
    theirs = sessions_of(dbs, stranger)[0]
    mine = sessions_of(dbs, user)[0]
    token = csrf_of(me, "/sessions")
    for extra in ({}, {"confirmed": "1"}):
        response = me.post(f"/sessions/{theirs.id}/revoke", data={"csrf_token": token, **extra})
        assert response.status_code == 404
    response = me.post(f"/sessions/{mine.id}/revoke", data={"csrf_token": token, "confirmed": "1"})
    assert response.status_code == 422
    assert "to end it, log out" in response.get_data(as_text=True)
    assert len(sessions_of(dbs, stranger)) == 1 and len(sessions_of(dbs, user)) == 1


def test_sessions_page_needs_login(client):
    response = client.get("/sessions")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


# ------------------------------------------------------------------ per-request cost ---
def _session_statements(statements):
    return [s for s in statements if "user_sessions" in s]


def test_loading_the_session_is_one_query_and_last_seen_is_written_once_a_minute(
    app, client, login, dbs, count_queries
):
    user = login(factories.UserFactory())
    account = factories.AccountFactory(owner=user)
    with count_queries() as queries:
        assert client.get(f"/accounts/{account.id}/").status_code == 200
    (load,) = _session_statements(queries)
    assert load.lstrip().upper().startswith("SELECT")
    with count_queries() as queries:
        for _ in range(3):
            client.get(f"/accounts/{account.id}/")
    assert len(_session_statements(queries)) == 3  # three loads, no write

    later = clock.now() + timedelta(minutes=2)
    with clock.travel(later), count_queries() as queries:
        client.get(f"/accounts/{account.id}/")
        client.get(f"/accounts/{account.id}/")
    statements = _session_statements(queries)
    assert [s.lstrip().split()[0].upper() for s in statements] == ["SELECT", "UPDATE", "SELECT"]
    (row,) = sessions_of(dbs, user)
    assert abs(row.last_seen_at - later) < timedelta(seconds=30)


def test_the_session_lookup_uses_the_unique_index(app, dbs):
    """The query every request runs reads uq_user_sessions_token_hash (a tiny test table
    would be scanned whole, so sequential scans are switched off to see the plan the
    planner picks at scale)."""
    from portal.extensions import db
    from portal.sessions import services as sessions

    user = factories.UserFactory()
    with app.test_request_context():
        token = sessions.start(user)
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        stmt = (
            select(UserSession.id)
            .where(UserSession.token_hash == sessions.digest(token))
            .compile(db.engine, compile_kwargs={"literal_binds": True})
        )
        plan = "\n".join(r[0] for r in db.session.execute(text(f"EXPLAIN {stmt}")).all())
    assert "uq_user_sessions_token_hash" in plan, plan


def test_the_sessions_page_issues_a_fixed_number_of_queries(app, client, login, dbs, count_queries):
    user = login(factories.UserFactory())
    with count_queries() as few:
        assert client.get("/sessions").status_code == 200
    for _ in range(5):
        log_in(browser(app), user)
    with count_queries() as many:
        assert client.get("/sessions").status_code == 200
    assert len(many) == len(few)
