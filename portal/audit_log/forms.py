"""The audit log's filters: a GET form (no CSRF: it changes nothing), read from the query
string so a filtered view is a URL that can be bookmarked. Only the shape of the input is
checked here; each bad value gets its message next to its field (422)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import Field, HiddenField, StringField
from wtforms.validators import Email, Length, Optional, ValidationError

from portal.audit import Action
from portal.audit_log import messages
from portal.audit_log.services import ORDER, SYSTEM, Filters, day_bounds
from portal.fields import ChoiceField, DayField
from portal.pagination import ListForm

WHO_MAX = 400  # a name (120) and an email (254), as "Name <email>"


def _action_choices():
    return [("", _l("All actions"))] + [(a.value, messages.label(a.value)) for a in Action]


class _AuditFilterForm(ListForm):
    keyset = ORDER
    action = ChoiceField(_l("Action"), validators=[Optional()])
    date_from = DayField(_l("From"), name="from", validators=[Optional()])
    date_to = DayField(_l("To"), name="to", validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.action.choices = _action_choices()

    def validate_date_to(self, field: Field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date must not be before the start date."))

    def _common(self, tz_name: str) -> dict:
        since, until = day_bounds(self.date_from.data, self.date_to.data, tz_name)
        return {"action": self.action.data or None, "since": since, "until": until}


class AccountAuditFilterForm(_AuditFilterForm):
    """An organization's log: the actor is one of its members, or the system. ``actor``
    (the URL's) holds the chosen person's id or "system"; ``who`` is the search field
    (a name, an email; the routes resolve what was typed into ``actor``)."""

    actor = HiddenField()
    who = StringField(_l("Who"), validators=[Optional(), Length(max=WHO_MAX)])
    chosen = None  # the chosen member (a User), once resolved

    def query_args(self) -> dict:
        """The URL keeps the actor's id, not what was typed to find them."""
        args = super().query_args()
        args.pop("who", None)
        return args

    def filters(self, tz_name: str) -> Filters:
        value = self.actor.data or ""
        return Filters(
            actor_id=int(value) if value.isdigit() else None,
            system_only=value == SYSTEM,
            **self._common(tz_name),
        )


class AdminAuditFilterForm(_AuditFilterForm):
    """The platform's log: any organization (by number), anyone (by email)."""

    account = StringField(_l("Organization number"), validators=[Optional(), Length(max=18)])
    actor = StringField(
        _l("Actor's email"),
        validators=[
            Optional(),
            Length(max=254),
            Email(message=_l("Enter a valid email address."), check_deliverability=False),
        ],
    )

    def validate_account(self, field: Field) -> None:
        value = (field.data or "").strip()
        # isascii(): "²".isdigit() is true, but int("²") raises.
        if value and not (value.isascii() and value.isdigit() and 0 < int(value) < 2**63):
            raise ValidationError(_l("Enter the organization's number (digits only)."))

    def filters(self, tz_name: str, actor_id: int | None = None) -> Filters:
        value = (self.account.data or "").strip()
        return Filters(
            account_id=int(value) if value else None,
            actor_id=actor_id,
            **self._common(tz_name),
        )
