"""The signed-in person's notifications."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from portal.notifications import services

bp = Blueprint("notifications", __name__)


@bp.get("/notifications/badge")
@login_required
def badge():
    """The unread badge alone, polled by htmx from every page."""
    return render_template("notifications/_badge.html")


def badge_count() -> int:
    return services.unread_count(current_user._get_current_object())
