"""The audit log pages (an organization's, the platform's) and their CSV exports."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from portal.audit import Action
from portal.models import AuditLog
from tests import factories

T0 = datetime(2025, 3, 10, 15, 0, tzinfo=UTC)
ROW_ID = re.compile(r'<tr id="audit-(\d+)"')
OLDER = re.compile(r'<a class="button secondary" rel="next" href="([^"]+)"')


def ids_in(html: str) -> list[int]:
    return [int(i) for i in ROW_ID.findall(html)]


def older_link(html: str) -> str | None:
    match = OLDER.search(html)
    return match.group(1).replace("&amp;", "&") if match else None


@pytest.fixture
def acme(dbs):
    """An organization and its owner (its log's reader)."""
    owner = factories.UserFactory(name="Olga Owner")
    account = factories.AccountFactory(owner=owner, name="Acme Armazenamento Ltda")
    return account, owner


def log(account, actor=None, at=T0, **kw):
    return factories.AuditLogFactory(account=account, actor=actor, created_at=at, **kw)


def audit_count(dbs) -> int:
    return dbs.scalar(select(func.count()).select_from(AuditLog))


# ------------------------------------------------------------------------ entries ---
def test_an_entry_says_when_who_what_on_what_from_where_and_details(client, login, dbs, acme):
    account, owner = acme
    member = factories.UserFactory(name="Maria Membro", email="maria@example.com")
    factories.MemberFactory(account=account, user=member, role="member")
    log(
        account,
        owner,
        action=Action.MEMBER_ROLE_CHANGED.value,
        target_type="member",
        target_id=str(member.id),
        target_label="maria@example.com",
        details={"old_role": "viewer", "new_role": "member"},
        ip="198.51.100.4",
    )
    log(account, None, at=T0 - timedelta(hours=1), action=Action.ACCOUNT_STATUS_CHANGED.value)
    login(owner)
    html = client.get(f"/accounts/{account.id}/audit").get_data(as_text=True)

    assert "Changed the role of" in html
    assert f'<a href="/accounts/{account.id}/members">maria@example.com</a>' in html
    assert "Olga Owner" in html and ">system<" in html
    assert "198.51.100.4" in html
    assert '<span class="muted">New role:</span> Member' in html
    assert '<span class="muted">Previous role:</span> Viewer' in html
    assert f'datetime="{T0.isoformat()}"' in html


def test_a_target_that_is_gone_is_plain_text(client, login, dbs, acme):
    account, owner = acme
    log(
        account,
        owner,
        action=Action.MEMBER_REMOVED.value,
        target_type="member",
        target_id="987654321",
        target_label="gone@example.com",
    )
    login(owner)
    html = client.get(f"/accounts/{account.id}/audit").get_data(as_text=True)
    assert "gone@example.com" in html
    assert ">gone@example.com</a>" not in html


def test_newest_first_and_pages_through_identical_timestamps(
    client, login, dbs, acme, app, monkeypatch
):
    monkeypatch.setitem(app.config, "AUDIT_PAGE_SIZE", 3)
    account, owner = acme
    tied = [log(account, owner, at=T0) for _ in range(5)]
    newer = log(account, owner, at=T0 + timedelta(seconds=1))
    older = [log(account, owner, at=T0 - timedelta(days=d)) for d in (1, 2)]
    log(factories.AccountFactory(owner=factories.UserFactory()), None, at=T0)  # not ours
    expected = [newer.id] + sorted((r.id for r in tied), reverse=True) + [r.id for r in older]
    login(owner)

    pages, url = [], f"/accounts/{account.id}/audit"
    while url:
        html = client.get(url).get_data(as_text=True)
        pages.append(ids_in(html))
        url = older_link(html)

    assert [len(p) for p in pages] == [3, 3, 2]
    assert [i for p in pages for i in p] == expected
    assert "Newest entries" in html  # the last page links back to the first


def test_the_page_issues_a_fixed_number_of_queries(client, login, dbs, acme, count_queries):
    account, owner = acme
    login(owner)
    counts, existing = [], 0
    for n in (5, 50):
        for i in range(existing, n):
            log(account, owner if i % 2 else None, at=T0 - timedelta(minutes=i))
        existing = n
        with count_queries() as queries:
            html = client.get(f"/accounts/{account.id}/audit").get_data(as_text=True)
        assert len(ids_in(html)) == n
        counts.append(len(queries))
    assert counts[0] == counts[1]


# ------------------------------------------------------------------------ filters ---
@pytest.fixture
def filtered_org(dbs, acme):
    """Rows to filter: actions, actors (a member, the owner, the system) and days."""
    account, owner = acme
    member = factories.UserFactory(name="Maria Membro")
    factories.MemberFactory(account=account, user=member, role="admin")
    rows = {
        # 2025-03-09 23:30 in São Paulo (UTC-3): the 9th for the viewer, the 10th in UTC.
        "late_night": log(
            account, member, at=datetime(2025, 3, 10, 2, 30, tzinfo=UTC), action="bucket.created"
        ),
        "owner_bucket": log(account, owner, at=T0, action="bucket.created"),
        "owner_key": log(account, owner, at=T0 - timedelta(days=2), action="key.created"),
        "system": log(account, None, at=T0 - timedelta(days=3), action="bucket.created"),
    }
    return account, owner, member, rows


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"action": "bucket.created"}, ["owner_bucket", "late_night", "system"]),
        ({"actor": "owner"}, ["owner_bucket", "owner_key"]),
        ({"actor": "system"}, ["system"]),
        ({"from": "2025-03-09", "to": "2025-03-09"}, ["late_night"]),
        ({"from": "2025-03-08"}, ["owner_bucket", "late_night", "owner_key"]),
        ({"to": "2025-03-08"}, ["owner_key", "system"]),
        ({"action": "bucket.created", "actor": "owner"}, ["owner_bucket"]),
        ({"action": "bucket.created", "from": "2025-03-10", "to": "2025-03-10"}, ["owner_bucket"]),
        ({"action": "key.created", "actor": "member"}, []),
    ],
)
def test_filters_alone_and_combined(client, login, filtered_org, query, expected):
    account, owner, member, rows = filtered_org
    query = dict(query)
    if query.get("actor") == "owner":
        query["actor"] = str(owner.id)
    elif query.get("actor") == "member":
        query["actor"] = str(member.id)
    login(owner)  # America/Sao_Paulo, the default time zone
    response = client.get(f"/accounts/{account.id}/audit", query_string=query)
    assert response.status_code == 200
    assert ids_in(response.get_data(as_text=True)) == [rows[k].id for k in expected]


