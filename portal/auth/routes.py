"""Account access: /signup, /login, /logout, /password/forgot, /password/reset/<token>.

Routes parse the form, call the service, commit, then redirect or re-render the form with
the error next to its field (422). Login and the forgot-password form are rate-limited;
over the limit the same page answers 429 with a message next to the form."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale, gettext
from flask_login import current_user, login_user, logout_user

from portal import web
from portal.auth import services
from portal.auth.forms import ForgotPasswordForm, LoginForm, ResetPasswordForm, SignupForm
from portal.errors import Invalid
from portal.extensions import db, limiter
from portal.main.routes import safe_next
from portal.permissions import is_platform_admin
from portal.sessions import services as sessions

bp = Blueprint("auth", __name__)

INVITATION_EMAIL_KEY = "invitation_email"
# What a visitor's session may carry into the logged-in one; everything else (the CSRF
# token first of all) starts afresh, so nothing planted before login survives it.
KEPT_ON_LOGIN = ("locale", "invitation_token", INVITATION_EMAIL_KEY)


# ------------------------------------------------------------------- rate limiting ---
def _posted_email() -> str:
    # Never empty: Flask-Limiter skips (and logs an error for) a limit with an empty key.
    return (request.form.get("email") or "").strip().lower() or "<no email>"


def _failed(response) -> bool:
    """Only attempts that did not log anyone in count against the login and sign-up limits,
    so people (and a browser test suite) succeeding from one address are not locked out."""
    return response.status_code != 302


def _signup_limit_per_ip() -> str:
    """Sign-up must say that an address already has an account; limiting failed sign-ups
    keeps it from being used to test addresses by the thousand."""
    return current_app.config.get("SIGNUP_LIMIT_PER_IP", "20 per 15 minutes")


def _login_limit_per_ip() -> str:
    return current_app.config["LOGIN_LIMIT_PER_IP"]


def _login_limit_per_email() -> str:
    return current_app.config["LOGIN_LIMIT_PER_EMAIL"]


def _forgot_limit_per_ip() -> str:
    return current_app.config.get("PASSWORD_FORGOT_LIMIT_PER_IP", "10 per 15 minutes")


def _forgot_limit_per_email() -> str:
    """Nobody's inbox is flooded with reset emails (the answer is the same for unknown
    addresses, so the limit reveals nothing)."""
    return current_app.config.get("PASSWORD_FORGOT_LIMIT_PER_EMAIL", "5 per hour")


@bp.errorhandler(429)
def too_many_attempts(_exc):
    """Over a limit: the same page again, with the message next to the form (not an error
    page), so the person knows what happened and what to do."""
    if request.endpoint == "auth.login":
        form = LoginForm()
        form.form_errors.append(
            gettext("Too many login attempts. Wait a few minutes and try again.")
        )
        return render_template("auth/login.html", form=form, next_url=_next_url(form)), 429
    message = gettext("Too many requests. Wait a few minutes and try again.")
    if request.endpoint == "auth.signup":
        form = SignupForm()
        form.form_errors.append(message)
        invitation_email = session.get(INVITATION_EMAIL_KEY)
        if invitation_email:
            form.email.data = invitation_email
        return _signup_page(form, invitation_email, 429)
    form = ForgotPasswordForm()
    form.form_errors.append(message)
    return render_template("auth/forgot.html", form=form), 429


# --------------------------------------------------------------------------- helpers ---
def _next_url(form=None) -> str:
    """Where to go after the form: the posted hidden ``next`` or ``?next=``, same-site only."""
    posted = form.next.data if form is not None else None
    target = posted or request.args.get("next")
    return safe_next(target, "")


def _log_in(user, remember: bool = False) -> None:
    """Log ``user`` in on a new session (no session fixation): a new server-side session
    (portal.sessions) and a cookie session that keeps nothing but KEPT_ON_LOGIN."""
    kept = {key: session[key] for key in KEPT_ON_LOGIN if key in session}
    session.clear()
    session.update(kept)
    sessions.start(
        user, remember=remember, ip=web.client_ip(), user_agent=request.user_agent.string
    )
    db.session.commit()
    login_user(user, remember=remember)


def _home(user) -> str:
    """Where a login without ``next`` leads: staff to /admin/, customers to their
    organization (``/`` decides which)."""
    if is_platform_admin(user):
        return url_for("admin.index")
    return url_for("main.index")


# ---------------------------------------------------------------------------- signup ---
@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(_signup_limit_per_ip, methods=["POST"], deduct_when=_failed, scope="signup-ip")
def signup():
    invitation_email = session.get(INVITATION_EMAIL_KEY)
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next"), url_for("main.index")))
    form = SignupForm()
    if invitation_email:
        # The invited address wins over whatever was posted (the field is read-only).
        form.email.data = invitation_email
    if request.method == "GET":
        form.next.data = _next_url()
    if form.validate_on_submit():
        try:
            user = services.signup(
                form.email.data,
                form.name.data,
                form.password.data,
                locale=str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"]),
                invitation_email=invitation_email,
                ip=web.client_ip(),
            )
        except Invalid as exc:
            db.session.rollback()
            web.form_error(form, exc)
        else:
            db.session.commit()
            _log_in(user)
            flash(gettext("Welcome to PrimeCloud, %(name)s!", name=user.name), "success")
            return redirect(safe_next(form.next.data, url_for("main.index")))
    return _signup_page(form, invitation_email, 422 if form.errors or form.form_errors else 200)


def _signup_page(form, invitation_email: str | None, status: int):
    return render_template(
        "auth/signup.html",
        form=form,
        invitation_email=invitation_email,
        next_url=form.next.data or "",
    ), status


# ----------------------------------------------------------------------------- login ---
@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit_per_ip, methods=["POST"], deduct_when=_failed)
@limiter.limit(
    _login_limit_per_email,
    key_func=_posted_email,
    methods=["POST"],
    deduct_when=_failed,
    scope="login-email",
)
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(request.args.get("next"), url_for("main.index")))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = _next_url()
        if session.get(INVITATION_EMAIL_KEY) and not form.email.data:
            form.email.data = session[INVITATION_EMAIL_KEY]
    if form.validate_on_submit():
        user = services.login(form.email.data, form.password.data, ip=web.client_ip())
        db.session.commit()  # the audit row of a failure is kept too
        if user is not None:
            _log_in(user, remember=form.remember.data)
            return redirect(safe_next(form.next.data, _home(user)))
        form.form_errors.append(str(services.LOGIN_FAILED))
        form.password.data = ""
    status = 422 if form.errors or form.form_errors else 200
    return render_template("auth/login.html", form=form, next_url=form.next.data or ""), status


# ---------------------------------------------------------------------------- logout ---
@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        sessions.end(web.actor(), ip=web.client_ip())
        db.session.commit()
        logout_user()
    flash(gettext("You have been logged out."), "info")
    # The invitation page's "log out" button comes back to the invitation.
    return redirect(safe_next(request.form.get("next"), url_for("auth.login")))


# -------------------------------------------------------------------- password reset ---
@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_forgot_limit_per_ip, methods=["POST"])
@limiter.limit(
    _forgot_limit_per_email, key_func=_posted_email, methods=["POST"], scope="forgot-email"
)
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        email, ip = form.email.data, web.client_ip()
        # Looking the address up, the token, the audit row and the email all happen after
        # the response is sent: while the person waits, a known and an unknown address
        # cost exactly the same (no query at all), so timing reveals nothing.
        web.after_response(
            lambda: services.request_password_reset(
                email,
                lambda token: url_for("auth.reset_password", token=token, _external=True),
                ip=ip,
            )
        )
        # The same answer whether or not the address has an account.
        flash(
            gettext(
                "If an account exists for that address, we have sent it a link to choose a "
                "new password. The link works for one hour."
            ),
            "info",
        )
        return redirect(url_for("auth.forgot_password"))
    status = 422 if form.errors else 200
    return render_template("auth/forgot.html", form=form), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        services.find_reset(token)
    except services.ResetLinkInvalid:
        return render_template("auth/reset_invalid.html"), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data, ip=web.client_ip())
        except services.ResetLinkInvalid:
            db.session.rollback()
            return render_template("auth/reset_invalid.html"), 400
        except Invalid as exc:
            db.session.rollback()
            web.form_error(form, exc)
        else:
            db.session.commit()
            if current_user.is_authenticated:
                logout_user()  # this browser's session belongs to the old password too
            flash(gettext("Your password has been changed. Log in with the new one."), "success")
            return redirect(url_for("auth.login"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("auth/reset.html", form=form, token=token), status
