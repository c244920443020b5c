"""The members page: who is in the organization, with which role; change a role (htmx swaps
the row), remove someone, leave. Every form also works without JavaScript
(post, redirect, get)."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from portal import htmx
from portal.accounts.labels import role_label
from portal.errors import Invalid
from portal.extensions import db
from portal.members import services
from portal.members.forms import ConfirmForm, RoleForm
from portal.models import Role
from portal.permissions import can_manage_role

bp = Blueprint("members", __name__)


def _actor():
    return current_user._get_current_object()


def _context(page: services.MembersPage, **extra) -> dict:
    return {
        "listing": page,
        "account": page.account,
        "membership": page.membership,
        "grantable": [r.value for r in Role if can_manage_role(page.membership.role, r)],
        "row_errors": {},
        **extra,
    }


def _members_url(account_id: int) -> str:
    return url_for("members.index", account_id=account_id)


@bp.get("/accounts/<int:account_id>/members")
@login_required
def index(account_id: int):
    page = services.list_members(_actor(), account_id)
    return htmx.render("members/index.html", "members/_members_table.html", **_context(page))


def _row(account_id: int, member_id: int, status: int, **extra):
    """The member's row alone (htmx swaps it in place)."""
    page = services.list_members(_actor(), account_id)
    member = next((m for m in page.members if m.id == member_id), None)
    if member is None:  # removed meanwhile: the whole table, fresh
        return render_template("members/_members_table.html", **_context(page)), status
    return render_template("members/_member_row.html", m=member, **_context(page), **extra), status


@bp.post("/accounts/<int:account_id>/members/<int:member_id>/role")
@login_required
def change_role(account_id: int, member_id: int):
    form = RoleForm()
    try:
        member = services.change_role(_actor(), account_id, member_id, form.role.data or "")
    except Invalid as exc:
        db.session.rollback()
        if htmx.is_partial():
            return _row(account_id, member_id, 422, row_error=exc.message)
        flash(exc.message, "error")
        return redirect(_members_url(account_id))
    db.session.commit()
    message = gettext(
        "%(name)s is now %(role)s.", name=member.user.name, role=role_label(member.membership.role)
    )
    if htmx.is_partial():
        return _row(account_id, member_id, 200, row_message=message)
    flash(message, "success")
    return redirect(_members_url(account_id))


@bp.post("/accounts/<int:account_id>/members/<int:member_id>/remove")
@login_required
def remove(account_id: int, member_id: int):
    ConfirmForm()
    try:
        member = services.remove_member(_actor(), account_id, member_id)
    except Invalid as exc:
        db.session.rollback()
        if htmx.is_partial():
            page = services.list_members(_actor(), account_id)
            return render_template(
                "members/_members_table.html", **_context(page, row_errors={member_id: exc.message})
            ), 422
        flash(exc.message, "error")
        return redirect(_members_url(account_id))
    db.session.commit()
    message = gettext("%(name)s was removed from the organization.", name=member.user.name)
    if htmx.is_partial():
        page = services.list_members(_actor(), account_id)
        return render_template(
            "members/_members_table.html", **_context(page, table_message=message)
        )
    flash(message, "success")
    return redirect(_members_url(account_id))


@bp.post("/accounts/<int:account_id>/members/leave")
@login_required
def leave(account_id: int):
    ConfirmForm()
    try:
        account = services.leave(_actor(), account_id)
    except Invalid as exc:
        db.session.rollback()
        if htmx.is_partial():
            page = services.list_members(_actor(), account_id)
            return render_template(
                "members/_leave.html", **_context(page, leave_error=exc.message)
            ), 422
        flash(exc.message, "error")
        return redirect(_members_url(account_id))
    db.session.commit()
    flash(gettext("You left %(name)s.", name=account.name), "success")
    target = url_for("main.index")
    if htmx.is_htmx():  # htmx follows this header with a full page load
        return make_response("", 204, {"HX-Redirect": target})
    return redirect(target)
