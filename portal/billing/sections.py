"""The sections of ``/accounts/<id>/billing``: a list the page iterates, each a partial with
the data it needs.

The page is one frame (the organization's tabs, then a table of contents) and whatever
sections are registered here, in ``position`` order. Another billing domain (usage,
invoices) adds its own with::

    @section("invoices", _l("Invoices"), "billing/_invoices.html", position=50)
    def invoices(view: BillingView) -> dict | None:
        return {"invoices": ...}   # None: not shown to this viewer

and imports its module in :mod:`portal.billing.routes`. A section's template draws one
``<section id="{{ section.id }}">`` reading ``section.data``, ``account``, ``membership``
and ``row_errors``; a section whose loader returns None is left out (no empty placeholder).
Each loader issues a fixed number of queries (the page's query-count test adds them up).

This is the web layer's side (loaders may read the query string through ``view.args``);
the data comes from the services.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l

from portal import web
from portal.billing import catalog, orders, subscriptions
from portal.billing.forms import OrderForm, OrdersListForm
from portal.models import Account, AccountMember
from portal.permissions import Permission, can


@dataclass
class BillingView:
    """What every loader gets: the organization, the viewer's membership, the query
    string, and what a failed request puts back on the page (a form with its errors,
    messages next to rows)."""

    account: Account
    membership: AccountMember
    args: Mapping[str, str] = field(default_factory=dict)
    forms: dict[str, Any] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)
    status: int = 200  # a loader that finds the query string invalid sets 422


@dataclass(frozen=True)
class Section:
    id: str
    title: Any
    template: str
    load: Callable[[BillingView], Mapping[str, Any] | None]
    position: int = 100


@dataclass(frozen=True)
class Shown:
    """A section with its data, as the page draws it."""

    id: str
    title: Any
    template: str
    data: Mapping[str, Any]


SECTIONS: list[Section] = []


def section(id: str, title: Any, template: str, *, position: int = 100):
    """Register a section's loader (a decorator)."""

    def register(load):
        SECTIONS[:] = [s for s in SECTIONS if s.id != id]
        SECTIONS.append(Section(id, title, template, load, position))
        SECTIONS.sort(key=lambda s: s.position)
        return load

    return register


def build(view: BillingView, only: str | None = None) -> list[Shown]:
    """The sections this viewer sees (``only``: that one), each with its data."""
    shown = []
    for s in SECTIONS:
        if only is not None and s.id != only:
            continue
        data = s.load(view)
        if data is not None:
            shown.append(Shown(s.id, s.title, s.template, data))
    return shown


# ----------------------------------------------------------------- this domain's ---
@section("subscriptions", _l("Subscriptions"), "billing/_subscriptions.html", position=10)
def _subscriptions(view: BillingView):
    return {
        "subscriptions": subscriptions.account_subscriptions(view.account, view.membership),
    }


@section("new-order", _l("Place an order"), "billing/_new_order.html", position=20)
def _new_order(view: BillingView):
    if not can(view.membership, Permission.BILLING):
        return None
    may_buy = view.account.status in orders.BUYING
    return {
        "may_buy": may_buy,
        "catalog": catalog.active_products() if may_buy else [],
        "form": view.forms.get("order") or OrderForm(formdata=None),
        "message": view.messages.get("order"),
    }


@section("orders", _l("Orders"), "billing/_orders.html", position=30)
def _orders(view: BillingView):
    form = OrdersListForm(formdata=view.args)
    ok, cursor = form.parse()
    page = None
    if ok:
        page = orders.account_orders(
            view.account,
            view.membership,
            before=cursor,
            limit=web.page_size("BILLING_ORDERS_PAGE_SIZE", orders.ACCOUNT_PAGE_SIZE),
        )
    else:
        view.status = 422
    return {
        "orders": page,
        "form": form,
        "links": form.links(url_for("billing.orders", account_id=view.account.id), page),
    }
