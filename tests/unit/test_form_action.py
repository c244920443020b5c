"""The row action form (templates/_macros/actions.html's ``action``, written in Python as
portal.templating.form_action): byte for byte the HTML of the macro it replaced, with and
without a call block, every option, values escaped."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from portal import create_app

# The macro as it was (the reference).
MACRO = """{% macro action(url, label, target, confirm=None, kind="secondary", named=None, form_class=None) -%}
  <form method="post"{% if form_class %} class="{{ form_class }}"{% endif %} action="{{ url }}" hx-post="{{ url }}"
        hx-target="{{ target }}" hx-swap="outerHTML"{% if confirm %} hx-confirm="{{ confirm }}"{% endif %}>
    <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
    {% if caller is defined %}{{ caller() }}{% endif %}
    <button type="submit"{% if kind %} class="{{ kind }}"{% endif %}>{{ label }}{% if named %}<span class="visually-hidden"> {{ named }}</span>{% endif %}</button>
  </form>
{%- endmacro %}
"""

CALLS = [
    '{{ action("/a/1", "Rotate", "#k-1") }}',
    '{% call action("/a/1?x=1&y=2", "Rotate", "#k-1", confirm="Sure <b>?", named="k <1>") %}'
    '<input type="hidden" name="back" value="/x">{% endcall %}',
    '{{ action("/b", label, "#r", kind="danger", named=name, form_class="role-form") }}',
    '{{ action("/b", label, "#r", kind=None, confirm=confirm) }}',
    '{% call action(url=u, label="Go", target="#t", kind="") %}{{ name }}{% endcall %}',
]


@pytest.fixture(scope="module")
def bare_app():
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "action-test",
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none",
        }
    )


@pytest.mark.parametrize("call", CALLS)
def test_the_same_html_as_the_macro(bare_app, call):
    env = bare_app.jinja_env
    values = {
        "label": "Remove <x>",
        "name": "Ana & Bia",
        "confirm": Markup("Remove <b>Ana</b>?"),
        "u": "/u?a=1&b=2",
    }
    with bare_app.test_request_context("/"):
        old = env.from_string(MACRO.rstrip("\n") + call).render(**values)
        new = env.from_string('{% from "_macros/actions.html" import action %}' + call).render(
            **values
        )
    assert new == old
    assert "csrf_token" in new
