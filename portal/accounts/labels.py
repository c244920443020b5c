"""Readable, translated names for roles and account statuses (templates, emails,
notifications and the audit log use them; templates through the ``role_label`` /
``account_status_label`` globals the accounts blueprint adds). Quota resources are named in
``portal.quotas.labels``.

Each label has a message context ("role", "account status"...): the same English word can
need another Portuguese one elsewhere ("Admin" the role is "Administrador(a)", the admin
area is "Administração"; an account is "Ativa", a key "Ativa", a request "Aprovado"). In
pt-BR a role reads well inside a sentence: "agora é Administrador(a)"."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from portal.models import AccountStatus, Role

ROLE_LABELS = {
    Role.OWNER: lazy_pgettext("role", "Owner"),
    Role.ADMIN: lazy_pgettext("role", "Admin"),
    Role.MEMBER: lazy_pgettext("role", "Member"),
    Role.BILLING: lazy_pgettext("role", "Billing"),
    Role.VIEWER: lazy_pgettext("role", "Viewer"),
}


ROLE_DESCRIPTIONS = {
    Role.OWNER: _l("Everything, including managing other owners."),
    Role.ADMIN: _l("Everything except acting on owners."),
    Role.MEMBER: _l("Buckets and access keys."),
    Role.BILLING: _l("Orders, invoices and usage."),
    Role.VIEWER: _l("Read only."),
}

STATUS_LABELS = {
    AccountStatus.PENDING: lazy_pgettext("account status", "Pending review"),
    AccountStatus.APPROVED: lazy_pgettext("account status", "Approved"),
    AccountStatus.ACTIVE: lazy_pgettext("account status", "Active"),
    AccountStatus.SUSPENDED: lazy_pgettext("account status", "Suspended"),
}

STATUS_EXPLANATIONS = {
    AccountStatus.PENDING: _l(
        "Our team reviews new organizations, usually within one business day. "
        "You can invite your team meanwhile."
    ),
    AccountStatus.APPROVED: _l(
        "Your organization was approved. It becomes active with its first subscription: "
        "place an order to start creating buckets and access keys."
    ),
    AccountStatus.ACTIVE: _l(
        "Your organization is active: you can create buckets and access keys within your quotas."
    ),
    AccountStatus.SUSPENDED: _l(
        "Your organization is suspended and read-only: nothing can be created or changed. "
        "Contact support to restore it."
    ),
}


def role_label(role: str) -> str:
    from portal.i18n import translated_once

    labels = translated_once("roles", lambda: {r.value: str(ROLE_LABELS[r]) for r in Role})
    key = role.value if isinstance(role, Role) else role
    return labels.get(key, role)


def role_description(role: str) -> str:
    try:
        return str(ROLE_DESCRIPTIONS[Role(role)])
    except ValueError:
        return ""


def account_status_label(status: str) -> str:
    try:
        return str(STATUS_LABELS[AccountStatus(status)])
    except ValueError:
        return status


def account_status_explanation(status: str) -> str:
    try:
        return str(STATUS_EXPLANATIONS[AccountStatus(status)])
    except ValueError:
        return ""
