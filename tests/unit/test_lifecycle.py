"""portal.lifecycle: the one validator of S3-shaped lifecycle rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portal.errors import Invalid
from portal.lifecycle import ACTIONS, MAX_RULES, InvalidRule, validate_rule, validate_rules

ROOT = Path(__file__).resolve().parents[2]


def rule(**overrides):
    base = {
        "id": "expire-logs",
        "status": "Enabled",
        "filter": {"prefix": "logs/"},
        "expiration": {"days": 30},
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not ...}


def test_a_full_rule_is_returned_normalized():
    raw = rule(
        id="  tidy  ",
        noncurrent_version_expiration={"noncurrent_days": 7},
        abort_incomplete_multipart_upload={"days_after_initiation": 2},
    )
    assert validate_rules([raw]) == [
        {
            "id": "tidy",
            "status": "Enabled",
            "filter": {"prefix": "logs/"},
            "expiration": {"days": 30},
            "noncurrent_version_expiration": {"noncurrent_days": 7},
            "abort_incomplete_multipart_upload": {"days_after_initiation": 2},
        }
    ]


@pytest.mark.parametrize(
    ("raw", "expected_filter"),
    [
        (rule(filter=...), {"prefix": ""}),  # no filter: the whole bucket
        (rule(filter=None), {"prefix": ""}),
        (rule(filter={}), {"prefix": ""}),
        (rule(filter={"prefix": ""}), {"prefix": ""}),
        (rule(filter={"prefix": "a/b/"}), {"prefix": "a/b/"}),
    ],
)
def test_the_filter_may_be_empty(raw, expected_filter):
    assert validate_rule(raw)["filter"] == expected_filter


@pytest.mark.parametrize(
    "action",
    [
        {"expiration": {"days": 1}},
        {"expiration": ..., "noncurrent_version_expiration": {"noncurrent_days": 1}},
        {"expiration": ..., "abort_incomplete_multipart_upload": {"days_after_initiation": 3}},
    ],
)
def test_any_one_action_is_enough(action):
    expected = {k: v for k, v in action.items() if v is not ...}
    (stored,) = validate_rules([rule(**action)])
    assert {k: stored[k] for k in ACTIONS if k in stored} == expected


def test_disabled_rules_and_many_rules_are_fine():
    rules = [rule(id=f"r{i}", status="Disabled") for i in range(MAX_RULES)]
    assert len(validate_rules(rules)) == MAX_RULES
    assert validate_rules([]) == []


BAD = [
    # (value, field, words the message must contain)
    ("not a list", "lifecycle_rules", ["list"]),
    ({"id": "x"}, "lifecycle_rules", ["list"]),
    (None, "lifecycle_rules", ["list"]),
    ([rule(id=f"r{i}") for i in range(MAX_RULES + 1)], "lifecycle_rules", ["1000"]),
    (["rule"], "lifecycle_rules", ["#1"]),
    ([None], "lifecycle_rules", ["#1"]),
    ([rule(id=...)], "id", ["#1", "id"]),
    ([rule(id="")], "id", ["#1", "id"]),
    ([rule(id="   ")], "id", ["#1", "id"]),
    ([rule(id="x" * 256)], "id", ["id", "255"]),
    ([rule(id=42)], "id", ["id"]),
    ([rule(id="a"), rule(id="a")], "id", ["#2", '"a"', "#1"]),
    ([rule(id="a"), rule(id=" a ")], "id", ["already"]),
    ([rule(status=...)], "status", ['"expire-logs"', "Enabled"]),
    ([rule(status="enabled")], "status", ["Enabled"]),
    ([rule(status=True)], "status", ["Enabled"]),
    ([rule(status=["Enabled"])], "status", ["Enabled"]),
    ([rule(filter="logs/")], "filter", ["prefix"]),
    ([rule(filter={"prefix": "a", "tag": "b"})], "filter", ["prefix"]),
    ([rule(filter={"prefix": 3})], "filter.prefix", ["filter.prefix"]),
    ([rule(filter={"prefix": "p" * 1025})], "filter.prefix", ["1024"]),
    ([rule(expiration=...)], "expiration.days", ["at least one action"]),
    ([rule(expiration={"days": 0})], "expiration.days", ["expiration.days"]),
    ([rule(expiration={"days": -5})], "expiration.days", ["expiration.days"]),
    ([rule(expiration={"days": True})], "expiration.days", ["expiration.days"]),
    ([rule(expiration={"days": False})], "expiration.days", ["expiration.days"]),
    ([rule(expiration={"days": 1.5})], "expiration.days", ["expiration.days"]),
    ([rule(expiration={"days": 30.0})], "expiration.days", ["expiration.days"]),
    ([rule(expiration={"days": "30"})], "expiration.days", ["expiration.days"]),
    ([rule(expiration={"days": None})], "expiration.days", ["expiration.days"]),
    ([rule(expiration={"days": 2**31})], "expiration.days", ["expiration.days"]),
    ([rule(expiration={})], "expiration.days", ["expiration", "days"]),
    ([rule(expiration=30)], "expiration.days", ["expiration", "days"]),
    ([rule(expiration={"days": 1, "date": "2026-01-01"})], "expiration.days", ["days"]),
    (
        [rule(expiration=..., noncurrent_version_expiration={"noncurrent_days": 0})],
        "noncurrent_version_expiration.noncurrent_days",
        ["noncurrent_version_expiration.noncurrent_days"],
    ),
    (
        [rule(expiration=..., noncurrent_version_expiration={"days": 3})],
        "noncurrent_version_expiration.noncurrent_days",
        ["noncurrent_days"],
    ),
    (
        [rule(abort_incomplete_multipart_upload={"days_after_initiation": True})],
        "abort_incomplete_multipart_upload.days_after_initiation",
        ["days_after_initiation"],
    ),
    ([rule(transitions=[{"days": 30}])], "transitions", ['"transitions"']),
    ([rule(ID="x")], "ID", ['"ID"']),
    ([rule(), rule(id="second", prefix="x")], "prefix", ["#2", '"prefix"']),
]


@pytest.mark.parametrize(("value", "field", "words"), BAD)
def test_bad_rules_are_refused_with_a_clear_message(value, field, words):
    with pytest.raises(InvalidRule) as info:
        validate_rules(value)
    error = info.value
    assert isinstance(error, Invalid) and error.status == 422
    assert error.field == field
    for word in words:
        assert word in error.message


def test_the_message_names_the_rule_by_position_and_id():
    with pytest.raises(InvalidRule) as info:
        validate_rules([rule(id="first"), rule(id="keep-30", expiration={"days": 0})])
    assert info.value.rule_index == 1
    assert info.value.message.startswith('Rule #2 "keep-30": expiration.days')


def test_input_is_not_modified():
    raw = [rule(id=" spaced ")]
    snapshot = json.dumps(raw)
    validate_rules(raw)
    assert json.dumps(raw) == snapshot


def test_messages_follow_the_readers_language(app):
    """The catalog's completeness is tests/unit/test_i18n.py's job; here: the validator's
    messages are lazy, rendered in the language of the request that shows them."""
    messages = {}
    for language in ("en", "pt-BR"):
        with app.test_request_context(headers={"Accept-Language": language}):
            with pytest.raises(Invalid) as info:
                validate_rules("not a list")
            messages[language] = str(info.value.message)
    assert messages["en"] != messages["pt-BR"]
