"""Every audit action reads as a translated sentence and has a label for the filter."""

from __future__ import annotations

import re

import pytest

from portal.audit import Action
from portal.audit_log import messages


def test_every_action_has_a_label_and_a_sentence():
    assert set(messages.LABELS) == set(Action)
    assert set(messages.SENTENCES) == set(Action)


@pytest.mark.parametrize("action", list(Action), ids=lambda a: a.value)
def test_each_sentence_formats_with_and_without_a_target(app_ctx, action):
    template = str(messages.SENTENCES[action]._args[0])
    assert set(re.findall(r"%\((\w+)\)s", template)) <= {"target"}
    with_label = messages.sentence(action.value, "bucket", "12", "fotos-2025")
    without = messages.sentence(action.value, None, None, None)
    assert with_label.endswith(".") and "%(" not in with_label and "%(" not in without
    if "%(target)s" in template:
        assert "fotos-2025" in with_label
        assert "—" in without
    assert messages.label(action.value) == str(messages.LABELS[action])


def test_a_target_without_label_falls_back_to_its_type_and_id(app_ctx):
    assert messages.sentence("bucket.deleted", "bucket", "42", None) == (
        "Deleted the bucket bucket #42."
    )


def test_unknown_actions_still_read_as_a_sentence(app_ctx):
    assert messages.sentence("future.thing") == "Performed the action future.thing."
    assert messages.label("future.thing") == "future.thing"


@pytest.mark.parametrize(
    ("action", "details", "expected"),
    [
        (
            "bucket.versioning_changed",
            {"from": "unversioned", "to": "enabled"},
            "Enabled versioning on the bucket fotos.",
        ),
        (
            "bucket.versioning_changed",
            {"from": "enabled", "to": "suspended"},
            "Suspended versioning on the bucket fotos.",
        ),
        (
            "bucket.lifecycle_changed",
            {"change": "added", "rule": "logs"},
            "Added the lifecycle rule “logs” to the bucket fotos.",
        ),
        (
            "bucket.lifecycle_changed",
            {"change": "disabled", "rule": "logs"},
            "Disabled the lifecycle rule “logs” of the bucket fotos.",
        ),
        (
            "bucket.lifecycle_changed",
            {"change": "imported", "rules": 3},
            "Replaced the lifecycle rules of the bucket fotos with an imported configuration.",
        ),
        # A detail without the parameter its finer sentence needs: the action's sentence.
        (
            "bucket.lifecycle_changed",
            {"change": "added"},
            "Changed the lifecycle rules of the bucket fotos.",
        ),
        (
            "bucket.lifecycle_changed",
            {"change": "renamed"},
            "Changed the lifecycle rules of the bucket fotos.",
        ),
    ],
)
def test_bucket_sentences_use_their_details(app_ctx, action, details, expected):
    assert messages.sentence(action, "bucket", "7", "fotos", details) == expected


def test_finer_sentences_are_translated(app):
    with app.test_request_context(headers={"Accept-Language": "pt-BR"}):
        text = messages.sentence(
            "bucket.versioning_changed", "bucket", "7", "fotos", {"to": "enabled"}
        )
    assert text == "Ativou o versionamento do bucket fotos."
