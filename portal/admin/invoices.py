"""/admin/invoices: every organization's invoices, newest number first (filters: period,
status, past due; keyset pages), the button that issues a month's drafts, and staff's
moves on each row: open a draft (the customers are told), mark an open one paid (with the
payment's reference), void a draft or an open one (with a reason).

With htmx a move swaps the invoice's row (#invoice-<id>); without JavaScript it redirects
back to the list with a flash. A refused move answers 422 with the message next to the
field (the row alone for htmx, else a page with that invoice's row). Issuing asks for a
confirmation without JavaScript (htmx: ``hx-confirm``) and redirects to the month's list.

These routes join the admin blueprint (``portal.admin.routes`` imports this module), so its
staff-only check covers them."""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from portal import web
from portal.admin.routes import bp
from portal.billing import invoices, orders
from portal.billing.labels import INVOICE_STATUS_LABELS
from portal.errors import Invalid
from portal.extensions import db
from portal.fields import OpenChoiceField
from portal.pagination import ListForm

PAGE = "admin/invoices.html"
LIST = "admin/_invoices_list.html"


class InvoiceFilterForm(ListForm):
    """The list's filters, kept in the URL."""

    keyset = invoices.ORDER
    period = StringField(_l("Month (YYYY-MM)"), validators=[Optional()])
    status = OpenChoiceField(_l("Status"), validators=[Optional()])
    past_due = BooleanField(_l("Only open invoices past due"))
    account = StringField(
        _l("Organization (number or CNPJ)"), validators=[Optional(), Length(max=40)]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = [("", _l("All statuses"))] + [
            (s, INVOICE_STATUS_LABELS[s]) for s in invoices.STATUSES
        ]
        self.period_start = None
        self.account_obj = None

    def validate_account(self, field) -> None:
        if (field.data or "").strip():
            self.account_obj = orders.find_account(field.data)
            if self.account_obj is None:
                raise ValidationError(_l("No organization has this number or CNPJ."))

    def validate_status(self, field) -> None:
        if field.data and field.data not in invoices.STATUSES:
            raise ValidationError(_l("Choose one of the statuses in the list."))

    def validate_period(self, field) -> None:
        if (field.data or "").strip():
            try:
                self.period_start = invoices.parse_period(field.data)
            except Invalid as exc:
                raise ValidationError(exc.message) from None


class MoveForm(FlaskForm):
    """Open, mark paid (reference) or void (reason) one invoice."""

    reference = StringField(_l("Payment reference"))
    reason = TextAreaField(_l("Reason for voiding"))
    back = HiddenField()

    def back_url(self) -> str:
        return web.back_to(self.back.data, url_for("admin.invoices"))


class IssueForm(FlaskForm):
    period = StringField(_l("Month (YYYY-MM)"))


@bp.get("/invoices", endpoint="invoices")
@login_required
def invoices_list():
    form = InvoiceFilterForm(formdata=request.args)
    issue = IssueForm(
        formdata=None, prefix="issue", period=invoices.period_label(invoices.last_month())
    )
    return web.list_view(
        PAGE,
        LIST,
        form,
        lambda cursor: invoices.list_invoices(
            web.actor(),
            period=form.period_start,
            status=form.status.data or None,
            past_due=bool(form.past_due.data),
            account_id=form.account_obj.id if form.account_obj is not None else None,
            before=cursor,
            limit=web.page_size("ADMIN_INVOICES_PAGE_SIZE", invoices.PAGE_SIZE),
        ),
        url_for("admin.invoices"),
        issue=issue,
        today=invoices.today(),
    )


@bp.post("/invoices/issue", endpoint="issue_invoices")
@login_required
def issue_invoices():
    form = IssueForm(prefix="issue")
    back = url_for("admin.invoices")
    if not web.confirmed():
        return web.ask(
            gettext(
                "Issue the invoices of %(period)s? One draft is created for each organization "
                "with a subscription or usage that month.",
                period=(form.period.data or "").strip(),
            ),
            back,
        )
    try:
        result = invoices.issue_period(web.actor(), form.period.data, ip=web.client_ip())
    except Invalid as exc:
        db.session.rollback()
        web.form_error(form, exc)
        filters = InvoiceFilterForm(formdata=None)
        return web.render(
            PAGE,
            PAGE,
            422,
            form=filters,
            listing=None,
            links=filters.links(back, None),
            back=back,
            issue=form,
            today=invoices.today(),
        )
    db.session.commit()
    label = invoices.period_label(result.period)
    message = gettext(
        "%(period)s: %(created)s drafts created, %(existing)s already existed.",
        period=label,
        created=result.created,
        existing=result.existing,
    )
    target = url_for("admin.invoices", period=label)
    if web.is_partial():
        web.flash_success(message)
        return web.hx_redirect(target)
    web.flash_success(message)
    return redirect(target)


INVOICE = web.Rows(
    template="admin/_invoice_row.html",
    name="i",
    reload=lambda invoice_id: invoices.invoice_row(web.actor(), invoice_id),
    page=web.row_page(
        "admin/invoice_action.html",
        "i",
        lambda invoice_id: invoices.invoice_row(web.actor(), invoice_id),
    ),
    context=lambda i: {"today": invoices.today()},
    columns=7,
)


def _extra(form: MoveForm, back: str) -> dict:
    return {
        "back": back,
        "reference_value": form.reference.data or "",
        "reason_value": form.reason.data or "",
        "today": invoices.today(),
    }


@bp.post("/invoices/<int:invoice_id>/open")
@login_required
def open_invoice(invoice_id: int):
    form = MoveForm()
    back = form.back_url()
    return INVOICE.act(
        lambda: invoices.open_invoice(web.actor(), invoice_id, ip=web.client_ip()),
        done=lambda i: gettext(
            "Invoice %(number)s is open: %(account)s was told.",
            number=i.number,
            account=i.account_name,
        ),
        back=back,
        ids={"invoice_id": invoice_id},
        extra=_extra(form, back),
    )


@bp.post("/invoices/<int:invoice_id>/pay")
@login_required
def pay_invoice(invoice_id: int):
    form = MoveForm()
    back = form.back_url()
    return INVOICE.act(
        lambda: invoices.mark_paid(
            web.actor(), invoice_id, form.reference.data, ip=web.client_ip()
        ),
        done=lambda i: gettext("Invoice %(number)s is paid.", number=i.number),
        back=back,
        ids={"invoice_id": invoice_id},
        extra=_extra(form, back),
    )


@bp.post("/invoices/<int:invoice_id>/void")
@login_required
def void_invoice(invoice_id: int):
    form = MoveForm()
    back = form.back_url()
    return INVOICE.act(
        lambda: invoices.void_invoice(
            web.actor(), invoice_id, form.reason.data, ip=web.client_ip()
        ),
        done=lambda i: gettext("Invoice %(number)s was voided.", number=i.number),
        back=back,
        ids={"invoice_id": invoice_id},
        confirm=lambda i: gettext(
            "Void invoice %(number)s of %(account)s?", number=i.number, account=i.account_name
        ),
        may=lambda i: "void" in i.staff_actions and bool((form.reason.data or "").strip()),
        extra=_extra(form, back),
    )
