"""Audit log pages: an organization's (owners and admins) and the platform's (/admin/audit),
each with a streamed CSV export of the filtered view.

Filters live in the query string (bookmarkable). With htmx, the filter form and the
"Older entries" link swap #audit-log in place (and push the URL); without JavaScript they
are plain GET requests. Reading writes nothing, not even an audit row.
"""

from __future__ import annotations

from flask import Blueprint, Response, request, stream_with_context, url_for
from flask_babel import gettext
from flask_login import login_required

from portal import clock, web
from portal.audit_log import export, services
from portal.audit_log.forms import AccountAuditFilterForm, AdminAuditFilterForm
from portal.permissions import require_platform_admin
from portal.templating import timezone_name

bp = Blueprint("audit_log", __name__)

PAGE = {"account": "audit/account.html", "admin": "audit/admin.html"}
PARTIAL = "audit/_log.html"


def _tz_name() -> str:
    return timezone_name()


def _page_size() -> int:
    return web.page_size("AUDIT_PAGE_SIZE", services.PAGE_SIZE)


def _render(kind: str, form, page, list_url: str, csv_url: str, **extra):
    return web.render(
        PAGE[kind],
        PARTIAL,
        200 if page is not None else 422,
        form=form,
        listing=page,
        links=form.links(list_url, page),
        csv_url=csv_url,
        show_account=kind == "admin",
        staff=kind == "admin",
        **extra,
    )


def _csv(entries, filename: str) -> Response:
    response = Response(
        # content_type, not mimetype: werkzeug appends "; charset=utf-8" to a text/*
        # mimetype, which already says it.
        stream_with_context(export.generate(entries)),
        content_type="text/csv; charset=utf-8",
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _stamp() -> str:
    return clock.now().strftime("%Y%m%d-%H%M%S")


# ------------------------------------------------------------------ an organization ---
def _account_form(log: services.AccountLog) -> AccountAuditFilterForm:
    form = AccountAuditFilterForm(formdata=request.args)
    form.set_actors(log.actors)
    return form


def _render_account(log: services.AccountLog, form, page):
    account_id = log.account.id
    return _render(
        "account",
        form,
        page,
        url_for("audit_log.account_log", account_id=account_id),
        url_for("audit_log.account_csv", account_id=account_id),
        account=log.account,
        membership=log.membership,
    )


@bp.get("/accounts/<int:account_id>/audit")
@login_required
def account_log(account_id: int):
    log = services.open_account_log(web.actor(), account_id)
    form = _account_form(log)
    ok, cursor = form.parse()
    page = None
    if ok:
        page = services.account_page(log, form.filters(_tz_name()), cursor, _page_size())
    return _render_account(log, form, page)


@bp.get("/accounts/<int:account_id>/audit.csv")
@login_required
def account_csv(account_id: int):
    log = services.open_account_log(web.actor(), account_id)
    form = _account_form(log)
    if not form.validate():
        return _render_account(log, form, None)
    entries = services.account_entries(log, form.filters(_tz_name()))
    return _csv(entries, f"primecloud-audit-{account_id}-{_stamp()}.csv")


# ---------------------------------------------------------------------- the platform ---
def _admin_filters(form: AdminAuditFilterForm) -> services.Filters | None:
    """The (validated) admin's filters, resolving the actor's email to a person (422 if
    nobody has it)."""
    actor_id = None
    email = (form.actor.data or "").strip()
    if email:
        actor = services.find_actor(email)
        if actor is None:
            form.actor.errors = [gettext("Nobody has this email address.")]
            return None
        actor_id = actor.id
    return form.filters(_tz_name(), actor_id=actor_id)


def _render_admin(form: AdminAuditFilterForm, page):
    return _render(
        "admin", form, page, url_for("audit_log.admin_log"), url_for("audit_log.admin_csv")
    )


@bp.get("/admin/audit")
@login_required
def admin_log():
    require_platform_admin(web.actor())
    form = AdminAuditFilterForm(formdata=request.args)
    ok, cursor = form.parse()
    filters = _admin_filters(form) if ok else None
    page = None
    if filters is not None:
        page = services.admin_page(web.actor(), filters, cursor, _page_size())
    return _render_admin(form, page)


@bp.get("/admin/audit.csv")
@login_required
def admin_csv():
    require_platform_admin(web.actor())
    form = AdminAuditFilterForm(formdata=request.args)
    filters = _admin_filters(form) if form.validate() else None
    if filters is None:
        return _render_admin(form, None)
    return _csv(services.admin_entries(web.actor(), filters), f"primecloud-audit-{_stamp()}.csv")
