"""Form field types every domain's forms share (the shape of the input only; services hold
the rules)."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.validators import ValidationError

EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)


class ChoiceField(SelectField):
    """A select whose unknown values get a clear, translated message next to it."""

    def pre_validate(self, form):
        if self.data in (None, ""):
            return
        if self.data not in {str(value) for value, _label in self.choices}:
            raise ValidationError(_l("Choose one of the options in the list."))


class OpenChoiceField(SelectField):
    """A select whose value the form's own validator or the service checks (with a message
    of its own, next to the field): WTForms' generic "Not a valid choice" never shows."""

    def pre_validate(self, form):
        return None


class DayField(StringField):
    """A calendar day, YYYY-MM-DD (what <input type="date"> sends)."""

    keeps_raw = True  # ListForm.query_args gives it back as it was typed

    def process_formdata(self, valuelist):
        self.data = None
        raw = (valuelist[0] if valuelist else "").strip()
        self.raw_value = raw
        if not raw:
            return
        try:
            self.data = datetime.strptime(raw, "%Y-%m-%d").date()
        except ValueError as exc:
            self.data = None
            raise ValueError(_l("Enter a date as YYYY-MM-DD.")) from exc
        if not EARLIEST <= self.data <= LATEST:
            self.data = None
            raise ValueError(_l("Choose a date between 2000 and 2100."))

    def _value(self):
        if self.data:
            return self.data.isoformat()
        return getattr(self, "raw_value", "") or ""


class WholeNumberField(StringField):
    """A positive whole number (digits only; what <input type="number"> sends). ``data`` is
    an int, or None when the field was left empty."""

    def process_formdata(self, valuelist):
        self.data = None
        raw = (valuelist[0] if valuelist else "").strip()
        self.raw_value = raw
        if not raw:
            return
        # 18 digits at most: far beyond any quota, and below PostgreSQL's bigint.
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
            raise ValueError(_l("Enter a whole number, digits only."))
        self.data = int(raw)

    def _value(self):
        if self.data is not None:
            return str(self.data)
        return getattr(self, "raw_value", "") or ""