def test_the_person_filter_takes_a_typed_email_and_keeps_the_id_in_the_url(
    client, login, filtered_org
):
    account, owner, member, rows = filtered_org
    login(owner)
    path = f"/accounts/{account.id}/audit"
    # Without JavaScript: the field holds an email typed in full (any case) or a
    # suggestion "Name <email>"; the links keep the person's id, not the text.
    for typed in (member.email.upper(), f"{member.name} <{member.email}>"):
        response = client.get(path, query_string={"who": typed, "actor": ""})
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert ids_in(html) == [rows["late_night"].id]
        assert f'value="{member.name} &lt;{member.email}&gt;"' in html  # the chosen name
        assert f'audit.csv?actor={member.id}"' in html  # not the text that found them
    # The id alone (a bookmark) shows the person; an unchanged field keeps them.
    html = client.get(path, query_string={"actor": member.id}).get_data(as_text=True)
    assert ids_in(html) == [rows["late_night"].id] and member.name in html
    kept = client.get(
        path, query_string={"actor": member.id, "who": f"{member.name} <{member.email}>"}
    )
    assert ids_in(kept.get_data(as_text=True)) == [rows["late_night"].id]
    # Emptied: everyone; "System": the platform's own rows.
    cleared = client.get(path, query_string={"actor": member.id, "who": ""})
    assert len(ids_in(cleared.get_data(as_text=True))) == 4
    # A bad id in the URL with the field emptied: everyone again, no error.
    reset = client.get(path, query_string={"actor": "999999999", "who": " "})
    assert reset.status_code == 200 and len(ids_in(reset.get_data(as_text=True))) == 4
    system = client.get(path, query_string={"who": "system"}).get_data(as_text=True)
    assert ids_in(system) == [rows["system"].id] and "audit.csv?actor=system" in system
    # With htmx the address bar gets the id.
    swapped = client.get(
        path, query_string={"who": member.email, "actor": ""}, headers={"HX-Request": "true"}
    )
    assert swapped.headers["HX-Push-Url"] == f"{path}?actor={member.id}"


