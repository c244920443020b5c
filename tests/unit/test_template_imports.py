"""portal.templating.PortalTemplate: ``{% from … import … %}`` reuses the imported
template's module when the render brings no global it lacks (as Jinja's own check finds),
and still builds a module of its own when it does."""

from __future__ import annotations

import pytest
from jinja2 import ChoiceLoader, DictLoader, Environment, Template

from portal import create_app
from portal.templating import PortalTemplate

TEMPLATES = {
    "m.html": "{% macro hello(n) %}hi {{ n }}{{ extra|default('') }}{% endmacro %}",
    "row.html": '{% from "m.html" import hello %}<{{ hello(k) }}>',
    "loop.html": "{% for k in range(3) %}{% include 'row.html' %}{% endfor %}",
}


@pytest.fixture(scope="module")
def env():
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "imports-test",
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none",
        }
    )
    app.jinja_env.loader = ChoiceLoader([DictLoader(TEMPLATES), app.jinja_env.loader])
    with app.test_request_context("/"):
        yield app.jinja_env


def test_the_cached_module_when_nothing_is_new(env):
    assert env.template_class is PortalTemplate
    assert env.get_template("loop.html").render() == "<hi 0><hi 1><hi 2>"
    imported = env.get_template("m.html")
    assert imported._module is not None  # Jinja's cached module was used


def test_the_same_output_as_jinja_with_globals_of_a_render():
    templates = {**TEMPLATES, "direct.html": '{% from "m.html" import hello %}<{{ hello(1) }}>'}
    renders = [
        ("loop.html", None),
        ("loop.html", {"extra": "!"}),
        ("direct.html", {"extra": "?"}),  # a global the imported template lacks
        ("direct.html", None),
        ("loop.html", None),
    ]
    outputs = []
    for template_class in (Template, PortalTemplate):
        env = Environment(loader=DictLoader(templates), autoescape=True)
        env.template_class = template_class
        outputs.append([env.get_template(n, globals=g).render() for n, g in renders])
    assert outputs[0] == outputs[1]
    assert "<hi 1?>" in outputs[1]
