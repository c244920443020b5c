"""Forms of the quota pages: the shape of the input only. The rules (more than the current
quota, the upper bound, one pending request per resource, the granted value's bounds, a
rejection's note) are the services'; the form checks what can be told without the data
(a whole number, the justification's length) so every field's message shows at once."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.exceptions import HTTPException
from wtforms import HiddenField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from portal.fields import ChoiceField, WholeNumberField
from portal.models import QUOTA_RESOURCES
from portal.pagination import ListForm
from portal.quotas import labels, review
from portal.quotas.services import HISTORY, REASON_MAX, REASON_MIN


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _resource_choices():
    return [(r, labels.RESOURCE_LABELS[r]) for r in QUOTA_RESOURCES]


class RequestForm(FlaskForm):
    """Ask for more of one quota."""

    resource = ChoiceField(_l("Quota"))
    value = WholeNumberField(_l("New limit wanted"))
    reason = TextAreaField(
        _l("Justification"),
        filters=[_strip],
        validators=[
            Length(
                min=REASON_MIN,
                max=REASON_MAX,
                message=_l(
                    "Explain what you need it for in %(min)d to %(max)d characters.",
                    min=REASON_MIN,
                    max=REASON_MAX,
                ),
            )
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.resource.choices = _resource_choices()

    def validate_resource(self, field) -> None:
        if not field.data:
            raise ValidationError(_l("Choose one of the quotas in the list."))

    def offer(self, resources: list[str], usage) -> None:
        """Show only ``resources`` (those without a pending request), each with its limit
        now. Called after validation: a stale page's choice still gets the service's
        message (the pending request, with a link to it)."""
        self.resource.choices = [
            (
                r,
                _l(
                    "%(resource)s (limit now: %(quota)s)",
                    resource=labels.RESOURCE_LABELS[r],
                    quota=labels.amount(r, usage.meter(r).quota),
                ),
            )
            for r in resources
        ]

    def validate_value(self, field) -> None:
        if field.data is None and not field.errors:
            raise ValidationError(_l("Enter the new limit you need."))


class HistoryForm(ListForm):
    """The history's pager (its cursor only)."""

    keyset = HISTORY


# ------------------------------------------------------------------------- staff ---
class ReviewFilterForm(ListForm):
    """The staff queue's filters, kept in the URL."""

    keyset = review.QUEUE
    status = ChoiceField(_l("Status"), validators=[Optional()])
    resource = ChoiceField(_l("Quota"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = [("", _l("Pending first, then decided"))] + [
            (s, labels.REQUEST_STATUS_LABELS[s]) for s in review.STATUSES
        ]
        self.resource.choices = [("", _l("All quotas"))] + _resource_choices()


# Where a decision may send the person back to without JavaScript: the queue (with its
# filters) or the organization's page. Anything else (another site) is replaced by the queue.
BACK_ENDPOINTS = ("quotas.review", "admin.organization")


class _DecisionForm(FlaskForm):
    review_note = TextAreaField(_l("Note to the customer"), filters=[_strip])
    back = HiddenField()

    def back_url(self) -> str:
        default = url_for("quotas.review")
        value = (self.back.data or "").strip()
        parts = urlsplit(value)
        if not value or parts.scheme or parts.netloc or not parts.path.startswith("/"):
            return default
        try:
            endpoint, _args = current_app.url_map.bind("localhost").match(parts.path)
        except HTTPException:
            return default
        if endpoint not in BACK_ENDPOINTS:
            return default
        return f"{parts.path}?{parts.query}" if parts.query else parts.path


class ApproveForm(_DecisionForm):
    granted_value = WholeNumberField(_l("Value granted"))


class RejectForm(_DecisionForm):
    pass
