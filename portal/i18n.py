"""Locale and time-zone selection: the user's choice, then the session's (for visitors who
picked a language before logging in), then Accept-Language, then pt-BR."""

from __future__ import annotations

from flask import current_app, has_request_context, request, session
from flask_login import current_user

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