def test_someone_outside_the_organization_is_not_found_by_the_person_filter(
    client, login, filtered_org
):
    account, owner, _member, _rows = filtered_org
    stranger = factories.UserFactory(email="stranger@example.com")
    login(owner)
    response = client.get(f"/accounts/{account.id}/audit", query_string={"who": stranger.email})
    assert response.status_code == 422
    assert "Type the full email address of a member" in response.get_data(as_text=True)
    response = client.get(f"/accounts/{account.id}/audit", query_string={"actor": stranger.id})
    assert response.status_code == 422


def test_the_person_suggestions_are_members_matching_what_was_typed(
    client, login, dbs, acme, count_queries
):
    account, owner = acme
    for i in range(15):
        person = factories.UserFactory(name=f"Rita {i:02d}", email=f"rita{i:02d}@example.com")
        factories.MemberFactory(account=account, user=person, role="viewer")
    factories.UserFactory(name="Rita Outsider", email="rita.out@example.com")  # not a member
    login(owner)
    path = f"/accounts/{account.id}/audit/people"
    with count_queries() as queries:
        html = client.get(path, query_string={"who": "RITA"}).get_data(as_text=True)
    assert html.count("<option") == 10 and "Rita 00 &lt;rita00@example.com&gt;" in html
    assert "Outsider" not in html
    assert len(queries) <= 4
    assert "<option" not in client.get(path, query_string={"who": " "}).get_data(as_text=True)
    assert 'value="System"' in client.get(path, query_string={"who": "sys"}).get_data(as_text=True)
    by_email = client.get(path, query_string={"who": "rita07@"}).get_data(as_text=True)
    assert by_email.count("<option") == 1


@pytest.mark.parametrize("role", ["member", "billing", "viewer"])
def test_the_person_suggestions_are_refused_to_who_may_not_read_the_log(client, login, acme, role):
    account, _owner = acme
    person = factories.UserFactory()
    factories.MemberFactory(account=account, user=person, role=role)
    login(person)
    response = client.get(f"/accounts/{account.id}/audit/people", query_string={"who": "a"})
    assert response.status_code == 403
    login(factories.UserFactory())
    response = client.get(f"/accounts/{account.id}/audit/people", query_string={"who": "a"})
    assert response.status_code == 404


def test_days_are_the_readers_own_time_zone(client, login, dbs, acme):
    account, _owner = acme
    reader = factories.UserFactory(timezone="Asia/Tokyo")  # UTC+9
    factories.MemberFactory(account=account, user=reader, role="admin")
    tenth_in_tokyo = log(account, None, at=datetime(2025, 3, 9, 16, 0, tzinfo=UTC))  # 10th 01:00
    log(account, None, at=datetime(2025, 3, 10, 15, 30, tzinfo=UTC))  # the 11th, 00:30 in Tokyo
    log(account, None, at=datetime(2025, 3, 9, 14, 59, tzinfo=UTC))  # the 9th, 23:59 in Tokyo
    login(reader)
    query = {"from": "2025-03-10", "to": "2025-03-10"}
    html = client.get(f"/accounts/{account.id}/audit", query_string=query).get_data(as_text=True)
    assert ids_in(html) == [tenth_in_tokyo.id]


