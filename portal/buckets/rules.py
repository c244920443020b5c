"""Lifecycle rules of one bucket: the rows of its table (with their safety flags), add,
edit, enable/disable and delete one rule, and the S3 ``LifecycleConfiguration`` JSON export
and import (all or nothing).

The rules live in ``buckets.lifecycle_rules`` and every list written there passes
``portal.lifecycle.validate_rules`` (the one validator). Each change locks the account and
the bucket rows (``services.lock_bucket``), so two people editing rules at once never lose
each other's change, and writes one ``bucket.lifecycle_changed`` audit row.

Safety flags, computed here for the table (templates only read them):

- ``deletes_everything``: an empty prefix and an expiration of current objects — saving one
  needs an explicit acknowledgement (``acknowledge=True``), as in S3's console;
- ``overlaps_with``: the other rules whose prefixes overlap this one's (B2 forbids
  overlaps; here they are allowed and shown);
- ``noncurrent_without_versioning``: a noncurrent-version action on a bucket that was never
  versioned has nothing to act on.

No request, flash, current_user or commit here: the caller owns the transaction."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l

from portal import events, lifecycle
from portal.audit import Action
from portal.buckets import services
from portal.buckets.services import BucketPage
from portal.errors import Invalid
from portal.extensions import db
from portal.lifecycle import (
    FORM,
    MAX_RULES,
    InvalidRule,
    InvalidRules,
    check_unique,
    deletes_everything,
    has_noncurrent_action,
    overlaps,
    validate_rule,
    validate_rules,
)
from portal.models import User, Versioning

# Where each part of a rule is typed: validator paths → the parameters (and form fields).
FIELDS = {
    "id": "rule_id",
    "status": "enabled",
    "filter": "prefix",
    "filter.prefix": "prefix",
    "expiration": "expiration_days",
    "expiration.days": "expiration_days",
    "noncurrent_version_expiration": "noncurrent_days",
    "noncurrent_version_expiration.noncurrent_days": "noncurrent_days",
    "abort_incomplete_multipart_upload": "abort_days",
    "abort_incomplete_multipart_upload.days_after_initiation": "abort_days",
}
SHOWN_OVERLAPS = 3  # how many overlapping rules a row names


# --------------------------------------------------------------------------- presets ---
@dataclass(frozen=True)
class Preset:
    key: str
    label: str
    hint: str
    rule_id: str
    expiration_days: int | None = None
    noncurrent_days: int | None = None
    abort_days: int | None = None


PRESETS = {
    p.key: p
    for p in (
        Preset(
            "keep-last-version",
            _l("Keep only the last version"),
            _l("Deletes noncurrent versions 1 day after they become noncurrent."),
            "keep-only-the-last-version",
            noncurrent_days=1,
        ),
        Preset(
            "delete-old-versions",
            _l("Delete old versions after N days"),
            _l("Deletes noncurrent versions after the number of days you choose."),
            "delete-old-versions",
            noncurrent_days=30,
        ),
        Preset(
            "abort-incomplete-uploads",
            _l("Abort incomplete uploads after 7 days"),
            _l("Frees the space of multipart uploads that were never completed."),
            "abort-incomplete-uploads",
            abort_days=7,
        ),
    )
}


def preset_values(key: str | None, rules: list[dict]) -> dict:
    """The add form's values for preset ``key`` (an id not used by ``rules`` yet), or the
    empty form's."""
    values = {"rule_id": "", "enabled": True, "prefix": ""}
    preset = PRESETS.get(key or "")
    if preset is None:
        return values
    taken = {r["id"] for r in rules}
    rule_id, n = preset.rule_id, 2
    while rule_id in taken:
        rule_id, n = f"{preset.rule_id}-{n}", n + 1
    values.update(
        rule_id=rule_id,
        expiration_days=preset.expiration_days,
        noncurrent_days=preset.noncurrent_days,
        abort_days=preset.abort_days,
    )
    return values


def form_values(rule: dict) -> dict:
    """A stored rule as the edit form shows it."""
    return {
        "rule_id": rule["id"],
        "enabled": rule["status"] == "Enabled",
        "prefix": rule["filter"]["prefix"],
        "expiration_days": rule.get("expiration", {}).get("days"),
        "noncurrent_days": rule.get("noncurrent_version_expiration", {}).get("noncurrent_days"),
        "abort_days": rule.get("abort_incomplete_multipart_upload", {}).get(
            "days_after_initiation"
        ),
    }


