"""The one validator of S3-shaped bucket lifecycle rules (DOMAIN.md "Lifecycle rules"), and
the S3 ``LifecycleConfiguration`` JSON it imports and exports.

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
no unknown keys anywhere; no control characters nor invalid Unicode in the id or the
prefix (PostgreSQL cannot store U+0000, psycopg cannot send a lone surrogate). The database
backs this up with a CHECK that the column is a JSON array of at most 1000 elements.

Messages come in three styles, one rule set:

- ``"portal"`` (default): fields named as stored (``expiration.days``), the rule named by
  position and id (``Rule #2 "keep-30": …``);
- ``"s3"``: fields named as in the S3 JSON a person pasted (``Expiration.Days``);
- ``"form"``: the message shown next to one field of a form that edits one rule ("Enter a
  whole number of days, at least 1.").

S3 import and export: :func:`to_s3` writes the ``{"Rules": [...]}`` document that
``aws s3api put-bucket-lifecycle-configuration --lifecycle-configuration file://…`` accepts
(and ``get-bucket-lifecycle-configuration`` prints); :func:`parse_document` reads such a
document from text (size-limited, hostile JSON refused with a message) and
:func:`from_s3` turns it into stored rules, checking every rule and reporting each problem
(:class:`InvalidRules`), so nothing is stored unless everything is valid.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext

from portal.errors import Invalid

MAX_RULES = 1000
MAX_ID_LENGTH = 255
MAX_PREFIX_LENGTH = 1024  # S3's longest object key
MAX_DAYS = 2_147_483_647  # S3 stores days as a 32-bit integer
MAX_DOCUMENT_BYTES = 1024 * 1024  # an imported LifecycleConfiguration: 1 MB
STATUSES = ("Enabled", "Disabled")
# action → the one key it holds
ACTIONS = {
    "expiration": "days",
    "noncurrent_version_expiration": "noncurrent_days",
    "abort_incomplete_multipart_upload": "days_after_initiation",
}
RULE_KEYS = ("id", "status", "filter", *ACTIONS)

PORTAL, S3, FORM = "portal", "s3", "form"

# Stored names → the names of S3's JSON (what ``aws s3api`` reads and prints).
S3_NAMES = {
    "lifecycle_rules": "Rules",
    "id": "ID",
    "status": "Status",
    "filter": "Filter",
    "prefix": "Prefix",
    "filter.prefix": "Filter.Prefix",
    "expiration": "Expiration",
    "days": "Days",
    "expiration.days": "Expiration.Days",
    "noncurrent_version_expiration": "NoncurrentVersionExpiration",
    "noncurrent_days": "NoncurrentDays",
    "noncurrent_version_expiration.noncurrent_days": "NoncurrentVersionExpiration.NoncurrentDays",
    "abort_incomplete_multipart_upload": "AbortIncompleteMultipartUpload",
    "days_after_initiation": "DaysAfterInitiation",
    "abort_incomplete_multipart_upload.days_after_initiation": (
        "AbortIncompleteMultipartUpload.DaysAfterInitiation"
    ),
}
_FROM_S3 = {v: k for k, v in S3_NAMES.items() if "." not in k}

# Characters a rule's id or prefix may not hold: C0 controls, DEL, lone surrogates.
_UNSTORABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


class InvalidRule(Invalid):
    """A lifecycle rule is not valid. ``field`` is the path inside the rule
    (``expiration.days``) or ``lifecycle_rules`` for the list itself; ``rule_index`` is the
    rule's position (0-based), or None."""

    def __init__(self, message: str, field: str, rule_index: int | None = None):
        super().__init__(message, field=field)
        self.rule_index = rule_index


