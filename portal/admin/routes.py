"""Platform admin pages (platform admins only: others get 403, visitors the login page).

The admin home lives here; the platform's audit log is /admin/audit (portal.audit_log)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from portal.admin import services

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@login_required
def index():
    overview = services.overview(current_user._get_current_object())
    return render_template("admin/index.html", overview=overview)
