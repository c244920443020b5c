"""Forms of the keys page: the shape of the input only (the services check the rules:
name, permission, scope, expiry, ceiling, states)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from portal.fields import ChoiceField, DayField
from portal.keys.services import ORDER
from portal.pagination import ListForm


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class KeyFilterForm(ListForm):
    """The list's status filter, kept in the URL."""

    keyset = ORDER
    status = ChoiceField(_l("Status"), validators=[Optional()], default="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = [
            ("", _l("Active and inactive")),
            ("active", lazy_pgettext("access key", "Active")),
            ("inactive", lazy_pgettext("access key", "Inactive")),
            ("expired", lazy_pgettext("access key", "Expired")),
            ("revoked", lazy_pgettext("access key", "Revoked")),
        ]


class _ScopeFields:
    """Name and scope, shared by the create and edit forms."""

    name = StringField(_l("Name"), filters=[_strip])
    scope = RadioField(
        _l("Buckets it reaches"),
        choices=[
            SelectChoice("all", _l("All buckets of the organization, present and future")),
            SelectChoice("buckets", _l("Only the buckets chosen below")),
        ],
        default="all",
        validate_choice=False,
    )
    buckets = SelectMultipleField(_l("Buckets"), coerce=str, validate_choice=False)
    # An organization with many buckets types their names (portal.keys.services.typed_scope).
    bucket_names = TextAreaField(_l("Bucket names"), filters=[_strip])


class CreateKeyForm(_ScopeFields, FlaskForm):
    permission = RadioField(
        _l("Permission"),
        choices=[
            SelectChoice("read-only", _l("Read-only: list and download objects")),
            SelectChoice("read-write", _l("Read and write: also upload and delete objects")),
        ],
        default="read-write",
        validate_choice=False,
    )
    expires_on = DayField(_l("Expires (optional)"))


class EditKeyForm(_ScopeFields, FlaskForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Element ids of their own: the form can sit in a row of the page that holds the
        # create form (the field names stay "name", "scope", "buckets").
        for f in (self.name, self.scope, self.buckets, self.bucket_names):
            f.id = f"edit-{f.id}"
            f.label.field_id = f.id
