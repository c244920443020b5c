"""Templates' ``_()``: a result kept for the request (and locale) only — the same text as
without the memo, in another language inside force_locale, escaped only where the template
autoescapes, %-formatted as newstyle gettext is, and never shared between requests."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from portal import create_app


@pytest.fixture(scope="module")
def bare_app():
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "gettext-test",
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none",
        }
    )


def test_memo_follows_the_locale_and_the_request(bare_app):
    page = bare_app.jinja_env.from_string(
        "{{ _('Name') }}|{{ _('Name') }}|{{ _('Log out') }}|{{ _('100%% <b>') }}"
    )
    with bare_app.test_request_context(headers={"Accept-Language": "pt-BR"}):
        assert page.render() == "Nome|Nome|Sair|100% <b>"
        assert page.render() == "Nome|Nome|Sair|100% <b>"
        with force_locale("en"):
            assert page.render() == "Name|Name|Log out|100% <b>"
        assert page.render() == "Nome|Nome|Sair|100% <b>"
    with bare_app.test_request_context(headers={"Accept-Language": "en"}):
        assert page.render() == "Name|Name|Log out|100% <b>"


def test_escaping_as_the_template_says(bare_app):
    env = bare_app.jinja_env
    with bare_app.test_request_context(headers={"Accept-Language": "en"}):
        variables = env.from_string(
            "{% autoescape true %}{{ _('by %(name)s', name=n) }}{% endautoescape %}"
            "|{% autoescape false %}{{ _('by %(name)s', name=n) }}{% endautoescape %}"
        )
        assert variables.render(n="<x>") == "by &lt;x&gt;|by <x>"
        # The same words, first where the template escapes, then where it does not: the
        # memo keeps the two apart (Markup for HTML, plain text for an email's text part).
        both = env.from_string(
            "{% autoescape true %}{{ _('Name') ~ '<' }}{% endautoescape %}"
            "|{% autoescape false %}{{ _('Name') ~ '<' }}{% endautoescape %}"
        )
        assert both.render() == "Name&lt;|Name<"


def test_translated_once_per_request_and_locale(bare_app):
    from flask_babel import gettext

    from portal.i18n import translated_once

    built = []

    def build():
        built.append(1)
        return {"name": gettext("Name")}

    with bare_app.test_request_context(headers={"Accept-Language": "pt-BR"}):
        assert translated_once("t", build) == {"name": "Nome"}
        assert translated_once("t", build) == {"name": "Nome"}
        assert len(built) == 1
        with force_locale("en"):
            assert translated_once("t", build) == {"name": "Name"}
        assert translated_once("t", build) == {"name": "Nome"}
    with bare_app.test_request_context(headers={"Accept-Language": "pt-BR"}):
        before = len(built)
        assert translated_once("t", build) == {"name": "Nome"}
        assert len(built) == before + 1  # never shared between requests


def test_wtforms_messages_in_the_request_language_read_once(bare_app):
    import flask_wtf.i18n

    from portal.i18n import wtforms_translations

    assert flask_wtf.i18n._get_translations is wtforms_translations
    message = "Not a valid choice."
    with bare_app.test_request_context(headers={"Accept-Language": "pt-BR"}):
        pt = flask_wtf.i18n.translations.gettext(message)
        first = wtforms_translations()
    with bare_app.test_request_context(headers={"Accept-Language": "pt-BR"}):
        assert flask_wtf.i18n.translations.gettext(message) == pt
        assert wtforms_translations() is first  # the catalogue: once per process and locale
    with bare_app.test_request_context(headers={"Accept-Language": "en"}):
        assert flask_wtf.i18n.translations.gettext(message) == message
    assert pt != message