def test_a_filtered_view_is_a_bookmarkable_url_kept_across_pages(
    client, login, dbs, acme, app, monkeypatch
):
    monkeypatch.setitem(app.config, "AUDIT_PAGE_SIZE", 2)
    account, owner = acme
    wanted = [
        log(account, owner, at=T0 - timedelta(minutes=i), action="key.created") for i in range(3)
    ]
    for i in range(3):
        log(account, owner, at=T0 - timedelta(minutes=i), action="bucket.created")
    login(owner)
    html = client.get(f"/accounts/{account.id}/audit?action=key.created").get_data(as_text=True)
    assert '<option selected value="key.created">' in html
    older = older_link(html)
    assert parse_qs(urlsplit(older).query)["action"] == ["key.created"]
    second = client.get(older).get_data(as_text=True)
    assert ids_in(html) + ids_in(second) == [r.id for r in wanted]
    assert "action=key.created" in second and "audit.csv?action=key.created" in second


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"action": "bucket.exploded"}, "action", "Choose one of the options"),
        ({"actor": "999999999"}, "who", "Choose a member of this organization."),
        ({"who": "nobody@example.com"}, "who", "Type the full email address of a member"),
        ({"from": "2025-13-01"}, "from", "Enter a date as YYYY-MM-DD."),
        ({"to": "yesterday"}, "to", "Enter a date as YYYY-MM-DD."),
        ({"from": "1900-01-01"}, "from", "Choose a date between 2000 and 2100."),
        ({"from": "2025-03-10", "to": "2025-03-01"}, "to", "must not be before the start date"),
        ({"before": "not-a-cursor"}, "before", "This page link is not valid."),
        ({"before": "99999999999999999999999.1"}, "before", "This page link is not valid."),
    ],
)
def test_invalid_filters_are_422_with_the_message_next_to_the_field(
    client, login, dbs, acme, query, field, message
):
    account, owner = acme
    log(account, owner)
    login(owner)
    for suffix in ("audit", "audit.csv"):
        if suffix == "audit.csv" and field == "before":
            continue  # the export ignores page cursors
        response = client.get(f"/accounts/{account.id}/{suffix}", query_string=query)
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert message in html
        if field != "before":
            assert f'id="{field}-error"' in html


def test_with_htmx_the_filters_swap_the_log_piece(client, login, dbs, acme):
    account, owner = acme
    log(account, owner)
    login(owner)
    partial = client.get(
        f"/accounts/{account.id}/audit?action=account.updated", headers={"HX-Request": "true"}
    )
    html = partial.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="audit-log">') and "<html" not in html
    bad = client.get(f"/accounts/{account.id}/audit?from=x", headers={"HX-Request": "true"})
    assert bad.status_code == 422 and bad.get_data(as_text=True).lstrip().startswith("<div")
    full = client.get(f"/accounts/{account.id}/audit?action=account.updated")
    assert "<html" in full.get_data(as_text=True)


def test_reading_the_log_writes_nothing(client, login, dbs, acme):
    account, owner = acme
    log(account, owner)
    login(owner)
    before = audit_count(dbs)
    client.get(f"/accounts/{account.id}/audit")
    client.get(f"/accounts/{account.id}/audit.csv").get_data()
    assert audit_count(dbs) == before


# ---------------------------------------------------------------------------- CSV ---
def read_csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_the_csv_is_streamed_with_every_column(client, login, dbs, acme):
    account, owner = acme
    log(
        account,
        owner,
        action="member.role_changed",
        target_type="member",
        target_id="7",
        target_label="ana@example.com",
        details={"new_role": "admin"},
    )
    login(owner)
    response = client.get(f"/accounts/{account.id}/audit.csv", buffered=False)
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert re.search(rf'filename="primecloud-audit-{account.id}-\d{{8}}-\d{{6}}\.csv"', disposition)
    (row,) = read_csv(response)
    assert row == {
        "created_at": "2025-03-10T15:00:00+00:00",
        "account_id": str(account.id),
        "actor_email": owner.email,
        "action": "member.role_changed",
        "sentence": "Changed the role of ana@example.com.",
        "target_type": "member",
        "target_id": "7",
        "target_label": "ana@example.com",
        "ip": "203.0.113.9",
        "details": '{"new_role": "admin"}',
    }


