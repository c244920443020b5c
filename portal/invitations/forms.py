"""Forms of the invitations pages: the shape of the input only."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length

from portal.accounts.labels import ROLE_LABELS
from portal.models import Role


class InviteForm(FlaskForm):
    email = EmailField(
        _l("Email address"),
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[
            DataRequired(_l("Enter the email address of the person to invite.")),
            Length(max=254, message=_l("An email address has at most 254 characters.")),
            Email(_l("Enter a valid email address."), check_deliverability=False),
        ],
    )
    role = SelectField(_l("Role"), default=Role.MEMBER.value, validate_choice=False)

    def __init__(self, *args, grantable: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        roles = grantable or [r.value for r in Role]
        self.role.choices = [SelectChoice(r, ROLE_LABELS[Role(r)]) for r in roles]
