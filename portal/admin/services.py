"""The admin home: the platform at a glance, in a fixed, small number of queries."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from portal.audit_log import services as audit_services
from portal.extensions import db
from portal.models import Account, AccountStatus, EmailOutbox, QuotaRequest, User

LATEST_EVENTS = 10


@dataclass
class Overview:
    accounts_by_status: dict[str, int]
    pending_quota_requests: int
    emails_queued: int
    emails_failed: int
    latest: list[audit_services.Entry]

    @property
    def accounts_total(self) -> int:
        return sum(self.accounts_by_status.values())


def overview(user: User) -> Overview:
    """Counts and the latest audit events. Three queries: accounts grouped by status; the
    pending quota requests and the outbox's queued and failed emails in one statement of
    scalar subqueries (each reads a partial index); the latest events."""
    audit_services.require_platform_admin(user)
    by_status = {s.value: 0 for s in AccountStatus}
    for status, count in db.session.execute(
        select(Account.status, func.count()).group_by(Account.status)
    ):
        by_status[status] = count

    def count(model, *where):
        return select(func.count()).select_from(model).where(*where).scalar_subquery()

    quota, queued, failed = db.session.execute(
        select(
            count(QuotaRequest, QuotaRequest.status == "pending"),
            count(EmailOutbox, EmailOutbox.status == "queued"),
            count(EmailOutbox, EmailOutbox.status == "failed"),
        )
    ).one()
    return Overview(
        accounts_by_status=by_status,
        pending_quota_requests=quota,
        emails_queued=queued,
        emails_failed=failed,
        latest=audit_services.latest(LATEST_EVENTS),
    )