@pytest.mark.parametrize(
    "payload", ['=HYPERLINK("x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]
)
def test_csv_cells_that_look_like_formulas_are_neutralized(client, login, dbs, acme, payload):
    account, owner = acme
    log(account, owner, target_type="bucket", target_id=payload, target_label=payload)
    login(owner)
    (row,) = read_csv(client.get(f"/accounts/{account.id}/audit.csv"))
    assert row["target_label"] == "'" + payload
    assert row["target_id"] == "'" + payload


def test_the_csv_follows_the_filters_and_spans_many_batches(client, login, dbs, acme, monkeypatch):
    from portal.audit_log import services

    monkeypatch.setattr(services, "EXPORT_BATCH", 4)  # 10 rows: batches of 4, 4 and 2
    account, owner = acme
    wanted = [log(account, owner, at=T0, action="key.created") for _ in range(10)]
    log(account, owner, at=T0, action="bucket.created")
    login(owner)
    rows = read_csv(client.get(f"/accounts/{account.id}/audit.csv?action=key.created"))
    assert len(rows) == 10 and {r["action"] for r in rows} == {"key.created"}
    assert len(wanted) == len(rows)


# ------------------------------------------------------------------- platform view ---
@pytest.fixture
def admin(dbs, login):
    return login(factories.AdminFactory())


def test_the_admin_sees_every_account_and_platform_events(client, admin, dbs, acme):
    account, owner = acme
    other = factories.AccountFactory(owner=factories.UserFactory())
    rows = [
        log(account, owner, at=T0),
        log(other, None, at=T0 - timedelta(minutes=1)),
        log(None, None, at=T0 - timedelta(minutes=2), action="user.signed_up", target_type="user"),
    ]
    html = client.get("/admin/audit").get_data(as_text=True)
    shown = ids_in(html)
    assert [r.id for r in rows] == [i for i in shown if i in {r.id for r in rows}]
    assert "Platform" in html and account.name in html


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"account": "abc"}, "account", "digits only"),
        # Unicode digits: "²".isdigit() is true, but int("²") raises.
        ({"account": "²"}, "account", "digits only"),
        ({"account": "0"}, "account", "digits only"),
        ({"actor": "not-an-email"}, "actor", "valid email"),
        ({"actor": "nobody-here@example.com"}, "actor", "Nobody has this email address."),
    ],
)
def test_admin_filters_refuse_bad_values_with_422(client, admin, query, field, message):
    for path in ("/admin/audit", "/admin/audit.csv"):
        response = client.get(path, query_string=query)
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert message in html and f'id="{field}-error"' in html


@pytest.mark.parametrize("before", ["nonsense", "99999999999999999999999.1", "1.0"])
def test_a_broken_admin_page_link_is_422(client, admin, dbs, acme, before):
    account, owner = acme
    log(account, owner)
    response = client.get("/admin/audit", query_string={"before": before})
    assert response.status_code == 422
    assert "This page link is not valid." in response.get_data(as_text=True)


def test_admin_filters_by_account_and_actor_email(client, admin, dbs, acme):
    account, owner = acme
    other = factories.AccountFactory(owner=factories.UserFactory())
    mine = log(account, owner)
    log(account, None)
    log(other, owner)
    html = client.get(
        "/admin/audit", query_string={"account": account.id, "actor": owner.email.upper()}
    ).get_data(as_text=True)
    assert ids_in(html) == [mine.id]


def test_the_admin_csv_is_streamed(client, admin, dbs, acme):
    account, owner = acme
    log(None, None, action="user.signed_up", target_type="user", target_label="=cmd|' /C calc'!A0")
    response = client.get("/admin/audit.csv?action=user.signed_up", buffered=False)
    assert response.is_streamed
    assert 'filename="primecloud-audit-' in response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert rows and all(r["account_id"] == "" for r in rows)
    assert rows[0]["target_label"].startswith("'=")


