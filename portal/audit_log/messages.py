"""Readable, translated text for every audit action.

``LABELS`` names an action in the filter's select; ``SENTENCES`` says what happened, in the
reader's language, from the row's target (a snapshot label, kept when the target is gone).
Every member of :class:`portal.audit.Action` has both (a unit test checks it).
"""

from __future__ import annotations

import json
from typing import Any

from flask_babel import gettext, lazy_pgettext
from flask_babel import lazy_gettext as _l

from portal.audit import Action
from portal.i18n import translated_once

A = Action

LABELS = {
    A.USER_SIGNED_UP: _l("Signed up"),
    A.USER_LOGGED_IN: _l("Logged in"),
    A.USER_LOGIN_FAILED: _l("Login failed"),
    A.USER_LOGGED_OUT: _l("Logged out"),
    A.USER_SESSION_REVOKED: _l("Session ended"),
    A.USER_OTHER_SESSIONS_REVOKED: _l("Logged out everywhere else"),
    A.USER_PROFILE_UPDATED: _l("Profile updated"),
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
    A.KEY_DEACTIVATED: _l("Access key deactivated"),
    A.KEY_REACTIVATED: _l("Access key reactivated"),
    A.KEY_RENAMED: _l("Access key renamed"),
    A.KEY_SCOPE_CHANGED: _l("Access key scope changed"),
    A.KEY_EXPIRING: _l("Access key expiring soon"),
    A.KEY_EXPIRED: _l("Access key expired"),
    A.ORDER_PLACED: _l("Order placed"),
    A.ORDER_PAID: _l("Order paid"),
    A.ORDER_FULFILLED: _l("Order fulfilled"),
    A.ORDER_CANCELLED: _l("Order cancelled"),
    A.PRODUCT_CREATED: _l("Product created"),
    A.PRODUCT_UPDATED: _l("Product updated"),
    A.PRODUCT_DELETED: _l("Product deleted"),
    A.SUBSCRIPTION_CANCELLED: _l("Subscription cancelled"),
    A.INVOICE_ISSUED: _l("Invoice issued"),
    A.INVOICES_DRAFTED: _l("Invoices drafted for a month"),
    A.INVOICE_PAID: _l("Invoice paid"),
    A.INVOICE_VOIDED: _l("Invoice voided"),
    A.QUOTA_REQUESTED: _l("Quota increase requested"),
    A.QUOTA_APPROVED: _l("Quota request approved"),
    A.QUOTA_REJECTED: _l("Quota request rejected"),
    A.USAGE_THRESHOLD_REACHED: _l("Storage quota threshold reached"),
}

SENTENCES = {
    A.USER_SIGNED_UP: _l("Signed up as %(target)s."),
    A.USER_LOGGED_IN: _l("Logged in."),
    A.USER_LOGIN_FAILED: _l("A login attempt failed for %(target)s."),
    A.USER_LOGGED_OUT: _l("Logged out."),
    A.USER_SESSION_REVOKED: _l("Ended one of the sessions of %(target)s."),
    A.USER_OTHER_SESSIONS_REVOKED: _l("Ended every other session of %(target)s."),
    A.USER_PROFILE_UPDATED: _l("Updated the profile of %(target)s."),
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
    A.KEY_DEACTIVATED: _l("Deactivated the access key %(target)s."),
    A.KEY_REACTIVATED: _l("Reactivated the access key %(target)s."),
    A.KEY_RENAMED: _l("Renamed the access key %(target)s."),
    A.KEY_SCOPE_CHANGED: _l("Changed the buckets the access key %(target)s reaches."),
    A.KEY_EXPIRING: _l(
        "Told the owners and admins that the access key %(target)s expires within 7 days."
    ),
    A.KEY_EXPIRED: _l("Told the owners and admins that the access key %(target)s has expired."),
    A.ORDER_PLACED: _l("Placed the order %(target)s."),
    A.ORDER_PAID: _l("Marked the order %(target)s as paid."),
    A.ORDER_FULFILLED: _l("Fulfilled the order %(target)s."),
    A.ORDER_CANCELLED: _l("Cancelled the order %(target)s."),
    A.PRODUCT_CREATED: _l("Created the product %(target)s."),
    A.PRODUCT_UPDATED: _l("Updated the product %(target)s."),
    A.PRODUCT_DELETED: _l("Deleted the product %(target)s."),
    A.SUBSCRIPTION_CANCELLED: _l("Cancelled the subscription %(target)s."),
    A.INVOICE_ISSUED: _l("Issued the invoice %(target)s."),
    A.INVOICES_DRAFTED: _l("Drafted the invoices of %(target)s."),
    A.INVOICE_PAID: _l("Marked the invoice %(target)s as paid."),
    A.INVOICE_VOIDED: _l("Voided the invoice %(target)s."),
    A.QUOTA_REQUESTED: _l("Requested a quota increase: %(target)s."),
    A.QUOTA_APPROVED: _l("Approved the quota request %(target)s."),
    A.QUOTA_REJECTED: _l("Rejected the quota request %(target)s."),
    A.USAGE_THRESHOLD_REACHED: _l("The storage of %(target)s reached a threshold of its quota."),
}


