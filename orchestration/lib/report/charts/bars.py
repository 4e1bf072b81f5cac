"""Horizontal bars: one bar per label, long labels on the left."""

from __future__ import annotations

from collections.abc import Iterable

from orchestration.lib.report.charts.scales import fmt_num, format_tick, format_value, nice_ticks, text_width, truncate
from orchestration.lib.report.charts.style import AXIS, GRID, LABEL_MAX_CHARS, MUTED, NOT_SET, TEXT, colours_for
from orchestration.lib.report.charts.svg import (
    data_table,
    empty_figure,
    esc,
    figure_html,
    legend_svg,
    legend_width,
    svg_open,
    x_title,
    y_title,
)


def horizontal_bar_chart(
    bars: Iterable[tuple[str, float | None] | tuple[str, str, float | None]],
    *,
    title: str,
    x_label: str,
    y_label: str = "",
    kind: str = "number",
    unit: str = "",
    sort: bool = True,
    legend: bool = True,
    width: int = 880,
    empty_note: str = "No data yet.",
) -> str:
    """Horizontal bars, one row per label (e.g. a channel or campaign).

    `bars` holds (label, value) rows — each bar then has its label's colour, so channels match every other chart —
    or (label, series, value) rows for grouped bars (e.g. attributed revenue per channel × model), coloured by
    series. Rows are sorted by their largest value unless `sort=False`; negative values extend left of zero.
    """
    values: dict[tuple[str, str], float] = {}
    grouped = False
    for row in bars:
        if len(row) == 3:
            label, series_name, value = row  # type: ignore[misc]
            grouped = True
        else:
            label, value = row  # type: ignore[misc]
            series_name = ""
        if value is None:
            continue
        key = (NOT_SET if label is None else str(label), str(series_name))
        values[key] = values.get(key, 0.0) + float(value)
    if not values:
        return empty_figure(title, empty_note)

    labels = list(dict.fromkeys(label for label, _ in values))
    series = list(dict.fromkeys(s for _, s in values))
    if sort:
        best = {lbl: max(v for (l2, _), v in values.items() if l2 == lbl) for lbl in labels}
        labels.sort(key=lambda lbl: -best[lbl])
    colour_keys = series if grouped else labels
    colours = colours_for(colour_keys)

    ticks = nice_ticks(min(0.0, min(values.values())), max(0.0, max(values.values())))
    lo, hi = ticks[0], ticks[-1]
    bar_h = 16.0 if len(series) == 1 else 12.0
    group_h = bar_h * len(series) + 10
    legend_names = colour_keys if legend else []
    legend_w = legend_width(legend_names) if legend_names else 0
    label_w = max(text_width(truncate(lbl, LABEL_MAX_CHARS)) for lbl in labels)
    top = 12.0
    left = (22 if y_label else 4) + label_w + 10
    value_w = max(text_width(format_value(v, kind, unit)) for v in values.values()) + 8
    right = width - legend_w - value_w - 8
    plot_h = group_h * len(labels)
    height = max(top + plot_h + 48, 16 + 18 * len(legend_names) + 10)

    def sx(v: float) -> float:
        return left + (v - lo) / (hi - lo) * (right - left)

    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    parts = [svg_open(width, height, title, f"Horizontal bar chart: {len(labels)} rows × {len(series)} series.")]
    parts.append('<g class="x-axis">')
    for t in ticks:
        x = sx(t)
        parts.append(
            f'<line x1="{fmt_num(x)}" y1="{fmt_num(top)}" x2="{fmt_num(x)}" y2="{fmt_num(top + plot_h)}" '
            f'stroke="{AXIS if t == 0 else GRID}" stroke-width="1"/>'
            f'<text x="{fmt_num(x)}" y="{fmt_num(top + plot_h + 16)}" text-anchor="middle" fill="{MUTED}">'
            f"{esc(format_tick(t, step, kind))}</text>"
        )
    parts.append("</g>")
    parts.append('<g class="bars">')
    zero = sx(0.0)
    for i, label in enumerate(labels):
        y_group = top + i * group_h + 5
        parts.append(
            f'<text x="{fmt_num(left - 8)}" y="{fmt_num(y_group + bar_h * len(series) / 2 + 4)}" text-anchor="end" '
            f'fill="{TEXT}">{esc(truncate(label, LABEL_MAX_CHARS))}<title>{esc(label)}</title></text>'
        )
        for j, series_name in enumerate(series):
            value = values.get((label, series_name))
            if value is None:
                continue
            y = y_group + j * bar_h
            x0, x1 = sorted((zero, sx(value)))
            colour = colours[series_name if grouped else label]
            name = f"{label} · {series_name}" if grouped else label
            parts.append(
                f'<rect class="bar" x="{fmt_num(x0)}" y="{fmt_num(y + 1)}" '
                f'width="{fmt_num(x1 - x0)}" height="{fmt_num(bar_h - 2)}" '
                f'fill="{colour}" data-label="{esc(label)}" data-series="{esc(series_name)}" '
                f'data-value="{value!r}"><title>{esc(name)}: {esc(format_value(value, kind, unit))}</title></rect>'
                f'<text x="{fmt_num(max(x1, zero) + 4)}" y="{fmt_num(y + bar_h / 2 + 4)}" fill="{MUTED}">'
                f"{esc(format_value(value, kind, unit))}</text>"
            )
    parts.append("</g>")
    parts.append(x_title(x_label, (left + right) / 2, top + plot_h + 40))
    if y_label:
        parts.append(y_title(y_label, 14, top + plot_h / 2))
    if legend_names:
        parts.append(legend_svg(width - legend_w + 4, top + 2, legend_names, colours))
    parts.append("</svg>")

    if grouped:
        headers = [y_label or "label", *series]
        rows = [[lbl, *(format_value(values.get((lbl, s)), kind, unit) for s in series)] for lbl in labels]
    else:
        headers = [y_label or "label", x_label]
        rows = [[lbl, format_value(values[(lbl, "")], kind, unit)] for lbl in labels]
    table = data_table(headers, rows, [False] + [True] * (len(headers) - 1))
    return figure_html(title, "".join(parts), table)
