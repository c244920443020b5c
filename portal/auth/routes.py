# PLACEHOLDER (replaced by the auth work): endpoints base.html links to.
from flask import Blueprint, abort

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    abort(404)


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    abort(404)


@bp.post("/logout")
def logout():
    abort(404)
