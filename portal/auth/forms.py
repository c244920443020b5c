"""Account-access forms: the shape of the input only (the password policy, uniqueness of
the email and the rest of the rules live in the services)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, InputRequired, Length

EMAIL_REQUIRED = _l("Enter your email address.")
EMAIL_INVALID = _l("Enter a valid email address.")
PASSWORD_REQUIRED = _l("Enter your password.")


def _email_field():
    return EmailField(
        _l("Email"),
        validators=[
            DataRequired(message=EMAIL_REQUIRED),
            Length(max=254, message=EMAIL_INVALID),
            Email(message=EMAIL_INVALID, check_deliverability=False),
        ],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
    )


class SignupForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(message=_l("Enter your name.")),
            Length(max=120, message=_l("Enter your name (at most 120 characters).")),
        ],
    )
    email = _email_field()
    password = PasswordField(
        _l("Password"), validators=[InputRequired(message=_l("Choose a password."))]
    )
    next = HiddenField()


class LoginForm(FlaskForm):
    email = _email_field()
    password = PasswordField(_l("Password"), validators=[InputRequired(message=PASSWORD_REQUIRED)])
    remember = BooleanField(_l("Keep me logged in on this device"))
    next = HiddenField()


class ForgotPasswordForm(FlaskForm):
    email = _email_field()


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"), validators=[InputRequired(message=_l("Choose a new password."))]
    )
