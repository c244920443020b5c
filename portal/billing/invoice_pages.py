"""The customer's side of invoices: the "Invoices" section of ``/accounts/<id>/billing``
(issued invoices, newest first, keyset pages) and the invoice page
``/accounts/<id>/billing/invoices/<number>`` (lines, the organization and the issuer, PIX
for an open one; printable: ``@media print`` in static/css/app.css gives a clean A4).

Owners, admins and billing members (``Permission.BILLING``); members and viewers get 403,
other organizations 404; a draft is staff's until it is opened (404)."""

from __future__ import annotations

from flask import current_app, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from wtforms import HiddenField

from portal import web
from portal.billing import invoices, pix
from portal.billing.labels import invoice_status_label
from portal.billing.routes import _page, _view, bp
from portal.billing.sections import BillingView, section
from portal.pagination import ListForm


class InvoicesListForm(ListForm):
    """The invoices' pager (its own cursor name: the orders' pager shares the page)."""

    keyset = invoices.ORDER
    before = HiddenField(name="invoices_before")


@bp.app_context_processor
def invoice_labels():
    return {"invoice_status_label": invoice_status_label}


@section("invoices", _l("Invoices"), "billing/_invoices.html", position=40)
def _invoices(view: BillingView):
    form = InvoicesListForm(formdata=view.args)
    ok, cursor = form.parse()
    page = None
    if ok:
        page = invoices.account_invoices(
            view.account,
            before=cursor,
            limit=web.page_size("BILLING_INVOICES_PAGE_SIZE", invoices.ACCOUNT_PAGE_SIZE),
        )
    else:
        view.status = 422
    return {
        "invoices": page,
        "form": form,
        "links": form.links(url_for("billing.invoices", account_id=view.account.id), page),
        "today": invoices.today(),
    }


@bp.get("/accounts/<int:account_id>/billing/invoices", endpoint="invoices")
@login_required
def invoices_page(account_id: int):
    """The invoices' pager: the ``#invoices`` section for htmx, else the whole page."""
    view = _view(account_id)
    if web.is_partial():
        return _page(view, partial="billing/_invoices.html", only="invoices")
    return _page(view)


@bp.get("/accounts/<int:account_id>/billing/invoices/<int:number>", endpoint="invoice")
@login_required
def invoice_page(account_id: int, number: int):
    view = invoices.account_invoice(web.actor(), account_id, number)
    code = svg = None
    if view.invoice.status == "open":
        code = pix.invoice_payload(view.invoice.number, view.invoice.total)
        svg = pix.qr_svg(
            code, gettext("PIX QR code of the invoice %(number)s", number=view.invoice.number)
        )
    config = current_app.config
    return web.account_page(
        "billing/invoice.html",
        "billing/_invoice.html",
        view,
        invoice=view.invoice,
        lines=view.lines,
        usage_labels=invoices.USAGE_LABELS,
        issuer={
            "name": config["ISSUER_NAME"],
            "cnpj": config["ISSUER_CNPJ"],
            "address": config["ISSUER_ADDRESS"],
        },
        pix_code=code,
        pix_svg=svg,
        today=invoices.today(),
    )
