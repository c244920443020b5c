"""Quota requests: created pending, then decided when ``status`` says so (the database
raises the account's quota on approval, to ``granted_value`` or what was asked)."""

from datetime import UTC, datetime

import factory

from portal import models
from tests.factories import BaseFactory, current_session
from tests.factories.accounts import AccountFactory
from tests.factories.storage import move_to

__all__ = ["QuotaRequestFactory"]


class QuotaRequestFactory(BaseFactory):
    """A request of ``account`` for more ``resource``; ``status="approved"`` (optionally
    with ``granted_value``) or ``"rejected"`` decides it after creation."""

    class Meta:
        model = models.QuotaRequest
        exclude = ("account",)

    account = factory.SubFactory(AccountFactory)
    account_id = factory.LazyAttribute(lambda o: o.account.id)
    resource = "buckets"
    current_value = factory.LazyAttribute(lambda o: o.account.quota(o.resource))
    requested_value = factory.LazyAttribute(lambda o: o.current_value + 10)
    reason = "Mais projetos de clientes neste trimestre."
    status = "pending"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        target = kwargs.pop("status", "pending")
        decision = {
            "granted_value": kwargs.pop("granted_value", None),
            "review_note": kwargs.pop("review_note", None),
            "reviewed_by_id": kwargs.pop("reviewed_by_id", None),
            "reviewed_at": kwargs.pop("reviewed_at", None) or datetime.now(UTC),
        }
        row = move_to(model_class(*args, status="pending", **kwargs), "status", [])
        if target == "pending":
            return row
        session = current_session()
        for name, value in decision.items():
            setattr(row, name, value)
        row.status = target
        session.flush()
        session.commit()
        return row
