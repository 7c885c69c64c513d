"""Small server-side SVG charts for the dashboard: no script, no library, nothing fetched.

Every label is escaped (category codes and names come from configuration an administrator edits),
and each chart carries a <title> and a description so a screen reader gets the figures too.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

# Colour-blind-safe palette (Okabe–Ito), in the order categories are first met.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000")
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 640, 220, 36, 28, 10


@dataclass(frozen=True)
class Series:
    label: str
    colour: str


def weeks_back(today: dt.date, count: int) -> list[dt.date]:
    """The Mondays of the last `count` weeks, oldest first, the current week last."""
    monday = today - dt.timedelta(days=today.weekday())
    return [monday - dt.timedelta(weeks=back) for back in range(count - 1, -1, -1)]


def _scale(top: float) -> tuple[float, list[float]]:
    """A round upper bound at or above `top`, and the gridlines: at most 5 steps of 1, 2 or 5 × 10ⁿ."""
    if top <= 0:
        return 1.0, [0.0, 1.0]
    magnitude = 10 ** math.floor(math.log10(top))
    step = next(s * magnitude for s in (0.1, 0.2, 0.5, 1, 2, 5, 10) if top / (s * magnitude) <= 5)
    count = math.ceil(top / step - 1e-9)
    return step * count, [step * i for i in range(count + 1)]


def _f(value: float) -> str:
    return f"{value:.1f}"


def _number(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def stacked_bars(
    weeks: Sequence[dt.date],
    counts: dict[tuple[dt.date, str], int],
    labels: dict[str, str],
    *,
    title: str,
) -> SafeString:
    """Bars per week, stacked by category; `counts` maps (week, category) to a count."""
    categories = sorted({category for _, category in counts}, key=lambda code: labels.get(code, code))
    series = {
        code: Series(labels.get(code, code), PALETTE[i % len(PALETTE)]) for i, code in enumerate(categories)
    }
    totals = [sum(counts.get((week, code), 0) for code in categories) for week in weeks]
    bound, grid = _scale(max(totals, default=0))
    plot_h, slot = HEIGHT - BOTTOM - TOP, (WIDTH - LEFT) / max(len(weeks), 1)
    parts = [_frame(grid, bound)]
    for index, week in enumerate(weeks):
        x, y = LEFT + index * slot + slot * 0.15, float(HEIGHT - BOTTOM)
        for code in categories:
            value = counts.get((week, code), 0)
            if not value:
                continue
            height = plot_h * value / bound
            y -= height
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{} · {}: {}</title></rect>',
                    _f(x),
                    _f(y),
                    _f(slot * 0.7),
                    _f(height),
                    series[code].colour,
                    week.isoformat(),
                    series[code].label,
                    value,
                )
            )
        parts.append(_week_label(week, LEFT + index * slot + slot / 2, index, len(weeks)))
    legend = "".join(
        format_html(
            '<span class="legend"><span class="swatch" style="background:{}"></span>{}</span>',
            item.colour,
            item.label,
        )
        for item in series.values()
    )
    return _wrap(title, "".join(parts), legend)


def bars(weeks: Sequence[dt.date], values: dict[dt.date, float], *, title: str, unit: str) -> SafeString:
    """One bar per week (e.g. the median days to fix); weeks without a value are left empty."""
    bound, grid = _scale(max(values.values(), default=0))
    plot_h, slot = HEIGHT - BOTTOM - TOP, (WIDTH - LEFT) / max(len(weeks), 1)
    parts = [_frame(grid, bound)]
    for index, week in enumerate(weeks):
        value = values.get(week)
        if value is not None:
            height = plot_h * value / bound
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {} {}</title></rect>',
                    _f(LEFT + index * slot + slot * 0.15),
                    _f(HEIGHT - BOTTOM - height),
                    _f(slot * 0.7),
                    _f(height),
                    PALETTE[0],
                    week.isoformat(),
                    _number(value),
                    unit,
                )
            )
        parts.append(_week_label(week, LEFT + index * slot + slot / 2, index, len(weeks)))
    return _wrap(title, "".join(parts), "")


def median_days_to_fix(
    spans: Iterable[tuple[dt.datetime, dt.datetime]], weeks: Sequence[dt.date], zone: dt.tzinfo
) -> dict[dt.date, float]:
    """Median days from opening to fix, per week of the fix (weeks as from weeks_back)."""
    by_week: dict[dt.date, list[float]] = {}
    first = weeks[0] if weeks else None
    for opened, fixed in spans:
        day = fixed.astimezone(zone).date()
        week = day - dt.timedelta(days=day.weekday())
        if first is not None and week >= first:
            by_week.setdefault(week, []).append(max((fixed - opened).total_seconds(), 0) / 86400)
    return {week: statistics.median(days) for week, days in by_week.items()}


def _frame(grid: list[float], bound: float) -> str:
    plot_h = HEIGHT - BOTTOM - TOP
    lines = []
    for value in grid:
        y = HEIGHT - BOTTOM - plot_h * value / bound
        lines.append(
            f'<line x1="{LEFT}" x2="{WIDTH}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">{escape(_number(value))}</text>'
        )
    return "".join(lines)


def _week_label(week: dt.date, x: float, index: int, count: int) -> str:
    # Every other label when there are many weeks (the current one always), so they fit a phone.
    if count > 8 and (count - 1 - index) % 2:
        return ""
    return f'<text x="{x:.1f}" y="{HEIGHT - 8}" text-anchor="middle">{week:%d.%m}</text>'


def _wrap(title: str, body: str, legend: str) -> SafeString:
    return format_html(
        '<figure class="chart"><svg viewBox="0 0 {} {}" role="img" aria-label="{}" '
        'xmlns="http://www.w3.org/2000/svg"><title>{}</title>{}</svg><figcaption>{}</figcaption></figure>',
        WIDTH,
        HEIGHT,
        title,
        title,
        mark_safe(body),  # noqa: S308 - built above from format_html and escaped numbers
        mark_safe(legend),  # noqa: S308 - built above from format_html
    )
