"""The storage and billing factories build rows through the ORM and the database's rules
(state moves step by step, invoice numbers from the database)."""

from __future__ import annotations

import pytest

from tests import factories


@pytest.mark.parametrize("versioning", ["unversioned", "enabled", "suspended"])
def test_bucket_factory(dbs, versioning):
    bucket = factories.BucketFactory(versioning=versioning)
    dbs.expire_all()
    assert bucket.versioning == versioning


@pytest.mark.parametrize("status", ["active", "inactive", "revoked"])
def test_access_key_factory(dbs, status):
    key = factories.AccessKeyFactory(status=status)
    assert key.status == status and key.key_id.startswith("PC")
    assert (key.revoked_at is not None) == (status == "revoked")


@pytest.mark.parametrize("status", ["pending", "paid", "fulfilled", "cancelled"])
def test_order_factory(dbs, status):
    order = factories.OrderFactory(status=status, quantity=3)
    assert order.status == status and order.total == order.unit_price * 3


@pytest.mark.parametrize("status", ["draft", "open", "paid", "void"])
def test_invoice_factory_gets_a_number_from_the_database(dbs, status):
    first = factories.InvoiceFactory(status=status)
    second = factories.InvoiceFactory(account=factories.AccountFactory())
    assert first.status == status
    assert second.number == first.number + 1


def test_line_subscription_and_usage_factories(dbs):
    line = factories.InvoiceLineFactory()
    assert line.amount == 12
    assert factories.SubscriptionFactory(status="cancelled").cancelled_at is not None
    assert factories.UsageRecordFactory().source_event_id.startswith("evt-")


def test_subscription_activates_an_approved_account(dbs):
    account = factories.AccountFactory(owner=factories.UserFactory(), status="approved")
    factories.SubscriptionFactory(account=account)
    dbs.refresh(account)
    assert account.status == "active"
