"""Audit trail: ``record()`` adds an audit_logs row to the caller's transaction, so the row
exists exactly when the change it describes does."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from portal import clock
from portal.extensions import db
from portal.models import AuditLog, User
from portal.text import fit

ID_MAX = AuditLog.target_id.type.length
LABEL_MAX = AuditLog.target_label.type.length


class Action(StrEnum):
    """Every audit action. Templates translate each into a readable sentence."""

    USER_SIGNED_UP = "user.signed_up"
    USER_LOGGED_IN = "user.logged_in"
    USER_LOGIN_FAILED = "user.login_failed"
    USER_LOGGED_OUT = "user.logged_out"
    USER_SESSION_REVOKED = "user.session_revoked"
    USER_OTHER_SESSIONS_REVOKED = "user.other_sessions_revoked"
    USER_PROFILE_UPDATED = "user.profile_updated"
    USER_PASSWORD_RESET_REQUESTED = "user.password_reset_requested"
    USER_PASSWORD_RESET = "user.password_reset"
    USER_LOCALE_CHANGED = "user.locale_changed"
    USER_PROMOTED_ADMIN = "user.promoted_admin"
    ACCOUNT_CREATED = "account.created"
    ACCOUNT_UPDATED = "account.updated"
    ACCOUNT_STATUS_CHANGED = "account.status_changed"
    MEMBER_ROLE_CHANGED = "member.role_changed"
    MEMBER_REMOVED = "member.removed"
    MEMBER_LEFT = "member.left"
    MEMBER_JOINED = "member.joined"
    INVITATION_SENT = "invitation.sent"
    INVITATION_RESENT = "invitation.resent"
    INVITATION_REVOKED = "invitation.revoked"
    INVITATION_ACCEPTED = "invitation.accepted"
    BUCKET_CREATED = "bucket.created"
    BUCKET_DELETED = "bucket.deleted"
    BUCKET_VERSIONING_CHANGED = "bucket.versioning_changed"
    BUCKET_LIFECYCLE_CHANGED = "bucket.lifecycle_changed"
    KEY_CREATED = "key.created"
    KEY_ROTATED = "key.rotated"
    KEY_STATUS_CHANGED = "key.status_changed"
    KEY_REVOKED = "key.revoked"
    KEY_DEACTIVATED = "key.deactivated"
    KEY_REACTIVATED = "key.reactivated"
    KEY_RENAMED = "key.renamed"
    KEY_SCOPE_CHANGED = "key.scope_changed"
    KEY_EXPIRING = "key.expiring"  # flask keys expiry-notices: owners and admins told
    KEY_EXPIRED = "key.expired"
    ORDER_PLACED = "order.placed"
    ORDER_PAID = "order.paid"
    ORDER_FULFILLED = "order.fulfilled"
    ORDER_CANCELLED = "order.cancelled"
    PRODUCT_CREATED = "product.created"
    PRODUCT_UPDATED = "product.updated"
    PRODUCT_DELETED = "product.deleted"
    SUBSCRIPTION_CANCELLED = "subscription.cancelled"
    INVOICE_ISSUED = "invoice.issued"
    INVOICES_DRAFTED = "invoice.drafted"
    INVOICE_PAID = "invoice.paid"
    INVOICE_VOIDED = "invoice.voided"
    QUOTA_REQUESTED = "quota.requested"
    QUOTA_APPROVED = "quota.approved"
    QUOTA_REJECTED = "quota.rejected"
    USAGE_THRESHOLD_REACHED = "usage.threshold_reached"


def record(
    actor: User | None,
    action: Action | str,
    *,
    account_id: int | None = None,
    target_type: str | None = None,
    target_id: Any = None,
    target_label: str | None = None,
    ip: str | None = None,
    **details: Any,
) -> AuditLog:
    """Add an audit row to the current transaction (the caller commits).

    ``ip`` is the caller's to give (a route passes ``portal.web.client_ip()``): services
    never read the request. Most callers go through :func:`portal.events.emit`."""
    row = AuditLog(
        account_id=account_id,
        actor_id=actor.id if actor is not None else None,
        action=str(action),
        target_type=target_type,
        target_id=fit(None if target_id is None else str(target_id), ID_MAX),
        target_label=fit(target_label, LABEL_MAX),
        ip=ip,
        details=details,
    )
    if clock.traveling():
        row.created_at = clock.now()
    db.session.add(row)
    return row
