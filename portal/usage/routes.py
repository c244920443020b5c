"""Usage on the billing page (``#usage``, a section of :mod:`portal.billing.sections`) and
its CSV export — owners, admins and billing members, like the rest of the page (other
members 403, other people 404).

- ``/accounts/<id>/billing?days=30|90``: the page; the chart's switch is a link that
  works without JavaScript; with htmx it swaps only ``#usage`` from
  ``/accounts/<id>/billing/usage?days=…`` (and pushes the page's URL). Another ``days``
  is a 422 with the message next to the switch (the 30-day chart is drawn meanwhile).
- ``/accounts/<id>/billing/usage.csv?month=YYYY-MM``: the month's records (this month
  without ``month``), streamed; a bad month is the page again, 422, with the message next
  to the export form.

Registered on the billing blueprint (this module is imported by
:mod:`portal.billing.routes`, so the endpoints are ``billing.usage`` and
``billing.usage_csv``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from babel.dates import format_skeleton
from flask import Response, request, stream_with_context, url_for
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from portal import web
from portal.audit_log.export import neutralize
from portal.billing.routes import _page, _view, bp
from portal.billing.sections import BillingView, section
from portal.formats import request_formats
from portal.usage import services
from portal.usage.chart import daily_chart

FLUSH_EVERY = 500  # CSV rows per chunk sent


def _days(view: BillingView) -> tuple[int, str | None]:
    raw = view.args.get("days")
    if raw in (None, ""):
        return services.CHART_DAYS[0], None
    if raw in {str(d) for d in services.CHART_DAYS}:
        return int(raw), None
    view.status = 422
    return services.CHART_DAYS[0], gettext("Choose 30 or 90 days.")


@section("usage", _l("Usage"), "billing/_usage.html", position=40)
def _usage(view: BillingView):
    """One statement (:func:`services.overview`)."""
    days, days_error = _days(view)
    usage = services.overview(view.account.id, days)
    summary, series = usage.summary, usage.days
    month = summary.this_month.month
    return {
        "summary": summary,
        "days": days,
        "day_choices": services.CHART_DAYS,
        "days_error": days_error,
        "series": series,
        "chart": daily_chart(series),
        "buckets": usage.buckets,
        "more_buckets": usage.more_buckets,
        "buckets_shown": services.BUCKETS_SHOWN,
        "month": month,
        "export_months": [m.month for m in (summary.this_month, *summary.months)],
        "export_error": view.messages.get("usage_export"),
    }


@bp.get("/accounts/<int:account_id>/billing/usage", endpoint="usage")
@login_required
def usage_section(account_id: int):
    """The chart's switch: the ``#usage`` section for htmx, else the whole page."""
    view = _view(account_id)
    if web.is_partial():
        return _page(view, partial="billing/_usage.html", only="usage")
    return _page(view)


def _csv(rows: Iterable[tuple]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(services.CSV_HEADER)
    for n, row in enumerate(rows, 1):
        writer.writerow([neutralize(cell) for cell in row])
        if n % FLUSH_EVERY == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@bp.get("/accounts/<int:account_id>/billing/usage.csv", endpoint="usage_csv")
@login_required
def usage_csv(account_id: int):
    view = _view(account_id)  # the permission first: 403/404 whatever was asked
    month = services.parse_month(request.args.get("month"))
    if month is None:
        view.messages["usage_export"] = gettext(
            "Choose a month from the list (YYYY-MM, not in the future)."
        )
        return _page(view, 422)
    rows = services.export_rows(web.actor(), account_id, month)
    response = Response(stream_with_context(_csv(rows)), content_type="text/csv; charset=utf-8")
    name = f"primecloud-usage-{account_id}-{month:%Y-%m}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def export_url(account_id: int, month) -> str:
    return url_for("billing.usage_csv", account_id=account_id, month=f"{month:%Y-%m}")


def month_label(month) -> str:
    """ "November 2026", "novembro de 2026": the reader's language's own pattern."""
    return format_skeleton("yMMMM", month, locale=get_locale())


def day_label(day) -> str:
    return request_formats().date(day, "medium")


@bp.app_context_processor
def usage_helpers():
    return {
        "usage_export_url": export_url,
        "usage_month_label": month_label,
        "usage_day_label": day_label,
    }