# ------------------------------------------------- details as a person reads them (11) ---
READABLE = [
    (
        Action.ACCOUNT_STATUS_CHANGED,
        {"from": "pending", "to": "approved"},
        {
            "en": ["From:</span> Pending review", "To:</span> Approved"],
            "pt-BR": ["De:</span> Em análise", "Para:</span> Aprovada"],
        },
    ),
    (
        Action.MEMBER_ROLE_CHANGED,
        {"old_role": "admin", "new_role": "viewer"},
        {
            "en": ["Previous role:</span> Admin", "New role:</span> Viewer"],
            "pt-BR": ["Papel anterior:</span> Administrador(a)", "Novo papel:</span> Leitor(a)"],
        },
    ),
    (
        Action.ACCOUNT_CREATED,
        {"name": "Acme", "cnpj": "52601815000120"},
        {"en": ["CNPJ:</span> 52.601.815/0001-20"], "pt-BR": ["CNPJ:</span> 52.601.815/0001-20"]},
    ),
    (
        Action.INVITATION_ACCEPTED,
        {"invitation_id": 5},
        {"en": ["Invitation:</span> #5"], "pt-BR": ["Convite:</span> #5"]},
    ),
    (
        Action.QUOTA_REJECTED,
        {"resource": "storage_gb", "requested_value": 500},
        {
            "en": ["Resource:</span> Storage (GB)", "Requested:</span> 500"],
            "pt-BR": ["Recurso:</span> Armazenamento (GB)", "Pedido:</span> 500"],
        },
    ),
]


@pytest.mark.parametrize("language", ["en", "pt-BR"])
@pytest.mark.parametrize(
    ("action", "details", "expected"), READABLE, ids=[r[0].value for r in READABLE]
)
def test_details_read_as_a_person_reads_them(
    client, login, dbs, acme, action, details, expected, language
):
    account, owner = acme
    log(account, owner, action=action.value, details=details)
    owner.locale = None
    dbs.commit()
    login(owner)
    html = client.get(
        f"/accounts/{account.id}/audit", headers={"Accept-Language": language}
    ).get_data(as_text=True)
    for text in expected[language]:
        assert text in html
    for raw in ("storage_gb", "new_role", "old_role", "invitation_id", "52601815000120", "pending"):
        assert raw not in re.search(r'<ul class="details-list">.*?</ul>', html, re.S).group(0)


def test_a_login_is_named_by_the_persons_email_every_way(client, csrf_token, dbs):
    """Logged in, logged out, failed with the right or an unknown address: /admin/audit
    names the target one way, by email (never "user #1")."""
    person = factories.UserFactory(email="one.way@example.com")
    for password in ("wrong password!", factories.PASSWORD):
        client.post(
            "/login",
            data={"email": person.email, "password": password, "csrf_token": csrf_token()},
        )
    client.post("/logout", data={"csrf_token": csrf_token()})
    client.post(
        "/login",
        data={"email": "nobody@example.com", "password": "x" * 12, "csrf_token": csrf_token()},
    )
    dbs.expire_all()
    rows = dbs.execute(
        select(AuditLog.action, AuditLog.target_label).where(AuditLog.action.like("user.%"))
    ).all()
    assert sorted(rows) == sorted(
        [
            ("user.login_failed", "one.way@example.com"),
            ("user.logged_in", "one.way@example.com"),
            ("user.logged_out", "one.way@example.com"),
            ("user.login_failed", "nobody@example.com"),
        ]
    )
    admin = factories.AdminFactory()
    from tests.conftest import ClosingClient  # noqa: F401 - same client class

    with client.session_transaction() as session:
        session.clear()
    from portal.extensions import db
    from portal.sessions import services as sessions

    with client.application.test_request_context():
        sessions.start(admin)
        db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = admin.session_token
    html = client.get("/admin/audit", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "user #" not in html
    assert html.count("one.way@example.com") >= 3


def test_the_csv_content_type_says_its_charset_once(client, login, dbs, acme):
    account, owner = acme
    login(owner)
    response = client.get(f"/accounts/{account.id}/audit.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