class InvalidRules(InvalidRule):
    """Several rules are not valid (an import checks every rule): ``errors`` lists each
    problem, in the order of the rules; ``message``, ``field`` and ``rule_index`` are the
    first one's, or a count when there are several."""

    def __init__(self, errors: list[InvalidRule]):
        first = errors[0]
        message = first.message
        if len(errors) > 1:
            message = ngettext(
                "%(num)d problem was found in the lifecycle rules.",
                "%(num)d problems were found in the lifecycle rules.",
                len(errors),
            )
        super().__init__(message, first.field, first.rule_index)
        self.errors = errors


def name(path: str, style: str = PORTAL) -> str:
    """How a field is called in messages of ``style``."""
    return S3_NAMES.get(path, path) if style == S3 else path


def _label(index: int, rule_id: str | None = None) -> str:
    """A rule as messages name it: its position, and its id (shortened) when it has one."""
    if not rule_id:
        return f"#{index + 1}"
    shown = rule_id if len(rule_id) <= 80 else rule_id[:79] + "…"
    return f'#{index + 1} "{shown}"'


def _fail(
    style: str,
    field: str,
    index: int | None,
    listed: Callable[[], str],
    alone: Callable[[], str] | None = None,
):
    """Raise the error of ``field``: ``listed()`` names the rule (a list of rules, an
    import); ``alone()`` is what a one-rule form shows next to the field."""
    message = alone() if style == FORM and alone is not None else listed()
    raise InvalidRule(message, field, index)


# ----------------------------------------------------------------------- validation ---
def validate_rules(
    value: Any,
    style: str = PORTAL,
    all_errors: bool = False,
    convert: Callable[[Any, int], Any] | None = None,
) -> list[dict]:
    """Check ``value`` (a list of rules) and return the normalized rules.

    ``all_errors=True`` checks every rule and raises :class:`InvalidRules` with each
    problem (an import); otherwise the first problem is raised. ``convert(raw, index)``
    turns each item into the stored shape first (the S3 import renames keys)."""
    if not isinstance(value, list):
        raise InvalidRule(_("Lifecycle rules must be a list of rules."), "lifecycle_rules")
    if len(value) > MAX_RULES:
        raise InvalidRule(
            _("A bucket can have at most %(max)s lifecycle rules.", max=MAX_RULES),
            "lifecycle_rules",
        )
    rules: list[dict] = []
    errors: list[InvalidRule] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(value):
        try:
            rule = validate_rule(convert(raw, index) if convert else raw, index, style)
            if rule["id"] in seen:
                _duplicate(rule["id"], index, seen[rule["id"]], style)
        except InvalidRule as exc:
            if not all_errors:
                raise
            errors.append(exc)
            continue
        seen[rule["id"]] = index
        rules.append(rule)
    if errors:
        raise InvalidRules(errors)
    return rules


def _duplicate(rule_id: str, index: int, other: int, style: str) -> None:
    _fail(
        style,
        "id",
        index,
        lambda: _(
            'Rule %(rule)s: the %(field)s "%(id)s" is already used by rule %(other)s.',
            rule=_label(index, rule_id),
            field=name("id", style),
            id=rule_id,
            other=_label(other),
        ),
        lambda: _('The ID "%(id)s" is already used by another rule of this bucket.', id=rule_id),
    )


def check_unique(rule: dict, others: list[dict], index: int, style: str = PORTAL) -> None:
    """``rule`` (at ``index``) may join ``others``: its id is not used by one of them."""
    for position, other in enumerate(others):
        if other.get("id") == rule["id"]:
            _duplicate(rule["id"], index, position, style)


