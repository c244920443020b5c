"""portal.lifecycle: the one validator of S3-shaped lifecycle rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portal.errors import Invalid
from portal.lifecycle import (
    ACTIONS,
    MAX_DOCUMENT_BYTES,
    MAX_RULES,
    InvalidRule,
    InvalidRules,
    deletes_everything,
    dumps,
    from_s3,
    overlaps,
    parse_document,
    to_s3,
    validate_rule,
    validate_rules,
)

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


# ---------------------------------------------------------------- message styles ---
def test_s3_style_names_fields_as_the_json_does():
    with pytest.raises(InvalidRule) as info:
        validate_rules([rule(expiration={"days": 0})], style="s3")
    assert (
        info.value.message
        == 'Rule #1 "expire-logs": Expiration.Days must be a whole number of days, at least 1.'
    )
    assert info.value.field == "expiration.days"  # the path stays the stored one


def test_form_style_speaks_to_one_field():
    with pytest.raises(InvalidRule) as info:
        validate_rule(rule(expiration={"days": 0}), style="form")
    assert info.value.message == "Enter a whole number of days, at least 1."
    with pytest.raises(InvalidRule) as info:
        validate_rule(rule(expiration=...), style="form")
    assert info.value.message.startswith("Choose at least one action")


@pytest.mark.parametrize("bad", ["a\x00b", "tab\there", "\ud800", "del\x7f"])
@pytest.mark.parametrize("field", ["id", "prefix"])
def test_unstorable_characters_are_refused(bad, field):
    raw = rule(id=bad) if field == "id" else rule(filter={"prefix": bad})
    with pytest.raises(InvalidRule) as info:
        validate_rules([raw])
    assert "cannot be stored" in info.value.message
    assert info.value.field == ("id" if field == "id" else "filter.prefix")


def test_all_errors_lists_every_rule_in_order():
    with pytest.raises(InvalidRules) as info:
        validate_rules(
            [rule(id="a", status="on"), rule(id="b"), rule(id="c", expiration={"days": -1})],
            all_errors=True,
        )
    assert [e.rule_index for e in info.value.errors] == [0, 2]
    assert info.value.message == "2 problems were found in the lifecycle rules."


def test_a_long_id_is_shortened_in_messages():
    with pytest.raises(InvalidRule) as info:
        validate_rules([rule(id="x" * 200, status="on")])
    assert len(info.value.message) < 200 and "…" in info.value.message


# ------------------------------------------------------------------------ analysis ---
def test_overlaps_are_prefixes_of_each_other():
    rules = [
        rule(id="all", filter={"prefix": ""}),
        rule(id="logs", filter={"prefix": "logs/"}),
        rule(id="logs-2020", filter={"prefix": "logs/2020/"}),
        rule(id="logs-same", filter={"prefix": "logs/"}),
        rule(id="img", filter={"prefix": "img/"}),
        rule(id="logsx", filter={"prefix": "logsx"}),
    ]
    found = overlaps(validate_rules(rules))
    assert sorted(found["logs-2020"]) == ["all", "logs", "logs-same"]
    assert sorted(found["img"]) == ["all"]
    assert sorted(found["logsx"]) == ["all"]  # "logs/" is no prefix of "logsx"
    assert sorted(found["all"]) == ["img", "logs", "logs-2020", "logs-same", "logsx"]


def test_deletes_everything_is_an_empty_prefix_with_an_expiration():
    assert deletes_everything(validate_rule(rule(filter={"prefix": ""})))
    assert not deletes_everything(validate_rule(rule()))
    only_abort = rule(
        filter=None, expiration=..., abort_incomplete_multipart_upload={"days_after_initiation": 1}
    )
    assert not deletes_everything(validate_rule(only_abort))


# ---------------------------------------------------------------------- S3 documents ---
FULL = {
    "id": "tidy",
    "status": "Disabled",
    "filter": {"prefix": "tmp/"},
    "expiration": {"days": 30},
    "noncurrent_version_expiration": {"noncurrent_days": 7},
    "abort_incomplete_multipart_upload": {"days_after_initiation": 2},
}


def test_export_is_the_shape_aws_s3api_accepts():
    assert to_s3([FULL]) == {
        "Rules": [
            {
                "ID": "tidy",
                "Filter": {"Prefix": "tmp/"},
                "Status": "Disabled",
                "Expiration": {"Days": 30},
                "NoncurrentVersionExpiration": {"NoncurrentDays": 7},
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2},
            }
        ]
    }
    assert to_s3([]) == {"Rules": []}


def test_round_trip_export_then_import_gives_the_same_rules():
    rules = validate_rules(
        [
            FULL,
            rule(id="ção/✓", filter={"prefix": "dados/ç/"}),
            rule(
                id="nc",
                filter={"prefix": ""},
                expiration=...,
                noncurrent_version_expiration={"noncurrent_days": 1},
            ),
        ]
    )
    assert from_s3(parse_document(dumps(rules))) == rules
    assert from_s3(parse_document(dumps(rules).encode())) == rules


def test_import_accepts_what_s3_accepts():
    document = {
        "TransitionDefaultMinimumObjectSize": "all_storage_classes_128K",  # printed by get-…
        "Rules": [
            {"ID": "a", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}},
            {"ID": "b", "Status": "Enabled", "Prefix": "legacy/", "Expiration": {"Days": 1}},
        ],
    }
    assert [r["filter"]["prefix"] for r in from_s3(document)] == ["", "legacy/"]


S3_BAD = [
    # (document, words of the (first) message)
    ([], ['"Rules"']),
    ({"rules": []}, ['"Rules"']),
    ({"Rules": {}}, ['"Rules" must be a list']),
    ({"Rules": [], "Extra": 1}, ['Unknown field "Extra"']),
    ({"Rules": [{"ID": "x", "Status": "Enabled"} for _ in range(1001)]}, ["1000"]),
    ({"Rules": ["x"]}, ["#1"]),
    ({"Rules": [{"Status": "Enabled", "Expiration": {"Days": 1}}]}, ["Rule #1: ID is required"]),
    (
        {"Rules": [{"ID": "x", "Status": "Enabled", "Expiration": {"days": 1}}]},
        ['unknown field "Expiration.days"'],
    ),
    ({"Rules": [{"ID": "x", "status": "Enabled"}]}, ['unknown field "status"']),
    (
        {"Rules": [{"ID": "x", "Status": "Enabled", "Transitions": []}]},
        ["Transitions is not supported"],
    ),
    (
        {"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {"Tag": {}}}]},
        ["Filter.Tag is not supported"],
    ),
    (
        {"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {"And": {}}}]},
        ["Filter.And is not supported"],
    ),
    (
        {
            "Rules": [
                {"ID": "x", "Status": "Enabled", "Expiration": {"Date": "2027-01-01T00:00:00Z"}}
            ]
        },
        ["Expiration.Date is not supported"],
    ),
    (
        {
            "Rules": [
                {
                    "ID": "x",
                    "Status": "Enabled",
                    "NoncurrentVersionExpiration": {
                        "NoncurrentDays": 1,
                        "NewerNoncurrentVersions": 3,
                    },
                }
            ]
        },
        ["NewerNoncurrentVersions is not supported"],
    ),
    (
        {"Rules": [{"ID": "x", "Status": "Enabled", "Prefix": "a", "Filter": {"Prefix": "a"}}]},
        ["not both"],
    ),
    (
        {"Rules": [{"ID": "x", "Status": "Enabled", "Expiration": 30}]},
        ["Expiration must hold exactly one field, Days"],
    ),
    (
        {"Rules": [{"ID": "x", "Status": "Enabled", "Expiration": {"Days": "30"}}]},
        ["Expiration.Days must be a whole number"],
    ),
    (
        {"Rules": [{"ID": "x", "Status": "Enabled", "Expiration": {"Days": 1e400}}]},
        ["Expiration.Days"],
    ),
    ({"Rules": [{"ID": "x", "Status": "Enabled"}]}, ["at least one action: Expiration.Days"]),
]


@pytest.mark.parametrize(("document", "words"), S3_BAD)
def test_bad_s3_documents_name_the_rule_and_the_field(document, words):
    with pytest.raises(InvalidRule) as info:
        from_s3(document)
    message = (
        info.value.errors[0].message if isinstance(info.value, InvalidRules) else info.value.message
    )
    for word in words:
        assert word in message


HOSTILE = [
    # (bytes or text, words of the message)
    (b"", ["Paste"]),
    (b"   \n", ["Paste"]),
    (b"{", ["not valid JSON", "line 1"]),
    (b'{"Rules": [}', ["not valid JSON"]),
    (b"\xff\xfe{}", ["UTF-8"]),
    (b'{"Rules": [], "Rules": []}', ['"Rules" appears twice']),
    (b'{"Rules": [{"ID": "a", "ID": "b"}]}', ['"ID" appears twice']),
    (b'{"Rules": [NaN]}', ["number"]),
    (b'{"Rules": [Infinity]}', ["number"]),
    (b'{"Rules": [' + b"9" * 5000 + b"]}", ["number"]),
    (b"[" * 100_000 + b"]" * 100_000, ["nested too deeply"]),
    (b'{"Rules": []}' + b" " * (1024 * 1024), ["at most 1 MB"]),
    (b'{"Rules": ["\x00"]}', ["not valid JSON"]),
]


@pytest.mark.parametrize(("data", "words"), HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_json_is_refused_with_a_message(data, words):
    with pytest.raises(Invalid) as info:
        parse_document(data)
    assert info.value.field == "document"
    for word in words:
        assert word in info.value.message


def test_a_bom_and_escaped_characters_are_read():
    assert parse_document('\ufeff{"Rules": []}'.encode()) == {"Rules": []}
    with pytest.raises(InvalidRule) as info:
        from_s3(parse_document(b'{"Rules": [{"ID": "a\\u0000", "Status": "Enabled"}]}'))
    assert "cannot be stored" in info.value.message


def test_a_document_of_exactly_1_mb_is_read():
    body = b'{"Rules": []}'
    data = body + b" " * (MAX_DOCUMENT_BYTES - len(body))
    assert parse_document(data) == {"Rules": []}
