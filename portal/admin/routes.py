"""Platform admin pages (platform admins only: others get 403, visitors the login page).

The admin home and the organizations page (/admin/accounts) live here; the platform's audit
log is /admin/audit (portal.audit_log)."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext
from flask_login import login_required

from portal import web
from portal.accounts.labels import account_status_label
from portal.admin import services
from portal.admin.accounts import AccountFilterForm, StatusForm
from portal.permissions import require_platform_admin

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def staff_only():
    """Every /admin page is for platform admins: visitors log in, customers get a 403."""
    from flask_login import current_user

    if current_user.is_authenticated:
        require_platform_admin(web.actor())


@bp.get("/")
@login_required
def index():
    overview = services.overview(web.actor())
    return render_template("admin/index.html", overview=overview)


# ------------------------------------------------------------------ organizations ---
# /admin/accounts: the list (filters and the "Older" link in the URL; with htmx they swap
# #accounts-list), and one POST per move. With htmx a move swaps the organization's row
# (#account-<id>); without JavaScript it redirects back to the list with a flash. A refused
# move (a stale page, a suspension without a reason) answers 422 with the message next to
# the field: the row alone for htmx, else a page with that organization's row.

ACCOUNTS_PAGE = "admin/accounts.html"
ACCOUNTS_LIST = "admin/_accounts_list.html"


@bp.get("/accounts")
@login_required
def accounts():
    form = AccountFilterForm(formdata=request.args)
    return web.list_view(
        ACCOUNTS_PAGE,
        ACCOUNTS_LIST,
        form,
        lambda cursor: services.list_accounts(
            web.actor(),
            status=form.status.data or None,
            q=form.q.data,
            before=cursor,
            limit=web.page_size("ADMIN_ACCOUNTS_PAGE_SIZE", services.ACCOUNTS_PAGE_SIZE),
        ),
        url_for("admin.accounts"),
    )


ACCOUNT = web.Rows(
    template="admin/_account_row.html",
    name="a",
    reload=lambda account_id: services.get_account_row(web.actor(), account_id),
    page=web.row_page(
        "admin/accounts_action.html",
        "a",
        lambda account_id: services.get_account_row(web.actor(), account_id),
    ),
)


@bp.post("/accounts/<int:account_id>/<any(approve, activate, suspend, reactivate):action>")
@login_required
def account_action(account_id: int, action: str):
    form = StatusForm()
    back = form.back_url()
    return ACCOUNT.act(
        lambda: services.change_status(
            web.actor(), account_id, action, form.reason.data, ip=web.client_ip()
        ),
        done=lambda a: gettext(
            "%(name)s is now %(status)s.", name=a.name, status=account_status_label(a.status)
        ),
        back=back,
        ids={"account_id": account_id},
        extra={"back": back, "reason_value": form.reason.data or ""},
    )


# One organization's page (/admin/accounts/<id>) lives in its own module, on this blueprint.
# The catalog and the orders pages live in their own modules; their routes join this
# blueprint (and its staff-only check) when they are imported here.
from portal.admin import (  # noqa: E402,F401
    invoices,
    orders,
    organization_routes,  # noqa: E402,F401
    products,
)
