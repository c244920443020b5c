"""Locale and time-zone selection: the user's choice, then the session's (for visitors who
picked a language before logging in), then Accept-Language, then pt-BR. And the
translations' lookup, once per request (templates and Python code alike)."""

from __future__ import annotations

from functools import cached_property, lru_cache

from flask import current_app, g, has_app_context, has_request_context, request, session
from flask.globals import _cv_app
from flask_babel import Babel, Domain, get_domain, get_locale, get_translations
from flask_login import current_user
from jinja2 import pass_eval_context
from markupsafe import Markup

LANGUAGE_NAMES = {"pt_BR": "Português (Brasil)", "en": "English"}


def select_locale() -> str:
    if not has_request_context():  # CLI commands: the default (emails use force_locale)
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in languages:
        return chosen
    # Accept-Language uses "pt-BR"; werkzeug matches it against "pt_BR" case-insensitively
    # only with the hyphen form, so compare in that form and map back.
    hyphenated = {code.replace("_", "-"): code for code in languages}
    best = request.accept_languages.best_match(list(hyphenated), default=None)
    if best is None:
        # "pt" or "pt-PT" still prefer Portuguese over English.
        if any(lang.lower().startswith("pt") for lang, _q in request.accept_languages):
            return "pt_BR"
        if any(lang.lower().startswith("en") for lang, _q in request.accept_languages):
            return "en"
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    return hyphenated[best]


def select_timezone() -> str:
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_TIMEZONE"]
    if current_user and current_user.is_authenticated and current_user.timezone:
        return current_user.timezone
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


# ------------------------------------------------------------ translations, fast ---
def request_translations():
    """The translations of the current locale, looked up once per request.

    Flask-Babel finds them on every call (domain, locale, the catalogue cache keyed by the
    locale's name): about 12 µs, and a page translates hundreds of strings. The catalogues
    themselves are per-process constants (Flask-Babel loads each once); only which one this
    request uses is remembered, in ``g``, keyed by the locale object itself, so a
    ``force_locale`` block (an email in the recipient's language) gets its own. Python code
    gets the same through :class:`RequestDomain`; templates through
    :func:`install_template_gettext`."""
    if not has_app_context():
        return get_translations()
    return _request_entry(g._get_current_object())[1]


def _request_entry(ns) -> tuple:
    """``(locale, translations, memo)`` of the current request and locale (an app context
    is there; ``ns`` its ``g``): ``memo`` holds the template ``_()`` results of this
    request and locale."""
    memo = getattr(ns, "_portal_translations", None)
    # Flask-Babel keeps the request's locale in g._flask_babel.babel_locale (force_locale
    # swaps it): read it directly; were that to change, the slow path below still answers.
    current = getattr(getattr(ns, "_flask_babel", None), "babel_locale", None)
    if memo is not None and current is not None and memo[0] is current:
        return memo
    locale = get_locale()
    memo = ns._portal_translations = (locale, _DOMAIN_LOOKUP(get_domain()), {})
    return memo


_DOMAIN_LOOKUP = Domain.get_translations  # Flask-Babel's own lookup (the slow path)


class RequestDomain(Domain):
    """Flask-Babel's domain whose lookup goes through :func:`request_translations`, so
    ``gettext()``, ``lazy_gettext()`` and the formatting helpers in Python code share the
    per-request memo."""

    def get_translations(self):
        app_ctx = _cv_app.get(None)
        if app_ctx is None:
            return _DOMAIN_LOOKUP(self)
        return _request_entry(app_ctx.g)[1]


class PortalBabel(Babel):
    @cached_property
    def domain_instance(self):
        return RequestDomain(domain=self.domain)


def install_template_gettext(app) -> None:
    """Templates' ``_()``, ``ngettext()``, ``pgettext()`` through :func:`request_translations`
    (same newstyle semantics as Flask-Babel's own: autoescaping, ``%(name)s`` variables)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    # ``_()`` and ``gettext()`` themselves: Jinja's newstyle wrappers go through two
    # context calls per use; this one does the same work (autoescape-aware, always
    # %-formatted, as newstyle gettext is) in one.
    app.jinja_env.globals["_"] = app.jinja_env.globals["gettext"] = template_gettext


@pass_eval_context
def template_gettext(eval_ctx, string: str, /, **variables) -> str:
    app_ctx = _cv_app.get(None)
    if not variables and app_ctx is not None:
        # The same words come back on every row: their result is kept for this request
        # (and locale) only, in the request's translations entry.
        _locale, translations, memo = _request_entry(app_ctx.g)
        key = (string, eval_ctx.autoescape)
        rv = memo.get(key)
        if rv is None:
            rv = translations.ugettext(string)
            if eval_ctx.autoescape:
                rv = Markup(rv)  # noqa: S704 - our own catalogue, as Jinja does
            rv = memo[key] = rv % variables
        return rv
    rv = request_translations().ugettext(string)
    if eval_ctx.autoescape:
        rv = Markup(rv)  # noqa: S704 - our own catalogue, as Jinja does; variables escaped
    return rv % variables


def translated_once(name: str, build):
    """``build()`` — a table of translated labels — made once per request and locale (a
    list page names the same few roles or statuses on every row). Never shared between
    requests: each one builds its own."""
    app_ctx = _cv_app.get(None)
    if app_ctx is None:
        return build()
    memo = _request_entry(app_ctx.g)[2]  # this request's and locale's
    key = ("translated_once", name)
    table = memo.get(key)
    if table is None:
        table = memo[key] = build()
    return table


# -------------------------------------------------- WTForms' own messages, loaded once ---
@lru_cache(maxsize=16)
def _wtforms_catalogue(locale_name: str):
    from babel import support
    from wtforms.i18n import messages_path

    return support.Translations.load(messages_path(), [locale_name], domain="wtforms")


def wtforms_translations():
    """Flask-WTF's ``_get_translations`` (WTForms' own messages: "Not a valid choice"…),
    with the catalogue read once per process and locale: Flask-WTF reads and parses the .mo
    file from disk on every request that builds a form (~0.3 ms). Which one a request uses
    is still chosen per request, as Flask-WTF does (kept on the request)."""
    if not request:
        return None
    if "babel" not in current_app.extensions:
        return None
    translations = getattr(request, "wtforms_translations", None)
    if translations is None:
        translations = _wtforms_catalogue(str(get_locale()))
        request.wtforms_translations = translations
    return translations


def install_wtforms_translations() -> None:
    import flask_wtf.i18n

    flask_wtf.i18n._get_translations = wtforms_translations
