"""Forms of the billing pages: the shape of the input only. The rules (which product, how
many, which moves) live in the services, which answer bad values with a message on the
field."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField

from portal.billing import orders
from portal.pagination import ListForm


class OrderForm(FlaskForm):
    """Place an order: one product of the catalog (radio buttons drawn by the template) and
    a quantity from 1 to 1000 (any text reaches the service, which explains what it
    needs)."""

    product = StringField(_l("Product"))
    quantity = StringField(_l("Quantity"), default="1")


class OrdersListForm(ListForm):
    """The pager of an organization's orders (no filters)."""

    keyset = orders.ORDER
