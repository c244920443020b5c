"""Forms of the buckets pages: the shape of the input only (the services check the rules:
S3 naming, quotas, versioning moves, lifecycle rules)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError

from portal.buckets import endpoints
from portal.buckets.services import ORDER, search_problem
from portal.pagination import ListForm


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class BucketFilterForm(ListForm):
    """The list's search (a name prefix), kept in the URL."""

    keyset = ORDER
    q = StringField(
        _l("Name starts with"),
        filters=[lambda v: v.strip().lower() if isinstance(v, str) else v],
        validators=[Optional()],
    )

    def validate_q(self, field) -> None:
        problem = search_problem(field.data)
        if problem:
            raise ValidationError(problem)


class CreateBucketForm(FlaskForm):
    name = StringField(_l("Bucket name"), filters=[_strip])
    region = SelectField(_l("Region"), validate_choice=False)
    versioning = RadioField(
        _l("Versioning"),
        choices=[
            SelectChoice("unversioned", _l("Off: one version of each object")),
            SelectChoice("enabled", _l("On: keep every version of each object")),
        ],
        default="unversioned",
        validate_choice=False,
    )
    abort_uploads = BooleanField(
        _l("Abort incomplete multipart uploads after 7 days"), default=True
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.region.choices = [
            SelectChoice(code, f"{label} ({code})") for code, label in endpoints.regions()
        ]
        if not self.region.data:
            self.region.data = self.region.choices[0].value


class NameCheckForm(FlaskForm):
    """The name alone, for the live check while the person types."""

    name = StringField(_l("Bucket name"))


class VersioningForm(FlaskForm):
    action = HiddenField()


class DeleteBucketForm(FlaskForm):
    confirm_name = StringField(_l("Type the bucket's name to confirm"), filters=[_strip])


class RuleForm(FlaskForm):
    """One lifecycle rule (add, or edit in place). Days are text here: the service turns
    them into numbers and answers anything else with the validator's message."""

    rule_id = StringField(_l("Rule ID"), filters=[_strip])
    enabled = BooleanField(_l("Enabled"), default=True)
    prefix = StringField(_l("Prefix"))
    expiration_days = StringField(_l("Delete current objects after (days)"))
    noncurrent_days = StringField(_l("Delete noncurrent versions after (days)"))
    abort_days = StringField(_l("Abort incomplete multipart uploads after (days)"))
    acknowledge = BooleanField(
        _l("I understand that a rule with an empty prefix deletes every object it expires.")
    )


class RuleIdForm(FlaskForm):
    """Enable, disable or delete: which rule (its current id)."""

    rule = HiddenField()
    status = HiddenField()


class ImportForm(FlaskForm):
    document = TextAreaField(_l("Paste the JSON"))
    file = FileField(_l("Or choose a JSON file"))
    acknowledge = BooleanField(
        _l("I understand that rules with an empty prefix delete every object they expire.")
    )
