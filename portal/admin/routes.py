"""Platform admin pages (platform admins only: others get 403, visitors the login page).

The admin home and the organizations page (/admin/accounts) live here; the platform's audit
log is /admin/audit (portal.audit_log)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request
from flask_babel import gettext
from flask_login import current_user, login_required

from portal import htmx
from portal.accounts.labels import account_status_label
from portal.admin import services
from portal.admin.accounts import AccountFilterForm, StatusForm, list_url
from portal.audit_log import services as audit_services
from portal.errors import Invalid
from portal.extensions import db

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@login_required
def index():
    overview = services.overview(current_user._get_current_object())
    return render_template("admin/index.html", overview=overview)


# ------------------------------------------------------------------ organizations ---
# /admin/accounts: the list (filters and the "Older" link in the URL; with htmx they swap
# #accounts-list), and one POST per move. With htmx a move swaps the organization's row
# (#account-<id>); without JavaScript it redirects back to the list with a flash. A refused
# move (a stale page, a suspension without a reason) answers 422 with the message next to
# the field: the row alone for htmx, else a page with that organization's row.

ACCOUNTS_PAGE = "admin/accounts.html"
ACCOUNTS_LIST = "admin/_accounts_list.html"
ACCOUNT_ROW = "admin/_account_row.html"


def _me():
    return current_user._get_current_object()


def _accounts_page_size() -> int:
    return int(current_app.config.get("ADMIN_ACCOUNTS_PAGE_SIZE", services.ACCOUNTS_PAGE_SIZE))


@bp.get("/accounts")
@login_required
def accounts():
    me = _me()
    audit_services.require_platform_admin(me)
    form = AccountFilterForm(formdata=request.args)
    listing = None
    if form.validate():
        try:
            cursor = form.cursor()
        except Invalid:
            cursor = False  # its message is shown with the filters (422)
        if cursor is not False:
            listing = services.list_accounts(
                me,
                status=form.status.data or None,
                q=form.q.data,
                before=cursor,
                limit=_accounts_page_size(),
            )
    args = form.query_args()
    next_url = None
    if listing is not None and listing.next_cursor is not None:
        next_url = list_url({**args, "before": listing.next_cursor.encode()})
    return htmx.render(
        ACCOUNTS_PAGE,
        ACCOUNTS_LIST,
        status=200 if listing is not None else 422,
        form=form,
        listing=listing,
        next_url=next_url,
        newest_url=list_url(args),
        filtered=bool(args),
        paged=bool(form.before.data),
        back=request.full_path.rstrip("?"),
    )


def _status_message(account) -> str:
    return gettext(
        "%(name)s is now %(status)s.",
        name=account.name,
        status=account_status_label(account.status),
    )


@bp.post("/accounts/<int:account_id>/<any(approve, activate, suspend, reactivate):action>")
@login_required
def account_action(account_id: int, action: str):
    me = _me()
    form = StatusForm()
    back = form.back_url()
    try:
        account = services.change_status(me, account_id, action, form.reason.data)
    except Invalid as exc:
        db.session.rollback()
        row = services.get_account_row(me, account_id)
        context = {
            "a": row,
            "back": back,
            "row_error": exc.message,
            "error_field": exc.field,
            "reason_value": form.reason.data or "",
        }
        if htmx.is_partial():
            return render_template(ACCOUNT_ROW, **context), 422
        return render_template("admin/accounts_action.html", **context), 422
    db.session.commit()
    message = _status_message(account)
    if htmx.is_partial():
        row = services.get_account_row(me, account_id)
        return render_template(ACCOUNT_ROW, a=row, back=back, row_message=message)
    flash(message, "success")
    return redirect(back)
