"""/accounts/<id>/billing: the organization's subscriptions, its orders and the catalog to
order from (owners, admins and billing members; other members get 403, other people 404).

The page draws the sections of :mod:`portal.billing.sections`. Placing an order swaps the
whole ``#billing`` piece with htmx (the new order shows in the list, or the form comes
back with its errors, 422); the orders' pager swaps ``#orders``; cancelling an order or a
subscription swaps its row. Every form also works without JavaScript (post, redirect,
get; a refused change answers 422 with the message next to the field or the row)."""

from __future__ import annotations

from flask import Blueprint, request, url_for
from flask_babel import format_datetime, gettext
from flask_login import login_required

from portal import web
from portal.billing import orders, sections, subscriptions
from portal.billing.forms import OrderForm
from portal.billing.labels import order_status_label, subscription_status_label
from portal.errors import Invalid
from portal.extensions import db
from portal.permissions import Permission, require

bp = Blueprint("billing", __name__)

PAGE = "billing/index.html"
PIECE = "billing/_billing.html"


@bp.app_context_processor
def billing_labels():
    return {
        "order_status_label": order_status_label,
        "subscription_status_label": subscription_status_label,
    }


def _view(account_id: int, **extra) -> sections.BillingView:
    account, membership = require(web.actor(), account_id, Permission.BILLING)
    return sections.BillingView(account, membership, args=request.args, **extra)


def _page(view: sections.BillingView, status: int = 200, partial: str = PIECE, only=None, **ctx):
    shown = sections.build(view, only=only)
    context = {
        "account": view.account,
        "membership": view.membership,
        "sections": shown,
        "row_errors": ctx.pop("row_errors", {}),
        **ctx,
    }
    if only is not None and shown:
        context["section"] = shown[0]
    return web.render(PAGE, partial, max(status, view.status), **context)


def _billing_url(account_id: int) -> str:
    return url_for("billing.index", account_id=account_id)


@bp.get("/accounts/<int:account_id>/billing")
@login_required
def index(account_id: int):
    return _page(_view(account_id))


@bp.get("/accounts/<int:account_id>/billing/orders", endpoint="orders")
@login_required
def orders_page(account_id: int):
    """The orders' pager: the ``#orders`` section for htmx, else the whole page."""
    view = _view(account_id)
    if web.is_partial():
        return _page(view, partial="billing/_orders.html", only="orders")
    return _page(view)


@bp.post("/accounts/<int:account_id>/billing/orders")
@login_required
def place(account_id: int):
    view = _view(account_id)  # the permission first: 403/404 whatever was sent
    form = OrderForm()
    if form.validate():
        try:
            order = orders.place_order(
                web.actor(),
                account_id,
                form.product.data,
                form.quantity.data,
                ip=web.client_ip(),
            )
        except Invalid as exc:
            db.session.rollback()
            web.form_error(form, exc)
        else:
            db.session.commit()
            message = gettext(
                "Order #%(order)s placed: %(quantity)s × %(product)s. It becomes active when "
                "our team confirms the payment.",
                order=order.id,
                quantity=order.quantity,
                product=order.product.name,
            )
            return web.done(
                message,
                _billing_url(account_id) + "#orders",
                lambda: _page(_view(account_id, messages={"order": message})),
            )
    view = _view(account_id, forms={"order": form})
    return _page(view, 422)


def _refused_page(errors: dict, *, account_id: int, error_field=None, extra=None, **_ids):
    """Without JavaScript, a refused row action shows the page with the message next to
    the row (422)."""
    return _page(_view(account_id), 422, row_errors=errors)


ORDER_ROW = web.Rows(
    template="billing/_order_row.html",
    name="o",
    reload=lambda account_id, order_id: orders.account_order_row(web.actor(), account_id, order_id),
    page=_refused_page,
    columns=7,
)

SUBSCRIPTION_ROW = web.Rows(
    template="billing/_subscription_row.html",
    name="s",
    reload=lambda account_id, subscription_id: subscriptions.subscription_row(
        web.actor(), account_id, subscription_id
    ),
    page=_refused_page,
    columns=7,
)


@bp.post("/accounts/<int:account_id>/billing/orders/<int:order_id>/cancel")
@login_required
def cancel_order(account_id: int, order_id: int):
    return ORDER_ROW.act(
        lambda: orders.cancel_order(web.actor(), account_id, order_id, ip=web.client_ip()),
        done=lambda o: gettext("Order #%(order)s was cancelled.", order=o.id),
        back=_billing_url(account_id) + "#orders",
        ids={"account_id": account_id, "order_id": order_id},
        confirm=lambda o: gettext(
            "Cancel order #%(order)s (%(quantity)s × %(product)s)?",
            order=o.id,
            quantity=o.quantity,
            product=o.product_name,
        ),
        may=lambda o: o.may_cancel,
    )


def _subscription_question(s) -> str:
    if s.current_period_end is not None:
        return gettext(
            "Cancel the subscription to %(product)s? It stays usable until %(until)s; "
            "cancelling cannot be undone.",
            product=s.product_name,
            until=format_datetime(s.current_period_end, "medium"),
        )
    return gettext(
        "Cancel the subscription to %(product)s? Cancelling cannot be undone.",
        product=s.product_name,
    )


@bp.post("/accounts/<int:account_id>/billing/subscriptions/<int:subscription_id>/cancel")
@login_required
def cancel_subscription(account_id: int, subscription_id: int):
    return SUBSCRIPTION_ROW.act(
        lambda: subscriptions.cancel_subscription(
            web.actor(), account_id, subscription_id, ip=web.client_ip()
        ),
        done=lambda s: gettext(
            "The subscription to %(product)s was cancelled.", product=s.product_name
        ),
        back=_billing_url(account_id) + "#subscriptions",
        ids={"account_id": account_id, "subscription_id": subscription_id},
        confirm=_subscription_question,
        may=lambda s: s.may_cancel,
    )


# Invoices add their section and pages to this blueprint (imported last: it uses _page).
from portal.billing import invoice_pages  # noqa: E402,F401

# The usage section and its routes (``billing.usage``, ``billing.usage_csv``) register on
# this blueprint; imported last, once ``bp``, ``_view`` and ``_page`` exist.
from portal.usage import routes as _usage_routes  # noqa: E402, F401
