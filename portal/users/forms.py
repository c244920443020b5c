"""The profile form: the shape of the input only (the service checks the values)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField

from portal.fields import OpenChoiceField
from portal.i18n import LANGUAGE_NAMES
from portal.users.timezones import BRAZIL, others


class ProfileForm(FlaskForm):
    name = StringField(_l("Name"))
    locale = OpenChoiceField(_l("Language"))
    timezone = OpenChoiceField(
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