def validate_rule(raw: Any, index: int = 0, style: str = PORTAL) -> dict:
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
        _fail(
            style,
            "id",
            index,
            lambda: _(
                "Rule %(rule)s: %(field)s is required and must have 1 to %(max)s characters.",
                rule=label,
                field=name("id", style),
                max=MAX_ID_LENGTH,
            ),
            lambda: _("Enter an ID of 1 to %(max)s characters.", max=MAX_ID_LENGTH),
        )
    _check_text(rule_id, "id", index, label, style)
    label = _label(index, rule_id)

    status = raw.get("status")
    if not isinstance(status, str) or status not in STATUSES:
        _fail(
            style,
            "status",
            index,
            lambda: _(
                "Rule %(rule)s: %(field)s must be Enabled or Disabled.",
                rule=label,
                field=name("status", style),
            ),
            lambda: _("Choose Enabled or Disabled."),
        )

    rule: dict[str, Any] = {
        "id": rule_id,
        "status": status,
        "filter": _filter(raw, label, index, style),
    }
    for action, key in ACTIONS.items():
        if action in raw:
            rule[action] = {key: _days(raw[action], action, key, label, index, style)}
    if not any(action in rule for action in ACTIONS):
        first, second, third = (name(f"{a}.{k}", style) for a, k in ACTIONS.items())
        _fail(
            style,
            "expiration.days",
            index,
            lambda: _(
                "Rule %(rule)s needs at least one action: %(first)s, %(second)s or %(third)s.",
                rule=label,
                first=first,
                second=second,
                third=third,
            ),
            lambda: _(
                "Choose at least one action: delete current objects, delete noncurrent "
                "versions or abort incomplete multipart uploads."
            ),
        )
    return rule


def _check_text(value: str, field: str, index: int, label: str, style: str) -> None:
    if _UNSTORABLE.search(value):
        _fail(
            style,
            field,
            index,
            lambda: _(
                "Rule %(rule)s: %(field)s contains characters that cannot be stored "
                "(control characters or invalid Unicode).",
                rule=label,
                field=name(field, style),
            ),
            lambda: _(
                "This contains characters that cannot be stored (control characters or "
                "invalid Unicode)."
            ),
        )


def _filter(raw: dict, label: str, index: int, style: str) -> dict:
    value = raw.get("filter", {})
    if value is None:
        value = {}
    if not isinstance(value, dict) or set(value) - {"prefix"}:
        _fail(
            style,
            "filter",
            index,
            lambda: _(
                "Rule %(rule)s: %(field)s may only hold a prefix.",
                rule=label,
                field=name("filter", style),
            ),
        )
    prefix = value.get("prefix", "")
    if not isinstance(prefix, str) or len(prefix) > MAX_PREFIX_LENGTH:
        _fail(
            style,
            "filter.prefix",
            index,
            lambda: _(
                "Rule %(rule)s: %(field)s must be text of at most %(max)s characters.",
                rule=label,
                field=name("filter.prefix", style),
                max=MAX_PREFIX_LENGTH,
            ),
            lambda: _("The prefix can have at most %(max)s characters.", max=MAX_PREFIX_LENGTH),
        )
    _check_text(prefix, "filter.prefix", index, label, style)
    return {"prefix": prefix}


def _days(value: Any, action: str, key: str, label: str, index: int, style: str) -> int:
    field = f"{action}.{key}"
    if not isinstance(value, dict) or set(value) != {key}:
        _fail(
            style,
            field,
            index,
            lambda: _(
                "Rule %(rule)s: %(action)s must hold exactly one field, %(field)s.",
                rule=label,
                action=name(action, style),
                field=name(key, style),
            ),
        )
    days = value[key]
    # bool is an int subclass: True would otherwise pass as 1 day.
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        _fail(
            style,
            field,
            index,
            lambda: _(
                "Rule %(rule)s: %(field)s must be a whole number of days, at least 1.",
                rule=label,
                field=name(field, style),
            ),
            lambda: _("Enter a whole number of days, at least 1."),
        )
    return days


# ------------------------------------------------------------------------- analysis ---
def deletes_everything(rule: dict) -> bool:
    """A rule with an empty prefix that expires current objects deletes every object of the
    bucket (S3's console asks for an acknowledgement before saving one)."""
    return rule.get("filter", {}).get("prefix", "") == "" and "expiration" in rule


def has_noncurrent_action(rule: dict) -> bool:
    return "noncurrent_version_expiration" in rule


