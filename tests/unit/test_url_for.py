"""portal.links.url_for (templates' url_for): the same URL as Flask's for every route of the
portal, with query-string extras and None values, and Flask's own answer (or error) for
what it does not handle itself."""

from __future__ import annotations

import flask
import pytest
from werkzeug.routing import BuildError

from portal import create_app, links

SAMPLES = {"IntegerConverter": 7, "BigintConverter": 123456789012}


@pytest.fixture(scope="module")
def bare_app():
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "url-test",
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none",
        }
    )


def _sample(rule, name):
    converter = rule._converters[name]
    kind = type(converter).__name__
    if kind in SAMPLES:
        return SAMPLES[kind]
    if kind == "KeyIdConverter":
        return "PC" + "A1" * 9
    if kind == "AnyConverter":
        return sorted(converter.items)[0]
    if kind == "PathConverter":
        return "css/app é.css"
    return "foto é/1"


def test_every_route_as_flask_builds_it(bare_app):
    rules = list(bare_app.url_map.iter_rules())
    assert len(rules) > 50
    with bare_app.test_request_context("/accounts/1/"):
        for rule in rules:
            values = {name: _sample(rule, name) for name in rule.arguments}
            for extra in ({}, {"q": "a b&c", "page": 2}, {"status": None}):
                args = {**values, **extra}
                assert links.url_for(rule.endpoint, **args) == flask.url_for(
                    rule.endpoint, **args
                ), rule


def test_what_flask_answers_itself(bare_app):
    with bare_app.test_request_context("/accounts/1/"):
        assert links.url_for("main.index", _external=True) == "http://localhost/"
        assert links.url_for("main.index", _anchor="x") == "/#x"
        with pytest.raises(BuildError):
            links.url_for("no.such_endpoint")
        with pytest.raises(BuildError):
            links.url_for("accounts.dashboard")  # its account_id is missing
    with bare_app.app_context(), pytest.raises(RuntimeError):
        links.url_for("main.index")  # no request, no SERVER_NAME: Flask's own error
