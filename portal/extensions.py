"""Extension objects, created unbound and initialised by :func:`portal.create_app`."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from portal.i18n import PortalBabel
from portal.models.base import db

__all__ = ["babel", "csrf", "db", "limiter", "login_manager", "migrate"]
migrate = Migrate(compare_type=True, render_as_batch=False)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = PortalBabel()  # translations looked up once per request (portal.i18n)
limiter = Limiter(key_func=get_remote_address, default_limits=[])