def overlaps(rules: list[dict]) -> dict[str, list[str]]:
    """For each rule id, the ids of the other rules whose prefixes overlap its own (one
    prefix starts with the other: both rules act on the objects under the longer one).

    Sorted prefixes put every prefix right after the prefixes it extends, so one pass with
    a stack of "open" prefixes finds each overlapping pair once."""
    result: dict[str, list[str]] = {r["id"]: [] for r in rules}
    ordered = sorted(rules, key=lambda r: (r["filter"]["prefix"], r["id"]))
    open_: list[dict] = []
    for rule in ordered:
        prefix = rule["filter"]["prefix"]
        while open_ and not prefix.startswith(open_[-1]["filter"]["prefix"]):
            open_.pop()
        for other in open_:
            result[rule["id"]].append(other["id"])
            result[other["id"]].append(rule["id"])
        open_.append(rule)
    return result


# ---------------------------------------------------------------------- S3 documents ---
_S3_ORDER = ("id", "filter", "status", *ACTIONS)


def to_s3(rules: list[dict]) -> dict:
    """The S3 ``LifecycleConfiguration`` of stored ``rules``: ``{"Rules": [...]}``."""
    document = []
    for rule in rules:
        item: dict[str, Any] = {}
        for key in _S3_ORDER:
            if key not in rule:
                continue
            value = rule[key]
            if isinstance(value, dict):
                value = {S3_NAMES[k]: v for k, v in value.items()}
            item[S3_NAMES[key]] = value
        document.append(item)
    return {"Rules": document}


def dumps(rules: list[dict]) -> str:
    """The export: :func:`to_s3` as indented JSON text (UTF-8, ids and prefixes as typed)."""
    return json.dumps(to_s3(rules), indent=2, ensure_ascii=False) + "\n"


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _no_constant(value: str):
    raise ValueError(value)