# ----------------------------------------------------------------------------- rows ---
def dom_id_of(rule_id: str) -> str:
    """A stable element id for a rule (its id may hold any character)."""
    digest = hashlib.sha256(rule_id.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"rule-{digest}"


@dataclass
class RuleView:
    """One lifecycle rule as the table shows it, with its flags and what the viewer may do."""

    account_id: int
    bucket_name: str
    versioning: str
    rule: dict
    overlaps_with: list[str]
    may_write: bool
    gone: bool = False
    # After a change: other rows whose flags changed with it (swapped out of band).
    changed_others: list[RuleView] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.rule["id"]

    @property
    def dom_id(self) -> str:
        return dom_id_of(self.rule["id"])

    @property
    def enabled(self) -> bool:
        return self.rule["status"] == "Enabled"

    @property
    def prefix(self) -> str:
        return self.rule["filter"]["prefix"]

    @property
    def deletes_everything(self) -> bool:
        return deletes_everything(self.rule)

    @property
    def noncurrent_without_versioning(self) -> bool:
        return has_noncurrent_action(self.rule) and self.versioning == Versioning.UNVERSIONED

    @property
    def shown_overlaps(self) -> list[str]:
        return self.overlaps_with[:SHOWN_OVERLAPS]

    @property
    def more_overlaps(self) -> int:
        return max(len(self.overlaps_with) - SHOWN_OVERLAPS, 0)

    @property
    def overlap_message(self) -> str | None:
        """The overlap flag's sentence, naming the first few overlapping rules."""
        if not self.overlaps_with:
            return None
        names = ", ".join(f"“{i}”" for i in self.shown_overlaps)
        if self.more_overlaps:
            names = ngettext(
                "%(names)s and %(num)d more",
                "%(names)s and %(num)d more",
                self.more_overlaps,
                names=names,
            )
        return ngettext(
            "Its prefix overlaps the rule %(rules)s: both act on the same objects.",
            "Its prefix overlaps the rules %(rules)s: they act on the same objects.",
            len(self.overlaps_with),
            rules=names,
        )

    @property
    def versioned(self) -> bool:
        return self.versioning != Versioning.UNVERSIONED

    @property
    def actions(self) -> list[str]:
        """What the rule does, in words."""
        said = []
        if "expiration" in self.rule:
            days = self.rule["expiration"]["days"]
            said.append(
                ngettext(
                    "Delete current objects %(num)d day after they are created",
                    "Delete current objects %(num)d days after they are created",
                    days,
                )
            )
        if "noncurrent_version_expiration" in self.rule:
            days = self.rule["noncurrent_version_expiration"]["noncurrent_days"]
            said.append(
                ngettext(
                    "Delete noncurrent versions %(num)d day after they become noncurrent",
                    "Delete noncurrent versions %(num)d days after they become noncurrent",
                    days,
                )
            )
        if "abort_incomplete_multipart_upload" in self.rule:
            days = self.rule["abort_incomplete_multipart_upload"]["days_after_initiation"]
            said.append(
                ngettext(
                    "Abort incomplete multipart uploads %(num)d day after they start",
                    "Abort incomplete multipart uploads %(num)d days after they start",
                    days,
                )
            )
        return said

    def form_values(self) -> dict:
        return form_values(self.rule)


def views(view: BucketPage, rules: list[dict] | None = None) -> list[RuleView]:
    """Every rule of the bucket as a row, with the overlaps among them (one pass)."""
    rules = list(view.bucket.lifecycle_rules or []) if rules is None else rules
    found = overlaps(rules)
    return [
        RuleView(
            view.account.id,
            view.bucket.name,
            view.bucket.versioning,
            rule,
            found[rule["id"]],
            view.may_write,
        )
        for rule in rules
    ]


def rule_row(user: User, account_id: int, name: str, rule_id: str) -> RuleView | None:
    """One rule as ``user`` sees it now (None if it is gone). Two queries."""
    view = services.open_bucket(user, account_id, name)
    for row in views(view):
        if row.id == rule_id:
            return row
    return None


# -------------------------------------------------------------------------- changes ---
def gone_message() -> str:
    return gettext("This rule no longer exists: it was changed or deleted meanwhile.")


def _days(value) -> int | str | None:
    """A number of days as typed: an int when it is one, else the text (the validator
    answers it with its message), None when empty."""
    if value is None or isinstance(value, int):
        return value
    text = str(value).strip()
    if not text:
        return None
    if text.isascii() and text.isdigit() and len(text) <= 12:
        return int(text)
    return text


def _form_rule(
    rule_id, enabled, prefix, expiration_days, noncurrent_days, abort_days, index
) -> dict:
    raw: dict = {
        "id": rule_id if isinstance(rule_id, str) else "",
        "status": "Enabled" if enabled else "Disabled",
        "filter": {"prefix": prefix if isinstance(prefix, str) else ""},
    }
    for action, key, value in (
        ("expiration", "days", expiration_days),
        ("noncurrent_version_expiration", "noncurrent_days", noncurrent_days),
        ("abort_incomplete_multipart_upload", "days_after_initiation", abort_days),
    ):
        days = _days(value)
        if days is not None:
            raw[action] = {key: days}
    try:
        return validate_rule(raw, index, FORM)
    except InvalidRule as exc:
        raise Invalid(exc.message, field=FIELDS.get(exc.field or "")) from None


def _unique(rule: dict, others: list[dict], index: int) -> None:
    try:
        check_unique(rule, others, index, FORM)
    except InvalidRule as exc:
        raise Invalid(exc.message, field="rule_id") from None


def _acknowledged(rule: dict, acknowledge: bool) -> None:
    if deletes_everything(rule) and not acknowledge:
        raise Invalid(
            gettext(
                "With an empty prefix, this rule deletes every object of the bucket once it "
                "expires. Tick the box to confirm, or enter a prefix."
            ),
            field="acknowledge",
        )


def _save(
    actor: User,
    view: BucketPage,
    after: list[dict],
    *,
    change: str,
    rule_id: str | None,
    ip: str | None,
    extra: dict | None = None,
) -> None:
    view.bucket.lifecycle_rules = validate_rules(after)  # the one validator, on the whole list
    events.emit(
        actor,
        Action.BUCKET_LIFECYCLE_CHANGED,
        view.bucket,
        account=view.account,
        ip=ip,
        details={
            "change": change,
            **({"rule": rule_id} if rule_id is not None else {}),
            "rules": len(after),
            **(extra or {}),
        },
    )
    db.session.flush()


def _result(view: BucketPage, before: list[dict], acted_id: str, gone: bool = False) -> RuleView:
    """The acted rule's row, and the other rows whose overlap flags changed with it."""
    old = overlaps(before)
    rows = views(view)
    acted = next((r for r in rows if r.id == acted_id), None)
    if acted is None:  # deleted: its row, marked gone
        rule = next(r for r in before if r["id"] == acted_id)
        acted = RuleView(
            view.account.id, view.bucket.name, view.bucket.versioning, rule, [], False, gone=True
        )
    acted.changed_others = [
        r for r in rows if r.id != acted_id and sorted(r.overlaps_with) != sorted(old.get(r.id, []))
    ]
    return acted


def _index(rules: list[dict], rule_id: str) -> int:
    for i, rule in enumerate(rules):
        if rule["id"] == rule_id:
            return i
    raise Invalid(gone_message())


def add_rule(
    actor: User,
    account_id: int,
    name: str,
    *,
    rule_id: str | None,
    enabled: bool = True,
    prefix: str | None = "",
    expiration_days=None,
    noncurrent_days=None,
    abort_days=None,
    acknowledge: bool = False,
    ip: str | None = None,
) -> RuleView:
    """Add a rule at the end of the bucket's list."""
    view = services.lock_bucket(actor, account_id, name)
    before = list(view.bucket.lifecycle_rules or [])
    if len(before) >= MAX_RULES:
        raise Invalid(gettext("A bucket can have at most %(max)s lifecycle rules.", max=MAX_RULES))
    rule = _form_rule(
        rule_id, enabled, prefix, expiration_days, noncurrent_days, abort_days, len(before)
    )
    _unique(rule, before, len(before))
    _acknowledged(rule, acknowledge)
    _save(actor, view, [*before, rule], change="added", rule_id=rule["id"], ip=ip)
    return _result(view, before, rule["id"])


def update_rule(
    actor: User,
    account_id: int,
    name: str,
    original_id: str,
    *,
    rule_id: str | None,
    enabled: bool = True,
    prefix: str | None = "",
    expiration_days=None,
    noncurrent_days=None,
    abort_days=None,
    acknowledge: bool = False,
    ip: str | None = None,
) -> RuleView:
    """Replace rule ``original_id`` (its id may change too), in place in the list."""
    view = services.lock_bucket(actor, account_id, name)
    before = list(view.bucket.lifecycle_rules or [])
    index = _index(before, original_id)
    rule = _form_rule(rule_id, enabled, prefix, expiration_days, noncurrent_days, abort_days, index)
    others = before[:index] + before[index + 1 :]
    _unique(rule, others, index)
    _acknowledged(rule, acknowledge)
    if rule == before[index]:
        return _result(view, before, rule["id"])
    after = [*before[:index], rule, *before[index + 1 :]]
    extra = {"renamed_from": original_id} if rule["id"] != original_id else None
    _save(actor, view, after, change="updated", rule_id=rule["id"], ip=ip, extra=extra)
    return _result(view, before, rule["id"])


def set_rule_status(
    actor: User,
    account_id: int,
    name: str,
    rule_id: str,
    status: str,
    *,
    ip: str | None = None,
) -> RuleView:
    """Enable or disable rule ``rule_id`` (``status``: Enabled or Disabled); the rule is
    kept as it is otherwise."""
    view = services.lock_bucket(actor, account_id, name)
    before = list(view.bucket.lifecycle_rules or [])
    index = _index(before, rule_id)
    if status not in lifecycle.STATUSES:
        raise Invalid(gettext("Choose Enabled or Disabled."), field="status")
    if before[index]["status"] == status:
        return _result(view, before, rule_id)
    after = list(before)
    after[index] = {**before[index], "status": status}
    change = "enabled" if status == "Enabled" else "disabled"
    _save(actor, view, after, change=change, rule_id=rule_id, ip=ip)
    return _result(view, before, rule_id)


def delete_rule(
    actor: User, account_id: int, name: str, rule_id: str, *, ip: str | None = None
) -> RuleView:
    """Delete rule ``rule_id``; returns its row, marked gone."""
    view = services.lock_bucket(actor, account_id, name)
    before = list(view.bucket.lifecycle_rules or [])
    index = _index(before, rule_id)
    after = before[:index] + before[index + 1 :]
    _save(actor, view, after, change="deleted", rule_id=rule_id, ip=ip)
    return _result(view, before, rule_id, gone=True)


# ------------------------------------------------------------------ import / export ---
class ImportRefused(Invalid):
    """The import was refused; ``problems`` lists every problem found (rule and field)."""

    def __init__(self, message: str, problems: list[str], field: str = "document"):
        super().__init__(message, field=field)
        self.problems = problems


@dataclass(frozen=True)
class Imported:
    view: BucketPage
    count: int
    before: int


def export(user: User, account_id: int, name: str) -> tuple[BucketPage, str]:
    """The bucket's rules as an S3 LifecycleConfiguration document (JSON text). Anyone who
    sees the bucket may export them."""
    view = services.open_bucket(user, account_id, name)
    return view, lifecycle.dumps(list(view.bucket.lifecycle_rules or []))


def import_rules(
    actor: User,
    account_id: int,
    name: str,
    *,
    pasted: str | None = None,
    uploaded: bytes | None = None,
    acknowledge: bool = False,
    ip: str | None = None,
) -> Imported:
    """Replace every rule of the bucket with those of an S3 LifecycleConfiguration
    document (``pasted`` text or an ``uploaded`` file), or change nothing: every rule is
    checked and every problem reported (:class:`ImportRefused`)."""
    view = services.lock_bucket(actor, account_id, name)
    before = list(view.bucket.lifecycle_rules or [])
    pasted = pasted if pasted and pasted.strip() else None
    if pasted is not None and uploaded is not None:
        raise Invalid(gettext("Choose a file or paste the JSON, not both."), field="document")
    document = lifecycle.parse_document(
        uploaded if uploaded is not None else (pasted or ""), field="document"
    )
    try:
        rules = lifecycle.from_s3(document)
    except InvalidRules as exc:
        raise ImportRefused(
            ngettext(
                "Nothing was imported: %(num)d problem was found.",
                "Nothing was imported: %(num)d problems were found.",
                len(exc.errors),
            ),
            [e.message for e in exc.errors],
        ) from None
    except InvalidRule as exc:
        raise ImportRefused(exc.message, []) from None
    risky = [r["id"] for r in rules if deletes_everything(r)]
    if risky and not acknowledge:
        raise ImportRefused(
            ngettext(
                "Rule %(rules)s has an empty prefix and expires current objects: it deletes "
                "every object of the bucket. Tick the box to confirm.",
                "Rules %(rules)s have an empty prefix and expire current objects: they "
                "delete every object of the bucket. Tick the box to confirm.",
                len(risky),
                rules=", ".join(f"“{r}”" for r in risky[:5]) + ("…" if len(risky) > 5 else ""),
            ),
            [],
            field="acknowledge",
        )
    _save(
        actor,
        view,
        rules,
        change="imported",
        rule_id=None,
        ip=ip,
        extra={"before": len(before)},
    )
    return Imported(view, len(rules), len(before))
