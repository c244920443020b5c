"""Invitations: the organization's list (invite, resend, revoke; htmx swaps the piece that
changed) and the page an invitation email's link opens (/invitations/<token>).

The landing page never changes anything on GET. A visitor who is not logged in is offered
"Sign up" and "Log in", both with ``?next=/invitations/<token>``; the token and the invited
address are kept in the session (``invitation_token``, ``invitation_email``) so the sign-up
page can pre-fill the address and the person comes back here without the email. Joining is
one explicit POST ("Join"), so nobody becomes a member of something by following a link.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, session, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from portal import web
from portal.accounts.labels import role_label
from portal.errors import Invalid
from portal.extensions import db
from portal.invitations import joining, managing
from portal.invitations.forms import InviteForm
from portal.invitations.tokens import mask_email, normalize_email

bp = Blueprint("invitations", __name__)

PAGE = "invitations/index.html"
PIECE = "invitations/_invitations.html"


def _page(
    listing: managing.InvitationsPage,
    form: InviteForm | None = None,
    status=200,
    row_errors=None,
    **extra,
):
    return web.account_page(
        PAGE,
        PIECE,
        listing,
        status,
        listing=listing,
        form=form or InviteForm(formdata=None, grantable=listing.grantable),
        row_errors=row_errors or {},
        **extra,
    )


def _page_with_errors(errors: dict, *, account_id: int, error_field=None, extra=None, **_ids):
    return _page(managing.list_invitations(web.actor(), account_id), status=422, row_errors=errors)


INVITATION = web.Rows(
    template="invitations/_invitation_row.html",
    name="inv",
    reload=lambda account_id, invitation_id: managing.invitation_row(
        web.actor(), account_id, invitation_id
    ),
    page=_page_with_errors,
    columns=5,
)


def _index_url(account_id: int) -> str:
    return url_for("invitations.index", account_id=account_id)


@bp.get("/accounts/<int:account_id>/invitations")
@login_required
def index(account_id: int):
    return _page(managing.list_invitations(web.actor(), account_id))


@bp.post("/accounts/<int:account_id>/invitations")
@login_required
def create(account_id: int):
    # The permission first: a role that may not invite gets 403 whatever it sent.
    listing = managing.list_invitations(web.actor(), account_id)
    form = InviteForm(grantable=listing.grantable)
    if form.validate():
        try:
            invitation = managing.invite(
                web.actor(), account_id, form.email.data, form.role.data, ip=web.client_ip()
            )
        except Invalid as exc:
            db.session.rollback()
            web.form_error(form, exc)
            listing = managing.list_invitations(web.actor(), account_id)
        else:
            db.session.commit()
            message = gettext(
                "Invitation sent to %(email)s as %(role)s.",
                email=invitation.email,
                role=role_label(invitation.role),
            )
            return web.done(
                message,
                _index_url(account_id),
                lambda: _page(managing.list_invitations(web.actor(), account_id), message=message),
            )
    return _page(listing, form=form, status=422)


@bp.post("/accounts/<int:account_id>/invitations/<int:invitation_id>/resend")
@login_required
def resend(account_id: int, invitation_id: int):
    return INVITATION.act(
        lambda: managing.resend(web.actor(), account_id, invitation_id, ip=web.client_ip()),
        done=lambda inv: gettext(
            "A new invitation was sent to %(email)s.", email=inv.invitation.email
        ),
        back=_index_url(account_id),
        ids={"account_id": account_id, "invitation_id": invitation_id},
    )


@bp.post("/accounts/<int:account_id>/invitations/<int:invitation_id>/revoke")
@login_required
def revoke(account_id: int, invitation_id: int):
    return INVITATION.act(
        lambda: managing.revoke(web.actor(), account_id, invitation_id, ip=web.client_ip()),
        done=lambda inv: gettext(
            "The invitation to %(email)s was revoked; its link no longer works.",
            email=inv.invitation.email,
        ),
        back=_index_url(account_id),
        ids={"account_id": account_id, "invitation_id": invitation_id},
        confirm=lambda inv: gettext(
            "Revoke the invitation to %(email)s?", email=inv.invitation.email
        ),
        may=lambda inv: inv.may_act,
    )


# ------------------------------------------------------------------- the landing ---
def _unavailable(exc: joining.InvitationUnavailable):
    return render_template("invitations/unavailable.html", reason=exc.reason), exc.status


def _landing_page(view: joining.Landing, token: str, state: str, status: int = 200, **extra):
    return render_template(
        "invitations/landing.html",
        view=view,
        token=token,
        state=state,
        next_url=url_for("invitations.landing", token=token),
        masked_email=mask_email(view.invitation.email),
        **extra,
    ), status


@bp.get("/invitations/<token>")
def landing(token: str):
    try:
        view = joining.landing(token)
    except joining.InvitationUnavailable as exc:
        return _unavailable(exc)
    user = web.actor() if current_user.is_authenticated else None
    if user is None or normalize_email(user.email) != view.invitation.email:
        # For the sign-up page (pre-filled, read-only address) and the way back here; kept
        # across a logout, so someone logged in as another person can switch.
        session["invitation_token"] = token
        session["invitation_email"] = view.invitation.email
    if user is None:
        return _landing_page(view, token, "anonymous")
    if normalize_email(user.email) != view.invitation.email:
        return _landing_page(view, token, "wrong_user", 403)
    if joining.is_member(user, view.account.id):
        return _landing_page(view, token, "member")
    return _landing_page(view, token, "join")


@bp.post("/invitations/<token>")
@login_required
def accept(token: str):
    try:
        joined = joining.accept(web.actor(), token, ip=web.client_ip())
    except joining.InvitationUnavailable as exc:
        db.session.rollback()
        return _unavailable(exc)
    except joining.WrongUser:
        db.session.rollback()
        return _landing_page(joining.landing(token), token, "wrong_user", 403)
    except joining.AlreadyMember:
        db.session.rollback()
        return _landing_page(joining.landing(token), token, "member", 409)
    db.session.commit()
    session.pop("invitation_token", None)
    session.pop("invitation_email", None)
    web.flash_success(
        gettext(
            "Welcome! You joined %(name)s as %(role)s.",
            name=joined.account.name,
            role=role_label(joined.membership.role),
        )
    )
    return redirect(url_for("accounts.dashboard", account_id=joined.account.id))