# ------------------------------------------------------------------------ details ---
# An audit row's details are stored as the code wrote them (keys, codes, raw numbers), so
# they stay exact for the CSV export; the page shows them as a person reads them: a label
# for each key, and roles, states, resources, languages and CNPJs translated or formatted.
DETAIL_LABELS = {
    "from": lazy_pgettext("state change", "From"),
    "to": lazy_pgettext("state change", "To"),
    "reason": _l("Reason"),
    "threshold": _l("Threshold (%)"),
    "used_gb": _l("Used (GB)"),
    "quota_gb": _l("Quota (GB)"),
    "role": _l("Role"),
    "old_role": _l("Previous role"),
    "new_role": _l("New role"),
    "email": _l("Email"),
    "name": _l("Name"),
    "cnpj": _l("CNPJ"),
    "invitation_id": _l("Invitation"),
    "sent_count": _l("Times sent"),
    "source": _l("How"),
    "old": _l("Before"),
    "new": _l("After"),
    "locale": _l("Language"),
    "timezone": _l("Time zone"),
    "count": _l("How many"),
    "device": _l("Browser"),
    "session_ip": _l("IP address of the session"),
    "sessions_ended": _l("Sessions ended"),
    "resource": _l("Resource"),
    "requested_value": _l("Requested"),
    "status": _l("Status"),
    "permission": _l("Permission"),
    "scope": _l("Buckets reached"),
    "buckets": _l("Buckets"),
    "old_buckets": _l("Previous buckets"),
    "expires_at": _l("Expires"),
}

SOURCES = {
    "signup": _l("the sign-up form"),
    "cli": _l("the command line"),
    "invitation": _l("an invitation"),
    "seed": _l("the demo data"),
}


# An access key's permission and scope, as stored.
KEY_WORDS = {
    "read-only": _l("Read-only"),
    "read-write": _l("Read and write"),
    "all": _l("All buckets"),
    "buckets": _l("Chosen buckets"),
}


# Reasons the code writes (stored as written, shown translated).
REASONS = {
    "expired, replaced by a new invitation": _l("It had expired; a new invitation replaced it."),
}


