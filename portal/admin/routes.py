# PLACEHOLDER (replaced by the audit/admin work): endpoint base.html links to.
from flask import Blueprint, abort

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
def index():
    abort(404)
