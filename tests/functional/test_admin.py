"""/admin/: the platform at a glance, for platform admins only."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.models import Account, EmailOutbox, QuotaRequest
from tests import factories

T0 = datetime(2025, 3, 10, 15, 0, tzinfo=UTC)


def stat(html: str, name: str) -> int:
    match = re.search(rf'id="stat-{name}">(\d+)<', html)
    assert match, f"no stat {name}"
    return int(match.group(1))


def outbox(dbs, status: str) -> None:
    dbs.add(
        EmailOutbox(
            to_address="someone@example.com",
            subject="Hello",
            body_text="Hello",
            body_html="<p>Hello</p>",
            template="test",
            status=status,
            last_error="refused" if status == "failed" else None,
        )
    )
    dbs.commit()


@pytest.fixture
def platform(dbs):
    """Accounts in every status, quota requests, emails and audit events."""
    owner = factories.UserFactory()
    accounts = {
        status: [factories.AccountFactory(owner=owner, status=status) for _ in range(n)]
        for status, n in {"pending": 3, "approved": 1, "active": 2, "suspended": 1}.items()
    }
    active = accounts["active"][0]
    dbs.add_all(
        [
            QuotaRequest(
                account_id=active.id,
                resource=resource,
                current_value=10,
                requested_value=50,
                reason="growth",
            )
            for resource in ("buckets", "access_keys")
        ]
    )
    dbs.commit()
    for status in ("queued", "queued", "failed"):
        outbox(dbs, status)
    return accounts


def test_the_admin_home_counts_what_needs_attention(client, login, dbs, platform):
    login(factories.AdminFactory())
    html = client.get("/admin/").get_data(as_text=True)

    def count(model, *where):
        return dbs.scalar(select(func.count()).select_from(model).where(*where))

    for status in ("pending", "approved", "active", "suspended"):
        expected = count(Account, Account.status == status)
        assert expected >= len(platform[status])
        assert stat(html, f"accounts-{status}") == expected
    assert stat(html, "accounts-total") == count(Account)
    assert stat(html, "quota-pending") == count(QuotaRequest, QuotaRequest.status == "pending") >= 2
    assert stat(html, "emails-queued") == count(EmailOutbox, EmailOutbox.status == "queued") >= 2
    assert stat(html, "emails-failed") == count(EmailOutbox, EmailOutbox.status == "failed") >= 1


def test_the_admin_home_shows_the_latest_ten_events_and_links_to_the_log(client, login, dbs):
    account = factories.AccountFactory(owner=factories.UserFactory(), name="Recente Ltda")
    for i in range(12):
        factories.AuditLogFactory(
            account=account,
            created_at=datetime.now(UTC) + timedelta(days=365, minutes=i),
            action="bucket.created",
            target_type="bucket",
            target_label=f"bucket-{i:02d}",
        )
    login(factories.AdminFactory())
    html = client.get("/admin/").get_data(as_text=True)
    shown = re.findall(r"Created the bucket bucket-(\d\d)\.", html)
    assert shown == [f"{i:02d}" for i in range(11, 1, -1)]
    assert 'href="/admin/audit"' in html


def test_the_admin_home_issues_a_fixed_number_of_queries(client, login, dbs, count_queries):
    login(factories.AdminFactory())
    with count_queries() as few:
        client.get("/admin/")
    owner = factories.UserFactory()
    for status in ("pending", "active", "suspended"):
        for _ in range(3):
            account = factories.AccountFactory(owner=owner, status=status)
            factories.AuditLogFactory(account=account, actor=owner, created_at=T0)
    for status in ("queued", "failed"):
        outbox(dbs, status)
    with count_queries() as many:
        client.get("/admin/")
    assert len(few) == len(many)
