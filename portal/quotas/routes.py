"""/accounts/<id>/quotas: each quota with what is used against it."""

from __future__ import annotations

from flask import Blueprint
from flask_login import login_required

from portal import web
from portal.quotas import services

bp = Blueprint("quotas", __name__)


@bp.get("/accounts/<int:account_id>/quotas")
@login_required
def index(account_id: int):
    quotas = services.quotas_page(web.actor(), account_id)
    return web.account_page("quotas/index.html", "quotas/_meters.html", quotas, quotas=quotas)
