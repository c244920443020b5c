"""The profile form: the shape of the input only (the service checks the values)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField

from portal.i18n import LANGUAGE_NAMES
from portal.users.timezones import BRAZIL, others


class ChoiceField(SelectField):
    """A select whose value the service checks (with its own message, next to the field)."""

    def pre_validate(self, form):
        return None


class ProfileForm(FlaskForm):
    name = StringField(_l("Name"))
    locale = ChoiceField(_l("Language"))
    timezone = ChoiceField(
        _l("Time zone"),
        description=_l("Dates and times on every page are shown in this time zone."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.locale.choices = list(LANGUAGE_NAMES.items())
        self.timezone.choices = {
            str(_l("Brazil")): [(z, z.replace("_", " ")) for z in BRAZIL],
            str(_l("Other time zones")): [(z, z.replace("_", " ")) for z in others()],
        }
