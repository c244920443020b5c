"""/admin/orders: every organization's orders, pending first (filters: status and
organization; keyset pages), and staff's moves: mark paid (with the payment's reference),
fulfil, cancel a pending order (with a reason).

With htmx a move swaps the order's row (#order-<id>); without JavaScript it redirects back
to the list with a flash. A refused move (someone else acted first, a missing reference or
reason) answers 422 with the message next to the field: the row alone for htmx, else a
page with that order's row.

These routes join the admin blueprint (``portal.admin.routes`` imports this module), so its
staff-only check covers them."""

from __future__ import annotations

from flask import request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from portal import web
from portal.admin.routes import bp
from portal.billing import orders
from portal.billing.labels import ORDER_STATUS_LABELS
from portal.fields import OpenChoiceField
from portal.pagination import ListForm

PAGE = "admin/orders.html"
LIST = "admin/_orders_list.html"


class OrderFilterForm(ListForm):
    """The list's filters, kept in the URL."""

    keyset = orders.ORDER
    status = OpenChoiceField(_l("Status"), validators=[Optional()])
    account = StringField(
        _l("Organization (number or CNPJ)"), validators=[Optional(), Length(max=40)]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = [("", _l("All statuses"))] + [
            (s, ORDER_STATUS_LABELS[s]) for s in orders.STATUSES
        ]
        self.account_obj = None
        # One status is simply newest first (its cursor has no rank).
        status = self.status.data if self.status.data in orders.STATUSES else None
        self.keyset = orders.keyset(status)

    def validate_status(self, field) -> None:
        if field.data and field.data not in orders.STATUSES:
            raise ValidationError(_l("Choose one of the statuses in the list."))

    def validate_account(self, field) -> None:
        if (field.data or "").strip():
            self.account_obj = orders.find_account(field.data)
            if self.account_obj is None:
                raise ValidationError(_l("No organization has this number or CNPJ."))


class MoveForm(FlaskForm):
    """Mark paid (reference), fulfil, or cancel (reason) one order."""

    reference = StringField(_l("Payment reference"))
    reason = TextAreaField(_l("Reason for the cancellation"))
    # The list's URL with its filters, to return to without JavaScript.
    back = HiddenField()

    def back_url(self) -> str:
        return web.back_to(self.back.data, url_for("admin.orders"))


@bp.get("/orders", endpoint="orders")
@login_required
def orders_list():
    form = OrderFilterForm(formdata=request.args)
    return web.list_view(
        PAGE,
        LIST,
        form,
        lambda cursor: orders.list_orders(
            web.actor(),
            status=form.status.data or None,
            account_id=form.account_obj.id if form.account_obj is not None else None,
            before=cursor,
            limit=web.page_size("ADMIN_ORDERS_PAGE_SIZE", orders.PAGE_SIZE),
        ),
        url_for("admin.orders"),
    )


ORDER = web.Rows(
    template="admin/_order_row.html",
    name="o",
    reload=lambda order_id: orders.order_row(web.actor(), order_id),
    page=web.row_page(
        "admin/order_action.html", "o", lambda order_id: orders.order_row(web.actor(), order_id)
    ),
    columns=7,
)


def _extra(form: MoveForm, back: str) -> dict:
    return {
        "back": back,
        "reference_value": form.reference.data or "",
        "reason_value": form.reason.data or "",
    }


@bp.post("/orders/<int:order_id>/pay")
@login_required
def pay_order(order_id: int):
    form = MoveForm()
    back = form.back_url()
    return ORDER.act(
        lambda: orders.mark_paid(web.actor(), order_id, form.reference.data, ip=web.client_ip()),
        done=lambda o: gettext("Order #%(order)s is paid.", order=o.id),
        back=back,
        ids={"order_id": order_id},
        extra=_extra(form, back),
    )


@bp.post("/orders/<int:order_id>/fulfil")
@login_required
def fulfil_order(order_id: int):
    form = MoveForm()
    back = form.back_url()
    return ORDER.act(
        lambda: orders.fulfil(web.actor(), order_id, ip=web.client_ip()),
        done=lambda o: gettext(
            "Order #%(order)s is fulfilled: %(account)s subscribes to %(product)s.",
            order=o.id,
            account=o.account_name,
            product=o.product_name,
        ),
        back=back,
        ids={"order_id": order_id},
        extra=_extra(form, back),
    )


@bp.post("/orders/<int:order_id>/cancel")
@login_required
def cancel_order(order_id: int):
    form = MoveForm()
    back = form.back_url()
    return ORDER.act(
        lambda: orders.cancel_by_staff(web.actor(), order_id, form.reason.data, ip=web.client_ip()),
        done=lambda o: gettext("Order #%(order)s was cancelled.", order=o.id),
        back=back,
        ids={"order_id": order_id},
        confirm=lambda o: gettext(
            "Cancel order #%(order)s of %(account)s?", order=o.id, account=o.account_name
        ),
        # Ask only when the cancellation can go through (a missing reason is told at once).
        may=lambda o: "cancel" in o.staff_actions and bool((form.reason.data or "").strip()),
        extra=_extra(form, back),
    )
