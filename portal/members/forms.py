"""Forms of the members page: the shape of the input only."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, Optional

from portal.members.services import ORDER, SEARCH_MAX
from portal.pagination import ListForm


class RoleForm(FlaskForm):
    # The template renders the <select> of each row itself (one id per row); any string
    # reaches the service, which answers an unknown role with a clear message.
    role = StringField(_l("Role"))


class MemberFilterForm(ListForm):
    """The list's search (a part of a name or an email), kept in the URL."""

    keyset = ORDER
    q = StringField(
        _l("Name or email contains"),
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[Optional(), Length(max=SEARCH_MAX)],
    )