def parse_document(data: str | bytes, field: str = "document") -> Any:
    """JSON text (pasted or uploaded) → Python values, or Invalid on ``field`` with a clear
    message: larger than 1 MB, not UTF-8, not JSON (with the line and column), a key given
    twice, NaN/Infinity, numbers or nesting too large to be a lifecycle configuration."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise Invalid(too_large_message(), field=field)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid(_("The file is not UTF-8 text."), field=field) from None
    if not text.strip():
        raise Invalid(
            _("Paste a lifecycle configuration or choose a JSON file."), field=field
        ) from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constant)
    except _DuplicateKey as exc:
        raise Invalid(
            _('The key "%(key)s" appears twice in the same object.', key=exc.key[:80]),
            field=field,
        ) from None
    except json.JSONDecodeError as exc:
        raise Invalid(
            _(
                "This is not valid JSON (line %(line)s, column %(column)s: %(problem)s).",
                line=exc.lineno,
                column=exc.colno,
                problem=exc.msg,
            ),
            field=field,
        ) from None
    except RecursionError:
        raise Invalid(
            _("This JSON is nested too deeply to be a lifecycle configuration."), field=field
        ) from None
    except ValueError:  # NaN/Infinity, or an integer of thousands of digits
        raise Invalid(
            _("This JSON holds a number that no lifecycle rule can use."), field=field
        ) from None


def too_large_message() -> str:
    return _(
        "A lifecycle configuration can have at most %(size)s; this one is larger.",
        size="1 MB",
    )


# S3 features a PrimeCloud rule cannot express: refused by name, never silently dropped.
_UNSUPPORTED_RULE_KEYS = ("Transitions", "NoncurrentVersionTransitions")
_UNSUPPORTED_FILTER_KEYS = ("And", "Tag", "ObjectSizeGreaterThan", "ObjectSizeLessThan")
_UNSUPPORTED_ACTION_KEYS = {
    "Expiration": ("Date", "ExpiredObjectDeleteMarker"),
    "NoncurrentVersionExpiration": ("NewerNoncurrentVersions",),
}
# The keys each object of a rule may hold (stored names).
_INNER_KEYS = {"filter": ("prefix",), **{a: (k,) for a, k in ACTIONS.items()}}
# Keys `get-bucket-lifecycle-configuration` prints next to "Rules" that carry no rule.
_IGNORED_TOP_KEYS = ("TransitionDefaultMinimumObjectSize",)


def from_s3(document: Any) -> list[dict]:
    """Stored rules from an S3 ``LifecycleConfiguration`` document (parsed JSON). Every
    rule is checked; :class:`InvalidRules` lists each problem with the rule (position and
    ID) and the field as S3 names it."""
    if not isinstance(document, dict) or "Rules" not in document:
        raise InvalidRule(
            _('A lifecycle configuration is a JSON object with a "Rules" list.'),
            "lifecycle_rules",
        )
    for key in document:
        if key != "Rules" and key not in _IGNORED_TOP_KEYS:
            raise InvalidRule(
                _(
                    'Unknown field "%(field)s": a lifecycle configuration holds only "Rules".',
                    field=str(key)[:80],
                ),
                "lifecycle_rules",
            )
    value = document["Rules"]
    if not isinstance(value, list):
        raise InvalidRule(_('"Rules" must be a list of rules.'), "lifecycle_rules")
    if len(value) > MAX_RULES:
        raise InvalidRule(
            _("A bucket can have at most %(max)s lifecycle rules.", max=MAX_RULES),
            "lifecycle_rules",
        )
    return validate_rules(value, style=S3, all_errors=True, convert=_rule_from_s3)


def _rule_from_s3(raw: Any, index: int) -> Any:
    """One S3 rule with its keys renamed to the stored names (values untouched, so the
    validator judges them); S3 features PrimeCloud does not offer are refused by name."""
    if not isinstance(raw, dict):
        return raw  # the validator says what a rule must be
    rule_id = raw.get("ID")
    label = _label(index, rule_id.strip() if isinstance(rule_id, str) else None)

    def unsupported(field: str) -> None:
        raise InvalidRule(
            _(
                "Rule %(rule)s: %(field)s is not supported. PrimeCloud lifecycle rules "
                "filter by prefix and can expire current objects, expire noncurrent versions "
                "and abort incomplete multipart uploads.",
                rule=label,
                field=field,
            ),
            field,
            index,
        )

    rule: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _UNSUPPORTED_RULE_KEYS:
            unsupported(key)
        if key == "Prefix":  # the legacy place of the prefix, outside a Filter
            if "Filter" in raw:
                raise InvalidRule(
                    _(
                        "Rule %(rule)s: give the prefix in Filter.Prefix or in Prefix, not both.",
                        rule=label,
                    ),
                    "filter.prefix",
                    index,
                )
            rule["filter"] = {"prefix": value}
            continue
        stored = _FROM_S3.get(key)
        if stored is None or stored not in RULE_KEYS:
            raise InvalidRule(
                _('Rule %(rule)s: unknown field "%(field)s".', rule=label, field=str(key)[:80]),
                str(key),
                index,
            )
        if isinstance(value, dict):
            inner_values = {}
            for inner, inner_value in value.items():
                path = f"{key}.{inner}"
                if inner in _UNSUPPORTED_FILTER_KEYS and key == "Filter":
                    unsupported(path)
                if inner in _UNSUPPORTED_ACTION_KEYS.get(key, ()):
                    unsupported(path)
                if _FROM_S3.get(inner) not in _INNER_KEYS.get(stored, ()):
                    raise InvalidRule(
                        _(
                            'Rule %(rule)s: unknown field "%(field)s".',
                            rule=label,
                            field=path[:120],
                        ),
                        path,
                        index,
                    )
                inner_values[_FROM_S3[inner]] = inner_value
            value = inner_values
        rule[stored] = value
    return rule
