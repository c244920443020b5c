"""Invitations: the organization's list (invite, resend, revoke; htmx swaps the piece that
changed) and the page an invitation email's link opens (/invitations/<token>).

The landing page never changes anything on GET. A visitor who is not logged in is offered
"Sign up" and "Log in", both with ``?next=/invitations/<token>``; the token and the invited
address are kept in the session (``invitation_token``, ``invitation_email``) so the sign-up
page can pre-fill the address and the person comes back here without the email. Joining is
one explicit POST ("Join"), so nobody becomes a member of something by following a link.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from portal import htmx
from portal.accounts.labels import role_label
from portal.accounts.routes import form_error
from portal.errors import Invalid
from portal.extensions import db
from portal.invitations import services
from portal.invitations.forms import ConfirmForm, InviteForm
from portal.models import Role
from portal.permissions import can_manage_role

bp = Blueprint("invitations", __name__)


def _actor():
    return current_user._get_current_object()


def _grantable(membership) -> list[str]:
    return [r.value for r in Role if can_manage_role(membership.role, r)]


def _context(page: services.InvitationsPage, form: InviteForm | None = None, **extra) -> dict:
    grantable = _grantable(page.membership)
    return {
        "listing": page,
        "account": page.account,
        "membership": page.membership,
        "grantable": grantable,
        "form": form or InviteForm(formdata=None, grantable=grantable),
        **extra,
    }


def _index_url(account_id: int) -> str:
    return url_for("invitations.index", account_id=account_id)


@bp.get("/accounts/<int:account_id>/invitations")
@login_required
def index(account_id: int):
    page = services.list_invitations(_actor(), account_id)
    return htmx.render("invitations/index.html", "invitations/_invitations.html", **_context(page))


@bp.post("/accounts/<int:account_id>/invitations")
@login_required
def create(account_id: int):
    # The permission first: a role that may not invite gets 403 whatever it sent.
    page = services.list_invitations(_actor(), account_id)
    form = InviteForm(grantable=_grantable(page.membership))
    if form.validate():
        try:
            invitation = services.invite(_actor(), account_id, form.email.data, form.role.data)
        except Invalid as exc:
            db.session.rollback()
            form_error(form, exc)
            page = services.list_invitations(_actor(), account_id)
        else:
            db.session.commit()
            message = gettext(
                "Invitation sent to %(email)s as %(role)s.",
                email=invitation.email,
                role=role_label(invitation.role),
            )
            if htmx.is_partial():
                page = services.list_invitations(_actor(), account_id)
                return render_template(
                    "invitations/_invitations.html", **_context(page, message=message)
                )
            flash(message, "success")
            return redirect(_index_url(account_id))
    return htmx.render(
        "invitations/index.html",
        "invitations/_invitations.html",
        422,
        **_context(page, form=form),
    )


def _row_response(account_id: int, invitation, status: int = 200, **extra):
    page = services.list_invitations(_actor(), account_id)
    return render_template(
        "invitations/_invitation_row.html", inv=invitation, **_context(page), **extra
    ), status


def _row_action(account_id: int, invitation_id: int, action, success_message):
    ConfirmForm()
    try:
        invitation = action(_actor(), account_id, invitation_id)
    except Invalid as exc:
        db.session.rollback()
        if htmx.is_partial():
            page = services.list_invitations(_actor(), account_id)
            current = next((i for i in page.invitations if i.id == invitation_id), None)
            if current is None:  # accepted or revoked meanwhile: the whole list, fresh
                return render_template(
                    "invitations/_invitations.html", **_context(page, error=exc.message)
                ), 422
            return render_template(
                "invitations/_invitation_row.html",
                inv=current,
                row_error=exc.message,
                **_context(page),
            ), 422
        flash(exc.message, "error")
        return redirect(_index_url(account_id))
    db.session.commit()
    message = success_message(invitation)
    if htmx.is_partial():
        return _row_response(account_id, invitation, row_message=message)
    flash(message, "success")
    return redirect(_index_url(account_id))


@bp.post("/accounts/<int:account_id>/invitations/<int:invitation_id>/resend")
@login_required
def resend(account_id: int, invitation_id: int):
    return _row_action(
        account_id,
        invitation_id,
        services.resend,
        lambda inv: gettext("A new invitation was sent to %(email)s.", email=inv.email),
    )


@bp.post("/accounts/<int:account_id>/invitations/<int:invitation_id>/revoke")
@login_required
def revoke(account_id: int, invitation_id: int):
    return _row_action(
        account_id,
        invitation_id,
        services.revoke,
        lambda inv: gettext(
            "The invitation to %(email)s was revoked; its link no longer works.", email=inv.email
        ),
    )


# ------------------------------------------------------------------- the landing ---
def _unavailable(exc: services.InvitationUnavailable):
    return render_template("invitations/unavailable.html", reason=exc.reason), exc.status


def _landing_page(view: services.Landing, token: str, state: str, status: int = 200, **extra):
    return render_template(
        "invitations/landing.html",
        view=view,
        token=token,
        state=state,
        next_url=url_for("invitations.landing", token=token),
        masked_email=services.mask_email(view.invitation.email),
        **extra,
    ), status


@bp.get("/invitations/<token>")
def landing(token: str):
    try:
        view = services.landing(token)
    except services.InvitationUnavailable as exc:
        return _unavailable(exc)
    user = _actor() if current_user.is_authenticated else None
    if user is None or services.normalize_email(user.email) != view.invitation.email:
        # For the sign-up page (pre-filled, read-only address) and the way back here; kept
        # across a logout, so someone logged in as another person can switch.
        session["invitation_token"] = token
        session["invitation_email"] = view.invitation.email
    if user is None:
        return _landing_page(view, token, "anonymous")
    if services.normalize_email(user.email) != view.invitation.email:
        return _landing_page(view, token, "wrong_user", 403)
    if services.is_member(user, view.account.id):
        return _landing_page(view, token, "member")
    return _landing_page(view, token, "join")


@bp.post("/invitations/<token>")
@login_required
def accept(token: str):
    ConfirmForm()
    try:
        joined = services.accept(_actor(), token)
    except services.InvitationUnavailable as exc:
        db.session.rollback()
        return _unavailable(exc)
    except services.WrongUser:
        db.session.rollback()
        return _landing_page(services.landing(token), token, "wrong_user", 403)
    except services.AlreadyMember:
        db.session.rollback()
        return _landing_page(services.landing(token), token, "member", 409)
    db.session.commit()
    session.pop("invitation_token", None)
    session.pop("invitation_email", None)
    flash(
        gettext(
            "Welcome! You joined %(name)s as %(role)s.",
            name=joined.account.name,
            role=role_label(joined.membership.role),
        ),
        "success",
    )
    return redirect(url_for("accounts.dashboard", account_id=joined.account.id))
