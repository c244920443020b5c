"""The keys scope fields' bucket checkboxes, built in Python (portal.keys.routes
.bucket_choices): the same HTML as the Jinja loop they replace, names escaped."""

from __future__ import annotations

import re

import pytest
from jinja2 import Environment

from portal.keys.routes import bucket_choices

LOOP = """{% for id, name in buckets %}
        <div class="checkbox">
          <input type="checkbox" name="buckets" value="{{ id }}" id="{{ idp }}bucket-choice-{{ id }}"{% if id in chosen %} checked{% endif %}{% if invalid %} aria-invalid="true" aria-describedby="{{ idp }}buckets-error"{% endif %}>
          <label for="{{ idp }}bucket-choice-{{ id }}">{{ name }}</label>
        </div>
      {% endfor %}"""


def _squeeze(html: str) -> str:
    return re.sub(r"\s+", " ", str(html)).strip()


@pytest.mark.parametrize("invalid", [False, ["Choose a bucket."]])
@pytest.mark.parametrize("idp", ["", "edit-7-"])
def test_the_same_html_as_the_loop(invalid, idp):
    buckets = [(1, "fotos"), (22, "<script>&\"'"), (333, "backup-2026")]
    chosen = {22, 333}
    expected = (
        Environment(autoescape=True)
        .from_string(LOOP)
        .render(buckets=buckets, chosen=chosen, idp=idp, invalid=invalid)
    )
    assert _squeeze(bucket_choices(buckets, chosen, idp, invalid)) == _squeeze(expected)
    assert "&lt;script&gt;" in bucket_choices(buckets, chosen, idp, invalid)


def test_no_buckets():
    assert bucket_choices([], set(), "", False) == ""
