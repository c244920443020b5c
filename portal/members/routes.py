"""The members page: who is in the organization, with which role; change a role (htmx swaps
the row), remove someone, leave. Every form also works without JavaScript
(post, redirect, get)."""

from __future__ import annotations

from flask import Blueprint, request, url_for
from flask_babel import gettext
from flask_login import login_required

from portal import web
from portal.accounts.labels import role_label
from portal.errors import Invalid
from portal.extensions import db
from portal.i18n import translated_once
from portal.members import services
from portal.members.forms import MemberFilterForm, RoleForm

bp = Blueprint("members", __name__)


@bp.app_template_global()
def member_row_texts() -> dict[str, str]:
    """The words every member row repeats, translated once per request (a page draws 50
    rows; ``_()`` in a template costs a lookup each time)."""
    return translated_once(
        "member_row",
        lambda: {
            "name": gettext("Name"),
            "email": gettext("Email"),
            "role": gettext("Role"),
            "joined": gettext("Joined"),
            "change_role": gettext("Change role"),
            "remove": gettext("Remove"),
            # Filled in per row with Jinja's |format (no variables here: kept as written).
            "role_of": gettext("Role of %(name)s"),
            "remove_from": gettext("Remove %(name)s from %(account)s?"),
        },
    )


PAGE = "members/index.html"
TABLE = "members/_members_table.html"


def _page(
    account_id: int,
    status: int = 200,
    partial: str = TABLE,
    row_errors=None,
    only: int | None = None,
    **extra,
):
    """The page (or ``partial``) with one page of members: the search and the cursor come
    from the query string on a GET; ``only``: that member alone (a refused change without
    JavaScript shows the message next to its row, wherever it was in the list)."""
    form = MemberFilterForm(formdata=request.args if request.method == "GET" else None)
    ok, cursor = form.parse() if request.method == "GET" else (True, None)
    listing = services.list_members(
        web.actor(),
        account_id,
        q=form.q.data if ok else None,
        before=cursor,
        limit=web.page_size("MEMBERS_PAGE_SIZE", services.PAGE_SIZE),
        rows=ok,
        only=only,
    )
    return web.account_page(
        PAGE,
        partial,
        listing,
        status if ok else 422,
        listing=listing,
        form=form,
        links=form.links(_members_url(account_id), listing.page),
        only=only,
        row_errors=row_errors or {},
        **extra,
    )


def _page_with_errors(errors: dict, *, account_id: int, member_id: int, **_extra):
    return _page(account_id, 422, row_errors=errors, only=member_id)


MEMBER = web.Rows(
    template="members/_member_row.html",
    name="m",
    reload=lambda account_id, member_id: services.member_row(web.actor(), account_id, member_id),
    page=_page_with_errors,
    columns=5,
)


def _members_url(account_id: int) -> str:
    return url_for("members.index", account_id=account_id)


@bp.get("/accounts/<int:account_id>/members")
@login_required
def index(account_id: int):
    return _page(account_id)


@bp.post("/accounts/<int:account_id>/members/<int:member_id>/role")
@login_required
def change_role(account_id: int, member_id: int):
    form = RoleForm()
    return MEMBER.act(
        lambda: services.change_role(
            web.actor(), account_id, member_id, form.role.data or "", ip=web.client_ip()
        ),
        done=lambda m: gettext(
            "%(name)s is now %(role)s.", name=m.user.name, role=role_label(m.membership.role)
        ),
        back=_members_url(account_id),
        ids={"account_id": account_id, "member_id": member_id},
    )


@bp.post("/accounts/<int:account_id>/members/<int:member_id>/remove")
@login_required
def remove(account_id: int, member_id: int):
    return MEMBER.act(
        lambda: services.remove_member(web.actor(), account_id, member_id, ip=web.client_ip()),
        done=lambda m: gettext("%(name)s was removed from the organization.", name=m.user.name),
        back=_members_url(account_id),
        ids={"account_id": account_id, "member_id": member_id},
        confirm=lambda m: gettext(
            "Remove %(name)s from %(account)s?", name=m.user.name, account=m.account.name
        ),
        may=lambda m: m.may_manage,
        removes=True,
    )


@bp.post("/accounts/<int:account_id>/members/leave")
@login_required
def leave(account_id: int):
    if not web.confirmed():
        listing = services.list_members(web.actor(), account_id)
        if listing.may_leave:
            return web.ask(
                gettext("Leave %(name)s?", name=listing.account.name),
                back=_members_url(account_id),
            )
    try:
        account = services.leave(web.actor(), account_id, ip=web.client_ip())
    except Invalid as exc:
        db.session.rollback()
        return _page(account_id, 422, partial="members/_leave.html", leave_error=exc.message)
    db.session.commit()
    web.flash_success(gettext("You left %(name)s.", name=account.name))
    return web.hx_redirect(url_for("main.index"))
