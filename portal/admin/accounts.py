"""Forms of the organizations page (/admin/accounts): the shape of the input only; the
rules (which move is allowed, the required suspension reason) live in the services."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from portal import web
from portal.accounts.labels import STATUS_LABELS
from portal.admin.services import ORDER, STATUSES
from portal.fields import OpenChoiceField
from portal.pagination import ListForm


class AccountFilterForm(ListForm):
    """The list's filters, kept in the URL."""

    keyset = ORDER
    status = OpenChoiceField(_l("Status"), validators=[Optional()])
    q = StringField(_l("Name or CNPJ"), validators=[Optional(), Length(max=120)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = [("", _l("All statuses"))] + [(s, STATUS_LABELS[s]) for s in STATUSES]

    def validate_status(self, field) -> None:
        if field.data and field.data not in STATUSES:
            raise ValidationError(_l("Choose one of the statuses in the list."))


class StatusForm(FlaskForm):
    """Approve, activate, suspend (with its reason) or reactivate one organization."""

    reason = TextAreaField(_l("Reason for the suspension"))
    # The list's URL with its filters, to return to without JavaScript.
    back = HiddenField()

    def back_url(self) -> str:
        """``back`` when it is the list page itself (never another site), else the list."""
        return web.back_to(self.back.data, url_for("admin.accounts"))
