"""Quota requests' services: asking (owners and admins, bounds, justification, one pending
per resource, read-only organizations) and deciding (granted value bounds, the quota raised
once, a rejection's note, illegal moves), with the audit rows, notifications and emails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.errors import Invalid, NotAllowed, NotFound
from portal.extensions import db
from portal.models import Account, AuditLog, EmailOutbox, Notification, QuotaRequest
from portal.notifications import messages
from portal.quotas import review, services
from tests import factories

REASON = "Novos clientes no trimestre: precisamos de mais buckets."
ROLES = ("owner", "admin", "member", "billing", "viewer")


def ours(obj):
    return db.session.get(type(obj), obj.id)


@pytest.fixture
def org(app_ctx, dbs):
    """An active organization (default quotas: 10 buckets, 100 GB, 5 keys) with one person
    of each role; the owner reads Portuguese, the others English."""
    people = {role: factories.UserFactory() for role in ROLES}
    people["owner"].locale = "pt_BR"
    dbs.commit()
    account = factories.AccountFactory(owner=people["owner"], name="Acme Ltda")
    for role in ROLES[1:]:
        factories.MemberFactory(account=account, user=people[role], role=role)
    return account, {role: ours(user) for role, user in people.items()}


@pytest.fixture
def staff(app_ctx, dbs):
    return ours(factories.AdminFactory(name="Sofia Staff"))


def counts(account_id):
    db.session.expire_all()
    return (
        db.session.scalar(
            select(func.count())
            .select_from(QuotaRequest)
            .where(QuotaRequest.account_id == account_id)
        ),
        db.session.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.account_id == account_id)
        ),
        db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.account_id == account_id)
        ),
        db.session.scalar(select(func.count()).select_from(EmailOutbox)),
        tuple(
            db.session.execute(
                select(
                    Account.quota_buckets, Account.quota_storage_gb, Account.quota_access_keys
                ).where(Account.id == account_id)
            ).one()
        ),
    )


def ask(user, account, resource="buckets", value=25, reason=REASON):
    """Ask, and commit as the route does (so a later refusal's rollback keeps it)."""
    request = services.request_increase(user, account.id, resource, value, reason, ip="203.0.113.4")
    db.session.commit()
    return request


# -------------------------------------------------------------------------- asking ---
@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owners_and_admins_ask_and_the_request_is_audited(org, role):
    account, people = org
    request = ask(people[role], account, "storage_gb", 500, f"  {REASON}  ")
    assert (request.status, request.resource, request.current_value) == (
        "pending",
        "storage_gb",
        100,
    )
    assert (request.requested_value, request.reason) == (500, REASON)
    assert request.requested_by_id == people[role].id and request.granted_value is None
    row = db.session.scalars(
        select(AuditLog).where(AuditLog.account_id == account.id).order_by(AuditLog.id.desc())
    ).first()
    assert (row.action, row.actor_id, row.target_type, row.target_id) == (
        "quota.requested",
        people[role].id,
        "quota_request",
        str(request.id),
    )
    assert row.details == {"resource": "storage_gb", "current": 100, "requested": 500}
    assert str(row.ip) == "203.0.113.4"


@pytest.mark.parametrize("role", ["member", "billing", "viewer"])
def test_other_roles_may_not_ask(org, role):
    account, people = org
    before = counts(account.id)
    with pytest.raises(NotAllowed):
        ask(people[role], account)
    assert counts(account.id) == before


def test_people_of_other_organizations_get_not_found(org, app_ctx):
    account, _ = org
    with pytest.raises(NotFound):
        ask(ours(factories.UserFactory()), account)


@pytest.mark.parametrize(
    ("resource", "value", "field", "message"),
    [
        ("buckets", 10, "value", "Ask for more than the current limit of 10."),
        ("buckets", 3, "value", "Ask for more than the current limit of 10."),
        ("storage_gb", 100, "value", "Ask for more than the current limit of 100 GB."),
        ("buckets", 1001, "value", "Ask for at most 1,000 here."),
        ("storage_gb", 1_000_001, "value", "Ask for at most 1,000,000 GB here."),
        ("buckets", "25", "value", "Enter a whole number."),
        ("buckets", None, "value", "Enter a whole number."),
        ("buckets", True, "value", "Enter a whole number."),
        ("objects", 25, "resource", "Choose one of the quotas in the list."),
    ],
)
def test_bad_values_are_refused_next_to_their_field(org, resource, value, field, message):
    account, people = org
    before = counts(account.id)
    with pytest.raises(Invalid) as info:
        ask(people["owner"], account, resource, value)
    assert info.value.field == field and info.value.message.startswith(message)
    db.session.rollback()
    assert counts(account.id) == before


@pytest.mark.parametrize("reason", ["", "   ", "short reason", "x" * 19, "x" * 2001])
def test_the_justification_needs_20_to_2000_characters(org, reason):
    account, people = org
    with pytest.raises(Invalid) as info:
        ask(people["owner"], account, reason=reason)
    assert info.value.field == "reason"
    assert "20 to 2000 characters" in info.value.message


@pytest.mark.parametrize("reason", ["x" * 20, "y" * 2000])
def test_the_justification_bounds_are_inclusive(org, reason):
    account, people = org
    assert ask(people["owner"], account, reason=reason).reason == reason


def test_one_pending_request_per_resource(org):
    account, people = org
    first = ask(people["owner"], account, "buckets", 20)
    before = counts(account.id)
    with pytest.raises(services.PendingRequest) as info:
        ask(people["admin"], account, "buckets", 30)
    assert info.value.request_id == first.id and info.value.field == "resource"
    assert "already pending" in info.value.message
    db.session.rollback()
    assert counts(account.id) == before
    # Another resource is another queue.
    assert ask(people["admin"], account, "access_keys", 8).status == "pending"


def test_after_a_decision_one_may_ask_again(org, staff):
    account, people = org
    first = ask(people["owner"], account, "buckets", 20)
    review.reject(staff, first.id, "Uso atual não justifica.")
    second = ask(people["owner"], account, "buckets", 15)
    assert second.status == "pending" and second.id != first.id


def test_a_suspended_organization_cannot_ask(app_ctx, dbs):
    owner = factories.UserFactory()
    account = factories.AccountFactory(owner=owner, status="suspended")
    account.suspension_reason = "Fatura em atraso"
    dbs.commit()
    with pytest.raises(Invalid) as info:
        ask(ours(owner), account)
    assert "suspended and read-only: Fatura em atraso" in info.value.message


def test_the_page_knows_pending_requests_and_pages_the_history(org, app_ctx, dbs):
    account, people = org
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    made = [
        factories.QuotaRequestFactory(
            account=account,
            resource="access_keys",
            status="rejected",
            review_note="não",
            created_at=t0 + timedelta(days=i),
        )
        for i in range(5)
    ]
    pending = factories.QuotaRequestFactory(account=account, created_at=t0 + timedelta(days=9))
    page = services.quotas_page(people["viewer"], account.id, limit=4)
    assert page.pending == {"buckets": pending.id}
    assert page.requestable == ["storage_gb", "access_keys"]
    assert not page.may_request and page.read_only is None
    assert [v.request.id for v in page.history.rows] == [pending.id] + [
        m.id for m in made[::-1][:3]
    ]
    rest = services.quotas_page(people["viewer"], account.id, page.history.next_cursor, limit=4)
    assert [v.request.id for v in rest.history.rows] == [made[1].id, made[0].id]
    assert rest.history.next_cursor is None


# ------------------------------------------------------------------------ deciding ---
def emails(since_id=0):
    return db.session.scalars(
        select(EmailOutbox).where(EmailOutbox.id > since_id).order_by(EmailOutbox.id)
    ).all()


def last_email_id():
    return db.session.scalar(select(func.max(EmailOutbox.id))) or 0


def test_approval_grants_what_was_asked_by_default(org, staff):
    account, people = org
    request = ask(people["admin"], account, "buckets", 25)
    mark = last_email_id()
    row = review.approve(staff, request.id, ip="198.51.100.2")
    assert (row.status, row.granted, row.quota, row.reviewer_name) == (
        "approved",
        25,
        25,
        "Sofia Staff",
    )
    assert counts(account.id)[4] == (25, 100, 5)
    decided = ours(request)
    assert (decided.granted_value, decided.reviewed_by_id, decided.review_note) == (
        25,
        staff.id,
        None,
    )
    audit = db.session.scalars(
        select(AuditLog).where(
            AuditLog.action == "quota.approved", AuditLog.account_id == account.id
        )
    ).one()
    assert audit.actor_id == staff.id and audit.details["granted"] == 25
    assert audit.details["previous_quota"] == 10 and audit.details["quota"] == 25
    # The requester (admin) and the owner, each in their language; nobody else.
    sent = emails(mark)
    assert sorted(e.to_address for e in sent) == sorted(
        [people["admin"].email, people["owner"].email]
    )
    by_to = {e.to_address: e for e in sent}
    assert (
        by_to[people["owner"].email].subject
        == "Sua solicitação de cota para Acme Ltda foi aprovada"
    )
    assert by_to[people["admin"].email].subject == "Your quota request for Acme Ltda was approved"
    assert "Granted: 25. The limit is now 25." in by_to[people["admin"].email].body_text
    notes = db.session.scalars(
        select(Notification).where(
            Notification.account_id == account.id, Notification.kind == "quota.approved"
        )
    ).all()
    assert sorted(n.user_id for n in notes) == sorted([people["admin"].id, people["owner"].id])
    assert all(n.link == f"/accounts/{account.id}/quotas" for n in notes)
    assert messages.render(notes[0].kind, notes[0].params) == (
        "PrimeCloud approved the request for more buckets in Acme Ltda: the limit is now 25."
    )


def test_a_lower_value_with_a_note(org, staff):
    account, people = org
    request = ask(people["owner"], account, "storage_gb", 1000)
    row = review.approve(staff, request.id, 400, "  Liberamos 400 GB por ora.  ")
    assert (row.granted, row.quota, row.review_note) == (400, 400, "Liberamos 400 GB por ora.")
    assert counts(account.id)[4] == (10, 400, 5)
    note = db.session.scalars(
        select(Notification).where(
            Notification.kind == "quota.approved", Notification.account_id == account.id
        )
    ).one()  # the owner asked: only they are told (the staff member is not a member)
    assert messages.render(note.kind, note.params).endswith("the limit is now 400 GB.")


@pytest.mark.parametrize(
    ("granted", "message"),
    [
        (10, "Grant between 11 (more than the current quota) and 25 (what was asked)."),
        (5, "Grant between 11"),
        (26, "Grant between 11"),
        (0, "Grant between 11"),
        ("20", "Enter a whole number."),
        (True, "Enter a whole number."),
    ],
)
def test_the_granted_value_is_above_the_quota_and_at_most_the_ask(org, staff, granted, message):
    account, people = org
    request = ask(people["owner"], account, "buckets", 25)
    before = counts(account.id)
    with pytest.raises(Invalid) as info:
        review.approve(staff, request.id, granted)
    assert info.value.field == "granted_value" and info.value.message.startswith(message)
    db.session.rollback()
    assert counts(account.id) == before
    assert ours(request).status == "pending"


@pytest.mark.parametrize("granted", [11, 25])
def test_granted_bounds_are_inclusive(org, staff, granted):
    account, people = org
    request = ask(people["owner"], account, "buckets", 25)
    assert review.approve(staff, request.id, granted).quota == granted


def test_a_quota_already_at_the_ask_can_only_be_rejected(org, staff, dbs):
    account, people = org
    request = ask(people["owner"], account, "buckets", 25)
    # Raised meanwhile (by hand, or another way): approving would raise nothing.
    db.session.execute(
        Account.__table__.update().where(Account.id == account.id).values(quota_buckets=30)
    )
    row = review.review_row(staff, request.id)
    assert not row.may_approve and row.may_reject
    with pytest.raises(Invalid) as info:
        review.approve(staff, request.id)
    assert "Reject the request with a note instead" in info.value.message


@pytest.mark.parametrize("note", [None, "", "   "])
def test_a_rejection_needs_a_note(org, staff, note):
    account, people = org
    request = ask(people["owner"], account)
    before = counts(account.id)
    with pytest.raises(Invalid) as info:
        review.reject(staff, request.id, note)
    assert info.value.field == "review_note" and "needs a note" in info.value.message
    db.session.rollback()
    assert counts(account.id) == before


def test_notes_have_at_most_2000_characters(org, staff):
    account, people = org
    request = ask(people["owner"], account)
    for call in (
        lambda: review.reject(staff, request.id, "n" * 2001),
        lambda: review.approve(staff, request.id, None, "n" * 2001),
    ):
        with pytest.raises(Invalid) as info:
            call()
        assert info.value.field == "review_note"
        db.session.rollback()


def test_rejection_keeps_the_quota_and_tells_the_requester_and_owners(org, staff):
    account, people = org
    request = ask(people["admin"], account, "access_keys", 50)
    mark = last_email_id()
    row = review.reject(staff, request.id, "Use chaves por projeto, não por pessoa.")
    assert (row.status, row.granted, row.quota) == ("rejected", None, 5)
    assert ours(request).granted_value is None
    assert counts(account.id)[4] == (10, 100, 5)
    sent = emails(mark)
    assert {e.to_address for e in sent} == {people["admin"].email, people["owner"].email}
    assert all("Use chaves por projeto, não por pessoa." in e.body_text for e in sent)
    pt = next(e for e in sent if e.to_address == people["owner"].email)
    assert pt.subject == "Sua solicitação de cota para Acme Ltda foi recusada"


def test_a_requester_who_left_is_not_told(org, staff, dbs):
    account, people = org
    request = ask(people["admin"], account)
    from portal.models import AccountMember

    db.session.execute(
        AccountMember.__table__.delete().where(
            AccountMember.account_id == account.id, AccountMember.user_id == people["admin"].id
        )
    )
    mark = last_email_id()
    review.approve(staff, request.id)
    assert [e.to_address for e in emails(mark)] == [people["owner"].email]


@pytest.mark.parametrize(
    ("first", "then"),
    [("approve", "approve"), ("approve", "reject"), ("reject", "approve"), ("reject", "reject")],
)
def test_a_decided_request_cannot_be_decided_again(org, staff, first, then):
    account, people = org
    request = ask(people["owner"], account, "buckets", 25)
    decide = {
        "approve": lambda: review.approve(staff, request.id, 20),
        "reject": lambda: review.reject(staff, request.id, "Não neste momento."),
    }
    decide[first]()
    db.session.commit()
    before = counts(account.id)
    with pytest.raises(Invalid) as info:
        decide[then]()
    done = (
        "approved by Sofia Staff, granting 20" if first == "approve" else "rejected by Sofia Staff"
    )
    assert done in info.value.message and "nothing was changed" in info.value.message
    db.session.rollback()
    assert counts(account.id) == before  # the quota rose once, if at all
    assert counts(account.id)[4][0] == (20 if first == "approve" else 10)


def test_customers_cannot_decide_and_missing_requests_are_404(org, staff):
    account, people = org
    request = ask(people["owner"], account)
    for person in people.values():
        with pytest.raises(NotAllowed):
            review.approve(person, request.id)
        with pytest.raises(NotAllowed):
            review.reject(person, request.id, "x")
        with pytest.raises(NotAllowed):
            review.list_queue(person)
    with pytest.raises(NotFound):
        review.approve(staff, 2**62)
    with pytest.raises(NotFound):
        review.reject(staff, 2**62, "note")


# --------------------------------------------------------------------------- queue ---
def test_the_queue_is_pending_oldest_first_then_decided_latest_first(app_ctx, dbs, staff):
    owner = factories.UserFactory()
    t0 = datetime(2031, 1, 1, tzinfo=UTC)  # after every other test's rows
    accounts = [factories.AccountFactory(owner=owner) for _ in range(3)]
    pending = [
        factories.QuotaRequestFactory(account=accounts[i], created_at=t0 + timedelta(days=i))
        for i in (2, 0, 1)
    ]
    decided = [
        factories.QuotaRequestFactory(
            account=accounts[i],
            resource="access_keys",
            status="approved" if i % 2 else "rejected",
            review_note="ok",
            created_at=t0 - timedelta(days=30),
            reviewed_at=t0 + timedelta(days=100 + i),
        )
        for i in range(3)
    ]
    ids = {r.id for r in pending + decided}

    def walk(limit, **filters):
        seen, cursor = [], None
        while True:
            page = review.list_queue(staff, before=cursor, limit=limit, **filters)
            seen += [r.id for r in page.rows if r.id in ids]
            cursor = page.next_cursor
            if cursor is None:
                return seen

    expected_pending = [pending[1].id, pending[2].id, pending[0].id]
    expected_decided = [decided[2].id, decided[1].id, decided[0].id]
    mine = walk(2)
    # Other tests' pending rows are older (created now, t0 is in 2031): ours come last among
    # the pending, and our decided ones first among the decided.
    assert [i for i in mine if i in set(expected_pending)] == expected_pending
    assert [i for i in mine if i in set(expected_decided)] == expected_decided
    assert mine.index(expected_pending[-1]) < mine.index(expected_decided[0])
    assert walk(1) == mine  # any page size crosses the boundary the same way
    assert walk(5, status="pending") == expected_pending
    assert walk(5, status="approved") == [decided[1].id]
    assert walk(5, status="rejected") == [decided[2].id, decided[0].id]
    assert walk(5, resource="access_keys") == expected_decided


def test_queue_rows_carry_the_quota_and_usage_now(app_ctx, dbs, staff):
    owner = factories.UserFactory()
    account = factories.AccountFactory(owner=owner, name="Usa Ltda")
    for i in range(3):
        factories.BucketFactory(account=account, size_bytes=(i + 1) * 1024**3)
    request = factories.QuotaRequestFactory(
        account=account, resource="storage_gb", requested_value=300
    )
    row = review.review_row(staff, request.id)
    assert (row.account_name, row.quota, row.min_grant, row.requested_value) == (
        "Usa Ltda",
        100,
        101,
        300,
    )
    assert (row.meter.used, row.meter.quota) == (6, 100)
    assert row.may_approve and row.may_reject and row.is_pending


@pytest.mark.parametrize(
    ("status", "resource", "field"),
    [("deleted", None, "status"), (None, "objects", "resource")],
)
def test_unknown_filters_are_invalid(staff, status, resource, field):
    with pytest.raises(Invalid) as info:
        review.list_queue(staff, status=status, resource=resource)
    assert info.value.field == field
