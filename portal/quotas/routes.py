"""Quotas, on both sides.

- ``/accounts/<id>/quotas``: each quota with what is used against it, the form to ask for
  more (owners and admins; others see the page read-only) and the history of the requests
  (keyset pages: the "Older" link swaps #quota-history with htmx). Asking posts to
  ``/accounts/<id>/quotas/requests``: with htmx the form and the history (#quota-requests)
  are swapped (422 with the messages next to the fields); without JavaScript it redirects
  back with a flash, or answers the page with the messages (422).
- ``/admin/quota-requests``: the staff queue (platform admins only; filters and the
  "Older" link in the URL, swapping #review-queue with htmx), and one POST per decision:
  approve (granted value, optional note) or reject (note). With htmx a decision swaps the
  request's card; without JavaScript it redirects back (the queue or the organization's
  page) with a flash; a refused decision answers 422 with the message next to the field.
"""

from __future__ import annotations

from flask import Blueprint, request, url_for
from flask_babel import gettext
from flask_login import login_required

from portal import web
from portal.errors import Invalid, NotFound
from portal.extensions import db
from portal.permissions import Permission, require_platform_admin
from portal.quotas import labels, review, services
from portal.quotas.forms import (
    ApproveForm,
    HistoryForm,
    RejectForm,
    RequestForm,
    ReviewFilterForm,
)

bp = Blueprint("quotas", __name__)


@bp.app_context_processor
def quota_labels():
    """Translated resource and request-status names, for every page and email."""
    return {
        "resource_label": labels.resource_label,
        "resource_noun": labels.resource_noun,
        "request_status_label": labels.request_status_label,
        "quota_amount": labels.amount,
    }


# ----------------------------------------------------------------------- customers ---
PAGE = "quotas/index.html"
HISTORY = "quotas/_history.html"
REQUESTS = "quotas/_requests.html"


def _quotas_url(account_id: int) -> str:
    return url_for("quotas.index", account_id=account_id)


def _render(page: services.QuotasPage, history_form: HistoryForm, partial: str, status=200, **kw):
    url = _quotas_url(page.account.id)
    form = kw.pop("form", None) or _blank_form(page)
    form.offer(page.requestable, page.usage)
    return web.render(
        PAGE,
        partial,
        status,
        quotas=page,
        account=page.account,
        membership=page.membership,
        history_form=history_form,
        links=history_form.links(url, page.history),
        form=form,
        **kw,
    )


def _blank_form(page: services.QuotasPage) -> RequestForm:
    form = RequestForm(formdata=None)
    requestable = page.requestable
    if requestable:
        form.resource.data = requestable[0]
    return form


@bp.get("/accounts/<int:account_id>/quotas")
@login_required
def index(account_id: int):
    history_form = HistoryForm(formdata=request.args)
    ok, cursor = history_form.parse()
    page = services.quotas_page(
        web.actor(),
        account_id,
        cursor,
        web.page_size("QUOTA_HISTORY_PAGE_SIZE", services.HISTORY_PAGE_SIZE),
        history=ok,
    )
    return _render(page, history_form, HISTORY, 200 if ok else 422)


@bp.post("/accounts/<int:account_id>/quotas/requests")
@login_required
def create(account_id: int):
    # The permission first: a role that may not ask gets 403 whatever it sent.
    services.access(web.actor(), account_id, Permission.QUOTAS_REQUEST)
    form = RequestForm()
    pending_id = None
    if form.validate():
        try:
            created = services.request_increase(
                web.actor(),
                account_id,
                form.resource.data,
                form.value.data,
                form.reason.data,
                ip=web.client_ip(),
            )
        except services.PendingRequest as exc:
            db.session.rollback()
            web.form_error(form, exc)
            pending_id = exc.request_id
        except Invalid as exc:
            db.session.rollback()
            web.form_error(form, exc)
        else:
            db.session.commit()
            message = gettext(
                "Your request for %(value)s %(resource)s was sent. PrimeCloud will answer it "
                "here and by email.",
                value=labels.amount(created.resource, created.requested_value),
                resource=labels.resource_noun(created.resource),
            )
            return web.done(
                message,
                _quotas_url(account_id),
                lambda: _render(
                    services.quotas_page(web.actor(), account_id),
                    HistoryForm(formdata=None),
                    REQUESTS,
                    message=message,
                    created_id=created.id,
                ),
            )
    return _render(
        services.quotas_page(web.actor(), account_id),
        HistoryForm(formdata=None),
        REQUESTS,
        422,
        form=form,
        pending_id=pending_id,
    )


# --------------------------------------------------------------------------- staff ---
QUEUE_PAGE = "quotas/review.html"
QUEUE_LIST = "quotas/_review_queue.html"


@bp.get("/admin/quota-requests", endpoint="review")
@login_required
def review_queue():
    require_platform_admin(web.actor())
    form = ReviewFilterForm(formdata=request.args)
    return web.list_view(
        QUEUE_PAGE,
        QUEUE_LIST,
        form,
        lambda cursor: review.list_queue(
            web.actor(),
            status=form.status.data or None,
            resource=form.resource.data or None,
            before=cursor,
            limit=web.page_size("QUOTA_REVIEW_PAGE_SIZE", review.PAGE_SIZE),
        ),
        url_for("quotas.review"),
    )


REQUEST = web.Rows(
    template="quotas/_review_row.html",
    name="r",
    reload=lambda request_id: review.review_row(web.actor(), request_id),
    page=web.row_page(
        "quotas/review_action.html",
        "r",
        lambda request_id: review.review_row(web.actor(), request_id),
    ),
)


def _done(r: review.ReviewRow) -> str:
    if r.status == "approved":
        return gettext(
            "Approved: %(account)s may now use %(granted)s %(resource)s.",
            account=r.account_name,
            granted=labels.amount(r.resource, r.granted),
            resource=labels.resource_noun(r.resource),
        )
    return gettext("Rejected. %(account)s was told why.", account=r.account_name)


@bp.post("/admin/quota-requests/<int:request_id>/approve")
@login_required
def approve(request_id: int):
    require_platform_admin(web.actor())
    form = ApproveForm()
    back = form.back_url()
    extra = {
        "acting": "approve",
        "back": back,
        "granted_raw": form.granted_value._value(),
        "approve_note": form.review_note.data or "",
    }
    if not form.validate():
        # Only the granted value can be malformed (not a whole number): 422, nothing written.
        if review.review_row(web.actor(), request_id) is None:
            raise NotFound()
        message = " ".join(map(str, form.granted_value.errors)) or gettext("Enter a whole number.")
        return REQUEST.refused(
            Invalid(message, field="granted_value"),
            back=back,
            ids={"request_id": request_id},
            extra=extra,
        )
    return REQUEST.act(
        lambda: review.approve(
            web.actor(),
            request_id,
            form.granted_value.data,
            form.review_note.data,
            ip=web.client_ip(),
        ),
        done=_done,
        back=back,
        ids={"request_id": request_id},
        extra=extra,
    )


@bp.post("/admin/quota-requests/<int:request_id>/reject")
@login_required
def reject(request_id: int):
    require_platform_admin(web.actor())
    form = RejectForm()
    back = form.back_url()
    return REQUEST.act(
        lambda: review.reject(web.actor(), request_id, form.review_note.data, ip=web.client_ip()),
        done=_done,
        back=back,
        ids={"request_id": request_id},
        extra={"acting": "reject", "back": back, "reject_note": form.review_note.data or ""},
    )
