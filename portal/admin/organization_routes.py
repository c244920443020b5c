"""/admin/accounts/<id>: one organization as staff see it, and its status moves from there.

The page is the list of sections of ``portal.admin.sections`` (one partial each). A move
posts to /admin/accounts/<id>/status/<action>: with htmx it swaps the status section
(#organization-status; 422 with the message next to the field when refused); without
JavaScript it redirects back to the page with a flash, or answers the page with the message
(422). The organizations list keeps its own row actions (portal.admin.routes)."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext
from flask_login import login_required

from portal import web
from portal.accounts.labels import account_status_label
from portal.admin import organization, services
from portal.admin.accounts import StatusForm
from portal.admin.routes import bp

PAGE = "admin/organization.html"


def _page(status: int = 200, **extra):
    def render(account_id: int):
        page = organization.organization_page(web.actor(), account_id)
        return web.render(
            PAGE,
            PAGE,
            status,
            page=page,
            account=page.account,
            back=url_for("admin.organization", account_id=account_id),
            **extra,
        )

    return render


@bp.get("/accounts/<int:account_id>", endpoint="organization")
@login_required
def organization_view(account_id: int):
    return _page()(account_id)


def _refused_page(errors: dict, *, account_id: int, error_field=None, extra=None):
    row = services.get_account_row(web.actor(), account_id)
    return _page(422, row_error=errors.get(row.dom_id), error_field=error_field, **(extra or {}))(
        account_id
    )


STATUS = web.Rows(
    template="admin/organization/_status.html",
    name="data",
    reload=lambda account_id: services.get_account_row(web.actor(), account_id),
    page=_refused_page,
)


@bp.post("/accounts/<int:account_id>/status/<any(approve, activate, suspend, reactivate):action>")
@login_required
def organization_action(account_id: int, action: str):
    form = StatusForm()
    back = url_for("admin.organization", account_id=account_id)
    return STATUS.act(
        lambda: services.change_status(
            web.actor(), account_id, action, form.reason.data, ip=web.client_ip()
        ),
        done=lambda a: gettext(
            "%(name)s is now %(status)s.", name=a.name, status=account_status_label(a.status)
        ),
        back=back,
        ids={"account_id": account_id},
        extra={"reason_value": form.reason.data or ""},
    )
