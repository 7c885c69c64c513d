"""The dashboard's SVG charts: scales, stacking, medians per week, escaping."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from zonewarden import charts

ALMATY = ZoneInfo("Asia/Almaty")


def test_weeks_back_are_mondays_oldest_first() -> None:
    weeks = charts.weeks_back(dt.date(2026, 11, 29), 3)  # a Sunday
    assert weeks == [dt.date(2026, 11, 9), dt.date(2026, 11, 16), dt.date(2026, 11, 23)]


def test_the_scale_is_round_and_covers_the_top() -> None:
    assert charts._scale(3) == (3, [0, 1, 2, 3])
    bound, grid = charts._scale(37)
    assert bound == 40 and grid == [0, 10, 20, 30, 40]
    bound, grid = charts._scale(0.7)
    assert bound >= 0.7 and len(grid) <= 6
    assert charts._scale(0) == (1.0, [0.0, 1.0])


def test_stacked_bars_stack_per_week_and_escape_labels() -> None:
    weeks = charts.weeks_back(dt.date(2026, 11, 29), 2)
    svg = str(
        charts.stacked_bars(
            weeks,
            {(weeks[1], "phishing"): 4, (weeks[1], "evil"): 2, (weeks[0], "phishing"): 1},
            {"phishing": "Phishing", "evil": '<img src=x onerror="alert(1)">'},
            title="Incidents & more",
        )
    )
    assert "<img" not in svg and "&lt;img src=x" in svg and "Incidents &amp; more" in svg
    heights = {
        title: float(height)
        for height, title in re.findall(r'height="([0-9.]+)" fill="[^"]+"><title>([^<]+)</title>', svg)
    }
    # Heights are proportional to the counts within one chart.
    hostile = "2026-11-23 · &lt;img src=x onerror=&quot;alert(1)&quot;&gt;: 2"
    assert heights["2026-11-23 · Phishing: 4"] == pytest.approx(2 * heights[hostile], abs=0.2)
    assert heights["2026-11-23 · Phishing: 4"] == pytest.approx(
        4 * heights["2026-11-16 · Phishing: 1"], abs=0.3
    )


def test_median_days_to_fix_per_week_of_the_fix() -> None:
    weeks = charts.weeks_back(dt.date(2026, 11, 29), 2)
    at = dt.datetime(2026, 11, 25, 12, tzinfo=ALMATY)
    spans = [
        (at - dt.timedelta(days=1), at),
        (at - dt.timedelta(days=3), at),
        (at - dt.timedelta(days=8), at),
        (at - dt.timedelta(days=30), at - dt.timedelta(days=20)),  # fixed before the first week
    ]
    assert charts.median_days_to_fix(spans, weeks, ALMATY) == {dt.date(2026, 11, 23): 3.0}
    svg = str(charts.bars(weeks, {dt.date(2026, 11, 23): 3.0}, title="t", unit="days"))
    assert "2026-11-23: 3 days" in svg and svg.count("<rect") == 1
