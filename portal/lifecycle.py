"""The one validator of S3-shaped bucket lifecycle rules (DOMAIN.md "Lifecycle rules").

``validate_rules(value)`` takes what a form or an API sent (already parsed from JSON) and
returns the rules in their stored, normalized shape, or raises :class:`InvalidRule` (an
``Invalid``, so a 422 with the message next to the field) naming the rule and the field.

A stored rule looks like this (the same shape S3's lifecycle configuration uses, in
snake_case, so a storage backend can apply it unchanged)::

    {"id": "expire-logs", "status": "Enabled", "filter": {"prefix": "logs/"},
     "expiration": {"days": 30},
     "noncurrent_version_expiration": {"noncurrent_days": 7},
     "abort_incomplete_multipart_upload": {"days_after_initiation": 2}}

Rules: ``id`` unique within the bucket, 1-255 characters (surrounding spaces are dropped);
``status`` exactly ``Enabled`` or ``Disabled``; ``filter.prefix`` text, may be empty (a
missing filter means the whole bucket); at least one action, each a positive whole number
of days (booleans are refused, though Python counts them as integers); at most 1000 rules;
no unknown keys anywhere. The database backs this up with a CHECK that the column is a JSON
array of at most 1000 elements.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from portal.errors import Invalid

MAX_RULES = 1000
MAX_ID_LENGTH = 255
MAX_PREFIX_LENGTH = 1024  # S3's longest object key
MAX_DAYS = 2_147_483_647  # S3 stores days as a 32-bit integer
STATUSES = ("Enabled", "Disabled")
# action → the one key it holds
ACTIONS = {
    "expiration": "days",
    "noncurrent_version_expiration": "noncurrent_days",
    "abort_incomplete_multipart_upload": "days_after_initiation",
}
RULE_KEYS = ("id", "status", "filter", *ACTIONS)


class InvalidRule(Invalid):
    """A lifecycle rule is not valid. ``field`` is the path inside the rule
    (``expiration.days``) or ``lifecycle_rules`` for the list itself; ``rule_index`` is the
    rule's position (0-based), or None."""

    def __init__(self, message: str, field: str, rule_index: int | None = None):
        super().__init__(message, field=field)
        self.rule_index = rule_index


def validate_rules(value: Any) -> list[dict]:
    """Check ``value`` (a list of rules) and return the normalized rules."""
    if not isinstance(value, list):
        raise InvalidRule(_("Lifecycle rules must be a list of rules."), "lifecycle_rules")
    if len(value) > MAX_RULES:
        raise InvalidRule(
            _("A bucket can have at most %(max)s lifecycle rules.", max=MAX_RULES),
            "lifecycle_rules",
        )
    rules: list[dict] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(value):
        rule = validate_rule(raw, index)
        if rule["id"] in seen:
            raise InvalidRule(
                _(
                    'Rule %(rule)s: the id "%(id)s" is already used by rule %(other)s.',
                    rule=_label(index),
                    id=rule["id"],
                    other=_label(seen[rule["id"]]),
                ),
                "id",
                index,
            )
        seen[rule["id"]] = index
        rules.append(rule)
    return rules


def validate_rule(raw: Any, index: int = 0) -> dict:
    """Check one rule (at position ``index`` of its list) and return it normalized."""
    label = _label(index)
    if not isinstance(raw, dict):
        raise InvalidRule(
            _("Rule %(rule)s must be an object with an id, a status and actions.", rule=label),
            "lifecycle_rules",
            index,
        )
    for key in raw:
        if key not in RULE_KEYS:
            raise InvalidRule(
                _('Rule %(rule)s: unknown field "%(field)s".', rule=label, field=str(key)),
                str(key),
                index,
            )

    rule_id = raw.get("id")
    if isinstance(rule_id, str):
        rule_id = rule_id.strip()
    if not isinstance(rule_id, str) or not 1 <= len(rule_id) <= MAX_ID_LENGTH:
        raise InvalidRule(
            _(
                "Rule %(rule)s: the id is required and must have 1 to %(max)s characters.",
                rule=label,
                max=MAX_ID_LENGTH,
            ),
            "id",
            index,
        )
    label = _label(index, rule_id)

    status = raw.get("status")
    if not isinstance(status, str) or status not in STATUSES:
        raise InvalidRule(
            _("Rule %(rule)s: the status must be Enabled or Disabled.", rule=label),
            "status",
            index,
        )

    rule: dict[str, Any] = {"id": rule_id, "status": status, "filter": _filter(raw, label, index)}
    for action, key in ACTIONS.items():
        if action in raw:
            rule[action] = {key: _days(raw[action], action, key, label, index)}
    if not any(action in rule for action in ACTIONS):
        raise InvalidRule(
            _(
                "Rule %(rule)s needs at least one action: expiration.days, "
                "noncurrent_version_expiration.noncurrent_days or "
                "abort_incomplete_multipart_upload.days_after_initiation.",
                rule=label,
            ),
            "expiration.days",
            index,
        )
    return rule


def _label(index: int, rule_id: str | None = None) -> str:
    return f'#{index + 1} "{rule_id}"' if rule_id else f"#{index + 1}"


def _filter(raw: dict, label: str, index: int) -> dict:
    value = raw.get("filter", {})
    if value is None:
        value = {}
    if not isinstance(value, dict) or set(value) - {"prefix"}:
        raise InvalidRule(
            _("Rule %(rule)s: the filter may only hold a prefix.", rule=label),
            "filter",
            index,
        )
    prefix = value.get("prefix", "")
    if not isinstance(prefix, str) or len(prefix) > MAX_PREFIX_LENGTH:
        raise InvalidRule(
            _(
                "Rule %(rule)s: filter.prefix must be text of at most %(max)s characters.",
                rule=label,
                max=MAX_PREFIX_LENGTH,
            ),
            "filter.prefix",
            index,
        )
    return {"prefix": prefix}


def _days(value: Any, action: str, key: str, label: str, index: int) -> int:
    field = f"{action}.{key}"
    if not isinstance(value, dict) or set(value) != {key}:
        raise InvalidRule(
            _(
                "Rule %(rule)s: %(action)s must hold exactly one field, %(field)s.",
                rule=label,
                action=action,
                field=key,
            ),
            field,
            index,
        )
    days = value[key]
    # bool is an int subclass: True would otherwise pass as 1 day.
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise InvalidRule(
            _(
                "Rule %(rule)s: %(field)s must be a whole number of days, at least 1.",
                rule=label,
                field=field,
            ),
            field,
            index,
        )
    return days
