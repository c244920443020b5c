"""/profile: the signed-in person's name, language and time zone (dates and times on every
page are shown in it), with a link to their sessions."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, session, url_for
from flask_babel import gettext
from flask_login import login_required

from portal import web
from portal.errors import Invalid
from portal.extensions import db
from portal.users import services
from portal.users.forms import ProfileForm

bp = Blueprint("profile", __name__)


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def index():
    user = web.actor()
    form = ProfileForm(
        data={
            "name": user.name,
            "locale": user.locale or current_app.config["BABEL_DEFAULT_LOCALE"],
            "timezone": user.timezone,
        }
    )
    if form.validate_on_submit():
        try:
            services.update_profile(
                user,
                name=form.name.data,
                locale=form.locale.data,
                timezone=form.timezone.data,
                languages=current_app.config["LANGUAGES"],
                ip=web.client_ip(),
            )
        except Invalid as exc:
            db.session.rollback()
            web.form_error(form, exc)
        else:
            db.session.commit()
            session["locale"] = user.locale
            web.flash_success(gettext("Your profile was saved."))
            return web.hx_redirect(url_for("profile.index"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("profile/index.html", form=form), status
