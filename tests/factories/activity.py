"""Notifications and audit-log rows."""

import factory

from portal import models
from tests.factories import BaseFactory

__all__ = ["AuditLogFactory", "NotificationFactory"]


class NotificationFactory(BaseFactory):
    """A notification for ``user`` (a User); unread unless ``read=True``."""

    class Meta:
        model = models.Notification
        exclude = ("user",)

    user = factory.SubFactory("tests.factories.users.UserFactory")
    user_id = factory.LazyAttribute(lambda o: o.user.id)
    kind = "member.joined"
    params = factory.LazyFunction(
        lambda: {"account_name": "Acme Ltda", "member_name": "Ana Souza", "role": "member"}
    )
    link = "/notifications"
    read = False


class AuditLogFactory(BaseFactory):
    """An audit row of ``account`` (an Account, or None for a platform event) by ``actor``
    (a User, or None for the system). Rows are only ever inserted (append-only)."""

    class Meta:
        model = models.AuditLog
        exclude = ("account", "actor")

    account = None
    actor = None
    account_id = factory.LazyAttribute(lambda o: o.account.id if o.account else None)
    actor_id = factory.LazyAttribute(lambda o: o.actor.id if o.actor else None)
    action = "account.updated"
    target_type = "account"
    target_id = factory.LazyAttribute(lambda o: str(o.account.id) if o.account else None)
    target_label = factory.LazyAttribute(lambda o: o.account.name if o.account else None)
    ip = "203.0.113.9"
    details = factory.LazyFunction(dict)
