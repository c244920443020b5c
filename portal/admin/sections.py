"""The sections of one organization's staff page (/admin/accounts/<id>): the hook through
which every domain shows what staff need to see of an organization.

The page is the list :data:`SECTIONS`, drawn in order. A section is one partial fed by one
service function, so each domain owns its section and the page knows none of them:

    Section(
        key="buckets",                     # the <section id>, and the anchor audit links use
        title=_l("Buckets"),               # its heading
        template="buckets/_admin_section.html",
        load="portal.buckets.services:admin_section",
    )

How to add your domain's section (buckets, keys, subscriptions and orders, invoices...):
1. a service function ``admin_section(actor, account) -> data``: it calls
   ``permissions.require_platform_admin(actor)``, reads what staff need in ONE query (two
   at most) with a bounded number of rows (the page's query count is tested: it must not
   grow with the data), and returns a view object. Never secrets (an access key's id,
   status and scope; never its secret, not even encrypted);
2. a partial ``templates/<domain>/_admin_section.html`` that reads ``data`` (and
   ``account``, the Account). It is read-only: staff act through /admin pages, never through
   customer-only controls (a platform admin is not a member of the organization); link to
   a staff page of your domain when there is one ("all orders of this organization");
3. one line in :data:`SECTIONS` below, where it belongs in the page's order.
The section's ``key`` is also where audit links of your target type land from /admin/audit
(``portal.audit_log.services.SECTION_OF``): add your target type there too.

Nothing is shown for a domain that has not added its line (no empty placeholder).
``tests/functional/test_admin_organization.py`` checks that every section's loader
resolves, its template exists, and the page's query count stays fixed.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Section:
    key: str
    title: Any  # a lazy string
    template: str
    load: str  # "package.module:function", imported on first use (no import cycles)

    @cached_property
    def loader(self) -> Callable[..., Any]:
        module, _, name = self.load.partition(":")
        return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class Loaded:
    """A section with its data, as the page draws it."""

    section: Section
    data: Any

    @property
    def key(self) -> str:
        return self.section.key

    @property
    def title(self) -> str:
        return str(self.section.title)

    @property
    def template(self) -> str:
        return self.section.template


SECTIONS: tuple[Section, ...] = (
    Section(
        "status",
        _l("Status"),
        "admin/organization/_status.html",
        "portal.admin.organization:status_section",
    ),
    Section(
        "members",
        _l("Members and roles"),
        "admin/organization/_members.html",
        "portal.admin.organization:members_section",
    ),
    Section(
        "buckets",
        _l("Buckets"),
        "buckets/_admin_section.html",
        "portal.buckets.services:admin_section",
    ),
    Section(
        "keys",
        _l("Access keys"),
        "keys/_admin_section.html",
        "portal.keys.services:admin_section",
    ),
    Section(
        "billing",
        _l("Subscriptions and orders"),
        "billing/_admin_billing.html",
        "portal.billing.staff:admin_section",
    ),
    Section(
        "invoices",
        _l("Invoices"),
        "billing/_admin_invoices.html",
        "portal.billing.invoices:admin_section",
    ),
    Section(
        "quotas",
        _l("Quotas and requests"),
        "quotas/_admin_section.html",
        "portal.quotas.review:admin_section",
    ),
    Section(
        "audit",
        _l("Audit log"),
        "admin/organization/_audit.html",
        "portal.admin.organization:audit_section",
    ),
)


def load_all(actor, account) -> list[Loaded]:
    """Every section with its data, in the page's order."""
    return [Loaded(s, s.loader(actor, account)) for s in SECTIONS]