def _detail_value(action: str, key: str, value: Any) -> str:
    from portal.accounts.labels import ROLE_LABELS, STATUS_LABELS
    from portal.i18n import LANGUAGE_NAMES
    from portal.quotas.labels import RESOURCE_LABELS
    from portal.templating import format_cnpj

    if value is None:
        return "—"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, str):
        if key in ("role", "old_role", "new_role") and value in ROLE_LABELS:
            return str(ROLE_LABELS[value])
        if key in ("from", "to", "status") and action == A.ACCOUNT_STATUS_CHANGED:
            return str(STATUS_LABELS.get(value, value))
        if key == "resource" and value in RESOURCE_LABELS:
            return str(RESOURCE_LABELS[value])
        if key in ("locale", "old", "new") and value in LANGUAGE_NAMES:
            return LANGUAGE_NAMES[value]
        if key == "cnpj":
            return format_cnpj(value)
        if key == "source" and value in SOURCES:
            return str(SOURCES[value])
        if key == "reason" and value in REASONS:
            return str(REASONS[value])
        if key == "permission" and value in KEY_WORDS:
            return str(KEY_WORDS[value])
        if key in ("scope", "from", "to") and action == A.KEY_SCOPE_CHANGED and value in KEY_WORDS:
            return str(KEY_WORDS[value])
        return value
    if isinstance(value, list) and key in ("buckets", "old_buckets"):
        return ", ".join(str(v) for v in value) if value else gettext("none")
    if key.endswith("_id") and isinstance(value, int):
        return f"#{value}"
    if isinstance(value, int | float):
        from portal.formats import request_formats

        return request_formats().decimal(value)
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def detail_key_label(key: str) -> str:
    label = DETAIL_LABELS.get(key)
    return str(label) if label is not None else key.replace("_", " ").capitalize()


def detail_items(action: str, details: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The details as (label, value) pairs a person reads, in the reader's language."""
    order = list(DETAIL_LABELS)
    keys = sorted((details or {}), key=lambda k: (order.index(k) if k in order else 99, k))
    return [(detail_key_label(k), _detail_value(action, k, details[k])) for k in keys]


# Finer sentences where a detail says more than the action (``(action, detail key, value)``);
# they may also use the details' values as parameters (``%(rule)s``). When a parameter is
# missing, the action's own sentence is used.
DETAILED = {
    (A.BUCKET_VERSIONING_CHANGED, "to", "enabled"): _l(
        "Enabled versioning on the bucket %(target)s."
    ),
    (A.BUCKET_VERSIONING_CHANGED, "to", "suspended"): _l(
        "Suspended versioning on the bucket %(target)s."
    ),
    (A.BUCKET_LIFECYCLE_CHANGED, "change", "added"): _l(
        "Added the lifecycle rule “%(rule)s” to the bucket %(target)s."
    ),
    (A.BUCKET_LIFECYCLE_CHANGED, "change", "updated"): _l(
        "Changed the lifecycle rule “%(rule)s” of the bucket %(target)s."
    ),
    (A.BUCKET_LIFECYCLE_CHANGED, "change", "enabled"): _l(
        "Enabled the lifecycle rule “%(rule)s” of the bucket %(target)s."
    ),
    (A.BUCKET_LIFECYCLE_CHANGED, "change", "disabled"): _l(
        "Disabled the lifecycle rule “%(rule)s” of the bucket %(target)s."
    ),
    (A.BUCKET_LIFECYCLE_CHANGED, "change", "deleted"): _l(
        "Deleted the lifecycle rule “%(rule)s” of the bucket %(target)s."
    ),
    (A.BUCKET_LIFECYCLE_CHANGED, "change", "imported"): _l(
        "Replaced the lifecycle rules of the bucket %(target)s with an imported configuration."
    ),
}


def label(action: str) -> str:
    """The action's name for people (unknown actions show their code)."""
    # Translated once per request: a page names an action on every row, and the filter
    # lists them all.
    labels = translated_once("audit_actions", lambda: {a.value: str(t) for a, t in LABELS.items()})
    return labels.get(action, action)


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
    details: dict[str, Any] | None = None,
) -> str:
    """What happened, as a sentence in the reader's language (plain text)."""
    params: dict[str, Any] = {"target": target_text(target_type, target_id, target_label)}
    try:
        template = SENTENCES[Action(action)]
    except (ValueError, KeyError):
        return gettext("Performed the action %(action)s.", action=action)
    for key, value in (details or {}).items():
        finer = DETAILED.get((Action(action), key, value)) if isinstance(value, str) else None
        if finer is not None:
            values = {k: str(v) for k, v in details.items() if isinstance(v, str | int)}
            try:
                return str(finer) % {**values, **params}
            except KeyError:
                break
    return str(template) % params
