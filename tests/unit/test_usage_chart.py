"""The server-drawn usage chart: round axis maxima, one bar per day with egress, a summary
that names the peaks, nothing drawn outside the viewBox."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from portal.usage.chart import HEIGHT, WIDTH, daily_chart, nice_max
from portal.usage.services import Day


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", "1"),
        ("0.3", "0.5"),
        ("1", "1"),
        ("1.2", "2"),
        ("2.2", "2.5"),
        ("7", "10"),
        ("120", "200"),
        ("2400", "2500"),
    ],
)
def test_axis_maxima_are_round(value, expected):
    assert nice_max(Decimal(value)) == Decimal(expected)


def series(values):
    first = date(2026, 11, 1)
    return [
        Day(first + timedelta(days=i), Decimal(s), Decimal(e)) for i, (s, e) in enumerate(values)
    ]


def test_bars_points_and_peaks(app_ctx):
    chart = daily_chart(series([("10", "0"), ("20", "3"), ("15", "1.5")]))
    assert len(chart.bars) == 2  # a day without egress draws no bar
    assert len(chart.storage_points.split()) == 3
    assert "Storage peaked at 20 GB on November 2, 2026" in chart.description
    assert "egress peaked at 3 GB" in chart.description
    assert chart.title == "Daily storage and egress, last 3 days"
    for x, y, w, h in chart.bars:
        assert float(x) >= 0 and float(x) + float(w) <= WIDTH
        assert float(y) >= 0 and float(y) + float(h) <= HEIGHT
    assert [label[2] for label in chart.labels] == ["start", "middle", "end"]


def test_nothing_metered_says_so(app_ctx):
    chart = daily_chart(series([("0", "0")] * 30))
    assert chart.bars == [] and chart.description == (
        "No storage or egress was metered in these days."
    )
