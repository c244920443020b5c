"""Readable, translated text for every audit action.

``LABELS`` names an action in the filter's select; ``SENTENCES`` says what happened, in the
reader's language, from the row's target (a snapshot label, kept when the target is gone).
Every member of :class:`portal.audit.Action` has both (a unit test checks it).
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from portal.audit import Action

A = Action

LABELS = {
    A.USER_SIGNED_UP: _l("Signed up"),
    A.USER_LOGGED_IN: _l("Logged in"),
    A.USER_LOGIN_FAILED: _l("Login failed"),
    A.USER_LOGGED_OUT: _l("Logged out"),
    A.USER_PASSWORD_RESET_REQUESTED: _l("Password reset requested"),
    A.USER_PASSWORD_RESET: _l("Password reset"),
    A.USER_LOCALE_CHANGED: _l("Language changed"),
    A.USER_PROMOTED_ADMIN: _l("Made platform administrator"),
    A.ACCOUNT_CREATED: _l("Organization created"),
    A.ACCOUNT_UPDATED: _l("Organization updated"),
    A.ACCOUNT_STATUS_CHANGED: _l("Organization status changed"),
    A.MEMBER_ROLE_CHANGED: _l("Member role changed"),
    A.MEMBER_REMOVED: _l("Member removed"),
    A.MEMBER_LEFT: _l("Member left"),
    A.MEMBER_JOINED: _l("Member joined"),
    A.INVITATION_SENT: _l("Invitation sent"),
    A.INVITATION_RESENT: _l("Invitation resent"),
    A.INVITATION_REVOKED: _l("Invitation revoked"),
    A.INVITATION_ACCEPTED: _l("Invitation accepted"),
    A.BUCKET_CREATED: _l("Bucket created"),
    A.BUCKET_DELETED: _l("Bucket deleted"),
    A.BUCKET_VERSIONING_CHANGED: _l("Bucket versioning changed"),
    A.BUCKET_LIFECYCLE_CHANGED: _l("Bucket lifecycle rules changed"),
    A.KEY_CREATED: _l("Access key created"),
    A.KEY_ROTATED: _l("Access key rotated"),
    A.KEY_STATUS_CHANGED: _l("Access key status changed"),
    A.KEY_REVOKED: _l("Access key revoked"),
    A.ORDER_PLACED: _l("Order placed"),
    A.ORDER_PAID: _l("Order paid"),
    A.ORDER_FULFILLED: _l("Order fulfilled"),
    A.ORDER_CANCELLED: _l("Order cancelled"),
    A.PRODUCT_CREATED: _l("Product created"),
    A.PRODUCT_UPDATED: _l("Product updated"),
    A.PRODUCT_DELETED: _l("Product deleted"),
    A.SUBSCRIPTION_CANCELLED: _l("Subscription cancelled"),
    A.INVOICE_ISSUED: _l("Invoice issued"),
    A.QUOTA_REQUESTED: _l("Quota increase requested"),
    A.QUOTA_APPROVED: _l("Quota request approved"),
    A.QUOTA_REJECTED: _l("Quota request rejected"),
}

SENTENCES = {
    A.USER_SIGNED_UP: _l("Signed up as %(target)s."),
    A.USER_LOGGED_IN: _l("Logged in."),
    A.USER_LOGIN_FAILED: _l("A login attempt failed for %(target)s."),
    A.USER_LOGGED_OUT: _l("Logged out."),
    A.USER_PASSWORD_RESET_REQUESTED: _l("Requested a password reset for %(target)s."),
    A.USER_PASSWORD_RESET: _l("Reset the password of %(target)s."),
    A.USER_LOCALE_CHANGED: _l("Changed the interface language."),
    A.USER_PROMOTED_ADMIN: _l("Made %(target)s a platform administrator."),
    A.ACCOUNT_CREATED: _l("Created the organization %(target)s."),
    A.ACCOUNT_UPDATED: _l("Updated the profile of %(target)s."),
    A.ACCOUNT_STATUS_CHANGED: _l("Changed the status of the organization %(target)s."),
    A.MEMBER_ROLE_CHANGED: _l("Changed the role of %(target)s."),
    A.MEMBER_REMOVED: _l("Removed %(target)s from the organization."),
    A.MEMBER_LEFT: _l("Left the organization."),
    A.MEMBER_JOINED: _l("Joined the organization."),
    A.INVITATION_SENT: _l("Invited %(target)s."),
    A.INVITATION_RESENT: _l("Resent the invitation to %(target)s."),
    A.INVITATION_REVOKED: _l("Revoked the invitation to %(target)s."),
    A.INVITATION_ACCEPTED: _l("Accepted the invitation sent to %(target)s."),
    A.BUCKET_CREATED: _l("Created the bucket %(target)s."),
    A.BUCKET_DELETED: _l("Deleted the bucket %(target)s."),
    A.BUCKET_VERSIONING_CHANGED: _l("Changed the versioning of the bucket %(target)s."),
    A.BUCKET_LIFECYCLE_CHANGED: _l("Changed the lifecycle rules of the bucket %(target)s."),
    A.KEY_CREATED: _l("Created the access key %(target)s."),
    A.KEY_ROTATED: _l("Rotated the secret of the access key %(target)s."),
    A.KEY_STATUS_CHANGED: _l("Changed the status of the access key %(target)s."),
    A.KEY_REVOKED: _l("Revoked the access key %(target)s."),
    A.ORDER_PLACED: _l("Placed the order %(target)s."),
    A.ORDER_PAID: _l("Marked the order %(target)s as paid."),
    A.ORDER_FULFILLED: _l("Fulfilled the order %(target)s."),
    A.ORDER_CANCELLED: _l("Cancelled the order %(target)s."),
    A.PRODUCT_CREATED: _l("Created the product %(target)s."),
    A.PRODUCT_UPDATED: _l("Updated the product %(target)s."),
    A.PRODUCT_DELETED: _l("Deleted the product %(target)s."),
    A.SUBSCRIPTION_CANCELLED: _l("Cancelled the subscription %(target)s."),
    A.INVOICE_ISSUED: _l("Issued the invoice %(target)s."),
    A.QUOTA_REQUESTED: _l("Requested a quota increase: %(target)s."),
    A.QUOTA_APPROVED: _l("Approved the quota request %(target)s."),
    A.QUOTA_REJECTED: _l("Rejected the quota request %(target)s."),
}


def label(action: str) -> str:
    """The action's name for people (unknown actions show their code)."""
    try:
        return str(LABELS[Action(action)])
    except (ValueError, KeyError):
        return action


def target_text(target_type: str | None, target_id: str | None, target_label: str | None) -> str:
    if target_label:
        return target_label
    if target_id:
        return f"{target_type or ''} #{target_id}".strip()
    return "—"


def sentence(
    action: str,
    target_type: str | None = None,
    target_id: str | None = None,
    target_label: str | None = None,
) -> str:
    """What happened, as a sentence in the reader's language (plain text)."""
    params: dict[str, Any] = {"target": target_text(target_type, target_id, target_label)}
    try:
        template = SENTENCES[Action(action)]
    except (ValueError, KeyError):
        return gettext("Performed the action %(action)s.", action=action)
    return str(template) % params
