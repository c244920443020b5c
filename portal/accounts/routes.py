"""Organizations: create one (with the CNPJ checked as it is typed), open its dashboard."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask_babel import format_decimal, gettext
from flask_login import login_required

from portal import web
from portal.accounts import labels, services
from portal.accounts.forms import AccountForm, CNPJForm
from portal.errors import Invalid
from portal.extensions import db
from portal.quotas import labels as quota_labels

bp = Blueprint("accounts", __name__, url_prefix="/accounts")


@bp.app_context_processor
def label_helpers():
    """Translated role and status names, for every page that shows them."""
    return {
        "role_label": labels.role_label,
        "role_description": labels.role_description,
        "account_status_label": labels.account_status_label,
        "account_status_explanation": labels.account_status_explanation,
        "resource_label": quota_labels.resource_label,
        "format_decimal": format_decimal,
        "read_only_reason": services.read_only_reason,
    }


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    form = AccountForm()
    if form.validate_on_submit():
        try:
            account = services.create_account(
                web.actor(), form.name.data, form.cnpj.data, ip=web.client_ip()
            )
        except Invalid as exc:
            db.session.rollback()
            web.form_error(form, exc)
        else:
            db.session.commit()
            flash(
                gettext("%(name)s was created and is waiting for our review.", name=account.name),
                "success",
            )
            return redirect(url_for(".dashboard", account_id=account.id))
    status = 422 if form.errors else 200
    # Someone who signed up from an invitation link without coming back to it: show the way.
    pending_invitation = session.get("invitation_token")
    return render_template(
        "accounts/new.html", form=form, pending_invitation=pending_invitation
    ), status


@bp.post("/new/cnpj")
@login_required
def check_cnpj():
    """The inline check (htmx, as the person types or leaves the field): the message that
    goes next to the CNPJ field. Reads only."""
    form = CNPJForm()
    valid = None
    error = None
    if (form.cnpj.data or "").strip():
        try:
            valid = services.check_cnpj(form.cnpj.data)
        except Invalid as exc:
            error = exc.message
    return render_template("accounts/_cnpj_feedback.html", error=error, valid=valid)


@bp.get("/<int:account_id>/")
@login_required
def dashboard(account_id: int):
    data = services.dashboard(web.actor(), account_id)
    response = web.account_page("accounts/dashboard.html", "accounts/_dashboard.html", data, d=data)
    # Stores the last organization opened (for "/"); after rendering, so the page does not
    # reload what the commit expires.
    db.session.commit()
    return response
