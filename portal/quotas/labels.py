"""Readable, translated names for quota resources and quota-request statuses (pages,
notifications and emails use them; templates through the ``resource_label`` and
``request_status_label`` globals the quotas blueprint adds)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.formats import request_formats

# As a heading or a select option.
RESOURCE_LABELS = {
    "buckets": _l("Buckets"),
    "storage_gb": _l("Storage (GB)"),
    "access_keys": _l("Active access keys"),
}

# Inside a sentence ("more buckets").
RESOURCE_NOUNS = {
    "buckets": _l("buckets"),
    "storage_gb": _l("storage (GB)"),
    "access_keys": _l("active access keys"),
}

REQUEST_STATUS_LABELS = {
    "pending": _l("Pending"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
}


def resource_label(resource: str) -> str:
    label = RESOURCE_LABELS.get(resource)
    return str(label) if label is not None else resource


def resource_noun(resource: str) -> str:
    noun = RESOURCE_NOUNS.get(resource)
    return str(noun) if noun is not None else resource


def request_status_label(status: str) -> str:
    label = REQUEST_STATUS_LABELS.get(status)
    return str(label) if label is not None else status


def amount(resource: str, value: int | None) -> str:
    """A quota value with its unit: "500 GB" for storage, "25" otherwise."""
    if value is None:
        return "—"
    if resource == "storage_gb":
        return f"{request_formats().decimal(value)} GB"
    return request_formats().decimal(value)
