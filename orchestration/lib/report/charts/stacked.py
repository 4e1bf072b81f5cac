"""Stacked vertical bars: one bar per x label, one segment per category."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from orchestration.lib.report.charts.scales import fmt_num, format_value, nice_ticks
from orchestration.lib.report.charts.style import MUTED, NOT_SET, colours_for
from orchestration.lib.report.charts.svg import (
    data_table,
    empty_figure,
    esc,
    figure_html,
    label_every,
    legend_svg,
    legend_width,
    ordered_names,
    svg_open,
    tick_width,
    x_title,
    y_axis,
    y_title,
)


def stacked_bar_chart(
    data: Iterable[tuple[str, str, float | None]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    x_order: Sequence[str] | None = None,
    kind: str = "number",
    unit: str = "",
    width: int = 880,
    height: int = 340,
    empty_note: str = "No data yet.",
) -> str:
    """Stacked vertical bars: one bar per x (e.g. a month "2026-01"), one segment per category.

    `data` holds (x, category, value) rows (repeats are summed, None skipped). `x_order` fixes the bars and their
    order (pass every month to show gaps as empty bars); otherwise x values are sorted. The largest category sits
    at the bottom of each stack and first in the legend. Negative values stack below zero.
    """
    totals: dict[tuple[str, str], float] = {}
    for x, category, value in data:
        if value is None:
            continue
        key = (str(x), NOT_SET if category is None else str(category))
        totals[key] = totals.get(key, 0.0) + float(value)
    if not totals:
        return empty_figure(title, empty_note)

    xs = ordered_names((x for x, _ in totals), x_order)
    by_category: dict[str, float] = {}
    for (_, category), value in totals.items():
        by_category[category] = by_category.get(category, 0.0) + abs(value)
    categories = sorted(by_category, key=lambda c: (-by_category[c], c))
    colours = colours_for(categories)

    pos_top = dict.fromkeys(xs, 0.0)
    neg_bottom = dict.fromkeys(xs, 0.0)
    for (x, _), value in totals.items():
        if value >= 0:
            pos_top[x] += value
        else:
            neg_bottom[x] += value
    ticks = nice_ticks(min(0.0, min(neg_bottom.values())), max(0.0, max(pos_top.values())))
    lo, hi = ticks[0], ticks[-1]

    legend_w = legend_width(categories)
    height = max(height, 16 + 18 * len(categories) + 10)
    top, bottom = 14.0, 50.0
    left = 22 + 8 + tick_width(ticks, kind) + 8
    right = width - legend_w - 12
    plot_h = height - top - bottom

    def sy(v: float) -> float:
        return top + (hi - v) / (hi - lo) * plot_h

    band = (right - left) / len(xs)
    bar_w = max(1.0, band * 0.72)
    every = label_every(xs, band)

    parts = [svg_open(width, height, title, f"Stacked bar chart: {len(xs)} bars × {len(categories)} categories.")]
    parts.append(y_axis(ticks, sy, left, right, kind))
    parts.append('<g class="bars">')
    for i, x in enumerate(xs):
        x0 = left + i * band + (band - bar_w) / 2
        up, down = 0.0, 0.0
        for category in categories:
            value = totals.get((x, category))
            if not value:
                continue
            if value > 0:
                y0, y1 = up, up + value
                up = y1
            else:
                y0, y1 = down + value, down
                down = y0
            y_top, y_bottom = sy(y1), sy(y0)
            parts.append(
                f'<rect class="bar" x="{fmt_num(x0)}" y="{fmt_num(y_top)}" width="{fmt_num(bar_w)}" '
                f'height="{fmt_num(y_bottom - y_top)}" fill="{colours[category]}" data-x="{esc(x)}" '
                f'data-category="{esc(category)}" data-value="{value!r}">'
                f"<title>{esc(category)} · {esc(x)}: {esc(format_value(value, kind, unit))}</title></rect>"
            )
    parts.append("</g>")
    parts.append(f'<g class="x-axis" fill="{MUTED}">')
    for i, x in enumerate(xs):
        if i % every:
            continue
        cx = left + (i + 0.5) * band
        parts.append(f'<text x="{fmt_num(cx)}" y="{fmt_num(top + plot_h + 16)}" text-anchor="middle">{esc(x)}</text>')
    parts.append("</g>")
    parts.append(x_title(x_label, (left + right) / 2, height - 8))
    parts.append(y_title(y_label, 14, top + plot_h / 2))
    parts.append(legend_svg(right + 16, top + 2, categories, colours))
    parts.append("</svg>")

    headers = [x_label, *categories, "Total"]
    rows = []
    for x in xs:
        values = [totals.get((x, c), 0.0) for c in categories]
        rows.append([x, *(format_value(v, kind, unit) for v in values), format_value(sum(values), kind, unit)])
    table = data_table(headers, rows, [False] + [True] * (len(categories) + 1))
    return figure_html(title, "".join(parts), table)
