"""Forms of the organizations pages: the shape of the input only (the service checks the
rules, such as a CNPJ already registered)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length, ValidationError

from portal import cnpj


def _valid_cnpj(form, field) -> None:
    try:
        cnpj.validate(field.data)
    except cnpj.InvalidCNPJ as exc:
        raise ValidationError(exc.message) from None


def _strip(value):
    # Only the ends: the service (portal.text.name_like) normalizes the rest, and refuses
    # what must not be in a name (a line separator must not become a space here first).
    return value.strip() if isinstance(value, str) else value


class AccountForm(FlaskForm):
    name = StringField(
        _l("Organization name"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Enter the organization's name.")),
            Length(min=2, max=120, message=_l("The name must have between 2 and 120 characters.")),
        ],
    )
    cnpj = StringField(
        _l("CNPJ"),
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[_valid_cnpj],
    )


class CNPJForm(FlaskForm):
    """The CNPJ field alone, for the inline check while the person types."""

    cnpj = AccountForm.cnpj
