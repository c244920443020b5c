"""Forms of the members page: the shape of the input only."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField


class RoleForm(FlaskForm):
    # The template renders the <select> of each row itself (one id per row); any string
    # reaches the service, which answers an unknown role with a clear message.
    role = StringField(_l("Role"))
