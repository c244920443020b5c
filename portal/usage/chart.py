"""The daily usage chart, drawn on the server as an inline SVG: no JavaScript, no charting
library, nothing the strict CSP would refuse (no ``style`` attributes: colours come from
classes in static/css/app.css; SVG presentation attributes are markup, not styles).

Two panels share the days on the x axis: storage (GB stored on average each day) as a
line over a filled area, egress (GB transferred each day) as bars. The SVG is
``role="img"`` with a title and a description naming each series' peak; the page lists
every number in a table under it as well. The geometry is computed here; templates/billing/_usage_chart.html writes the SVG
(autoescaped, like every page). The viewBox is 400 units wide, so at a phone's 360 CSS pixels the 12-unit
labels stay readable, and the page scales it to its column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from babel.dates import format_skeleton
from flask_babel import format_date, format_decimal, get_locale, gettext

from portal.usage.services import Day

WIDTH = 400
PANEL = 120  # height of each panel
LEFT = 48  # room for the y-axis labels
RIGHT = 8
TOP = 22
GAP = 44  # between the panels: the second panel's title
BOTTOM = 22  # the x-axis labels
HEIGHT = TOP + PANEL + GAP + PANEL + BOTTOM


def nice_max(value: Decimal) -> Decimal:
    """A round axis maximum at or above ``value`` (1, 2, 2.5 or 5 × a power of ten)."""
    if value <= 0:
        return Decimal(1)
    exponent = value.adjusted()
    for step in (1, 2, Decimal("2.5"), 5, 10):
        candidate = Decimal(step).scaleb(exponent)
        if candidate >= value:
            return candidate
    return Decimal(10).scaleb(exponent)


def _n(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class _Panel:
    top: float
    maximum: Decimal

    def y(self, value: Decimal) -> float:
        return self.top + PANEL - float(value / self.maximum) * PANEL


@dataclass(frozen=True)
class Axis:
    title: str
    unit: str
    title_y: str
    lines: list[tuple[str, str]]  # (y, label)


@dataclass(frozen=True)
class Chart:
    """What templates/billing/_usage_chart.html draws (coordinates already formatted)."""

    width: int
    height: int
    left: int
    right: int
    axes: list[Axis]
    storage_points: str
    storage_area: str
    bars: list[tuple[str, str, str, str]]  # (x, y, width, height)
    labels: list[tuple[str, str, str, str]]  # (x, y, text-anchor, text)
    title: str
    description: str


def _axis(panel: _Panel, title: str, unit: str) -> Axis:
    lines = []
    for fraction in (0, Decimal("0.5"), 1):
        value = panel.maximum * fraction
        lines.append((_n(panel.y(value)), format_decimal(value.normalize())))
    return Axis(title, unit, _n(panel.top - 8), lines)


def daily_chart(days: Sequence[Day]) -> Chart:
    """The drawing of ``days`` (oldest first)."""
    count = max(len(days), 1)
    step = (WIDTH - LEFT - RIGHT) / count
    storage = _Panel(TOP, nice_max(max((d.storage_gb for d in days), default=Decimal(0))))
    egress = _Panel(
        TOP + PANEL + GAP, nice_max(max((d.egress_gb for d in days), default=Decimal(0)))
    )

    def x(i: int) -> float:
        return LEFT + step * i + step / 2

    points = area = ""
    if days:
        points = " ".join(f"{_n(x(i))},{_n(storage.y(d.storage_gb))}" for i, d in enumerate(days))
        base = _n(storage.y(Decimal(0)))
        area = f"{_n(x(0))},{base} {points} {_n(x(len(days) - 1))},{base}"
    bar = max(step * 0.7, 1)
    bars = []
    for i, d in enumerate(days):
        top = egress.y(d.egress_gb)
        height = egress.y(Decimal(0)) - top
        if height > 0:
            bars.append((_n(x(i) - bar / 2), _n(top), _n(bar), _n(height)))
    labels = []
    if days:
        for i, anchor in ((0, "start"), (len(days) // 2, "middle"), (len(days) - 1, "end")):
            at = LEFT if anchor == "start" else (WIDTH - RIGHT if anchor == "end" else x(i))
            labels.append(
                (
                    _n(at),
                    _n(HEIGHT - 6),
                    anchor,
                    format_skeleton("MMMd", days[i].day, locale=get_locale()),
                )
            )

    peak_storage = max(days, key=lambda d: d.storage_gb, default=None)
    peak_egress = max(days, key=lambda d: d.egress_gb, default=None)
    if peak_storage is None or (not peak_storage.storage_gb and not peak_egress.egress_gb):
        description = gettext("No storage or egress was metered in these days.")
    else:
        description = gettext(
            "Storage peaked at %(storage)s GB on %(storage_day)s; egress peaked at "
            "%(egress)s GB on %(egress_day)s. The table below lists every day.",
            storage=format_decimal(peak_storage.storage_gb),
            storage_day=format_date(peak_storage.day, "long"),
            egress=format_decimal(peak_egress.egress_gb),
            egress_day=format_date(peak_egress.day, "long"),
        )
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right=WIDTH - RIGHT,
        axes=[
            _axis(storage, gettext("Storage per day (average)"), gettext("GB")),
            _axis(egress, gettext("Egress per day"), gettext("GB")),
        ],
        storage_points=points,
        storage_area=area,
        bars=bars,
        labels=labels,
        title=gettext("Daily storage and egress, last %(days)s days", days=len(days)),
        description=description,
    )
