"""Audit log pages: an organization's (owners and admins) and the platform's (/admin/audit),
each with a streamed CSV export of the filtered view.

Filters live in the query string (bookmarkable). With htmx, the filter form and the
"Older entries" link swap #audit-log in place (and push the URL); without JavaScript they
are plain GET requests. Reading writes nothing, not even an audit row.
"""

from __future__ import annotations

import re

from flask import (
    Blueprint,
    Response,
    make_response,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext
from flask_login import login_required

from portal import clock, htmx, web
from portal.audit_log import export, services
from portal.audit_log.forms import WHO_MAX, AccountAuditFilterForm, AdminAuditFilterForm
from portal.audit_log.services import SYSTEM
from portal.errors import Invalid
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
_EMAIL_IN_BRACKETS = re.compile(r"<([^<>\s]+@[^<>\s]+)>\s*$")


def person_label(person) -> str:
    """How the person filter shows (and the suggestions offer) a member."""
    return f"{person.name} <{person.email}>"


def _typed_email(text: str) -> str | None:
    """The email in what was typed: "Name <email>" (a suggestion) or the email alone."""
    found = _EMAIL_IN_BRACKETS.search(text)
    if found:
        return found.group(1)
    return text if "@" in text and " " not in text else None


def _resolve_actor(form: AccountAuditFilterForm, log: services.AccountLog) -> bool:
    """Turn the person filter into ``form.actor`` (an id, "system" or nothing) and
    ``form.chosen``. ``actor`` comes from the URL; ``who``, when the form was sent, is what
    the field holds: unchanged, it keeps the actor; empty, everyone; "System"; or a
    member's email (typed in full, or a suggestion "Name <email>"). False, with the
    message next to the field, when nobody matches."""
    value = (form.actor.data or "").strip()
    chosen, known = None, value in ("", SYSTEM)
    if not known and value.isascii() and value.isdigit():
        chosen = services.member_by_id(log, int(value))
        known = chosen is not None
    system = gettext("System")
    shown = person_label(chosen) if chosen else (system if value == SYSTEM else "")
    typed = request.args.get("who")
    if typed is not None and (not typed.strip() or typed.strip() != shown):
        text = typed.strip()
        if not text:
            value, chosen = "", None
        elif text.casefold() in (system.casefold(), SYSTEM):
            value, chosen = SYSTEM, None
        else:
            email = _typed_email(text)
            chosen = services.member_by_email(log, email) if email else None
            if chosen is None:
                form.who.errors = [
                    gettext(
                        "Type the full email address of a member, or choose one of the suggestions."
                    )
                ]
                return False
            value = str(chosen.id)
    elif not known:
        form.who.errors = [gettext("Choose a member of this organization.")]
        return False
    form.actor.data = value
    form.chosen = chosen
    form.who.data = person_label(chosen) if chosen else (system if value == SYSTEM else "")
    return True


def _account_form(log: services.AccountLog) -> tuple[AccountAuditFilterForm, bool]:
    """The filters of the query string, validated and resolved: (form, ok)."""
    form = AccountAuditFilterForm(formdata=request.args)
    ok = form.validate()
    return form, _resolve_actor(form, log) and ok


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
        people_url=url_for("audit_log.account_people", account_id=account_id),
    )


@bp.get("/accounts/<int:account_id>/audit")
@login_required
def account_log(account_id: int):
    log = services.open_account_log(web.actor(), account_id)
    form, ok = _account_form(log)
    try:
        cursor = form.cursor()
    except Invalid:
        ok = False
    page = None
    if ok:
        page = services.account_page(log, form.filters(_tz_name()), cursor, _page_size())
    response = make_response(_render_account(log, form, page))
    if ok and htmx.is_htmx() and "who" in request.args:
        # The filter form was sent: the address bar keeps the person's id, not the text.
        response.headers["HX-Push-Url"] = form.links(request.path, page).newest_url
    return response


@bp.get("/accounts/<int:account_id>/audit/people")
@login_required
def account_people(account_id: int):
    """The person filter's suggestions: up to 10 members whose name or email contains what
    was typed (``who``), as the <option>s of its <datalist>."""
    log = services.open_account_log(web.actor(), account_id)
    typed = (request.args.get("who") or "")[:WHO_MAX]
    system = gettext("System")
    return render_template(
        "audit/_people.html",
        people=[person_label(p) for p in services.people(log, typed)],
        system=system
        if typed.strip() and system.casefold().startswith(typed.strip().casefold())
        else None,
    )


@bp.get("/accounts/<int:account_id>/audit.csv")
@login_required
def account_csv(account_id: int):
    log = services.open_account_log(web.actor(), account_id)
    form, ok = _account_form(log)
    if not ok:
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
