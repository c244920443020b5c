"""Products, orders and subscriptions: the catalog staff keep, the orders customers place
and staff mark paid and fulfil, and the subscriptions fulfilment creates or extends.

- :mod:`portal.billing.catalog`: products (staff), and the active catalog customers buy from;
- :mod:`portal.billing.orders`: placing, paying, fulfilling and cancelling orders, and the
  two order lists (the fulfilment queue, an organization's history);
- :mod:`portal.billing.subscriptions`: an organization's subscriptions, cancelling one;
- :mod:`portal.billing.notices`: who hears about a billing event (owners and billing
  members: a notification and an email in their language);
- :mod:`portal.billing.sections`: the sections of ``/accounts/<id>/billing``, a list other
  billing domains (usage, invoices) append to;
- :mod:`portal.billing.routes`: the customer's billing page; the staff pages are
  ``portal.admin.products`` and ``portal.admin.orders``.
"""

from portal.billing import targets  # noqa: F401  (registers the audit targets)
