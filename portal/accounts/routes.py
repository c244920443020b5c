# PLACEHOLDER (replaced by the organizations work): endpoints base.html links to.
from flask import Blueprint, abort

bp = Blueprint("accounts", __name__, url_prefix="/accounts")


@bp.route("/new", methods=["GET", "POST"])
def new():
    abort(404)


@bp.get("/<int:account_id>/")
def dashboard(account_id):
    abort(404)
