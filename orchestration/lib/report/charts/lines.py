"""Line charts: one line per series over shared x labels."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from orchestration.lib.report.charts.scales import fmt_num, format_tick, format_value, nice_ticks
from orchestration.lib.report.charts.style import MUTED, colours_for
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


def line_chart(
    series: Mapping[str, Iterable[tuple[str | float, float | None]]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    x_order: Sequence[str] | None = None,
    kind: str = "number",
    unit: str = "",
    width: int = 880,
    height: int = 320,
    empty_note: str = "No data yet.",
) -> str:
    """Several lines over a shared x axis: `series` maps a name to (x, y) points.

    x values that are all numbers (e.g. months since first purchase) get a numeric axis; otherwise x is a
    category (e.g. "2026-01") ordered by `x_order` or sorted. A None y leaves a gap (e.g. cohort months after the
    data end), so a line is never drawn through missing data.
    """
    raw: dict[str, list[tuple[object, float | None]]] = {}
    for name, pts in series.items():
        raw.setdefault(str(name), []).extend((x, None if y is None else float(y)) for x, y in pts)
    all_raw_x = [x for pts in raw.values() for x, _ in pts]
    numeric_x = bool(all_raw_x) and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in all_raw_x)
    # one key per x: a float on a numeric axis, else the label text
    points: dict[str, dict[object, float | None]] = {
        name: {(float(x) if numeric_x else str(x)): y for x, y in pts} for name, pts in raw.items()
    }
    values = [y for pts in points.values() for y in pts.values() if y is not None]
    if not values:
        return empty_figure(title, empty_note)

    names = list(points)
    colours = colours_for(names)
    all_x = [x for pts in points.values() for x in pts]

    ticks = nice_ticks(min(0.0, min(values)), max(0.0, max(values)))
    lo, hi = ticks[0], ticks[-1]
    legend_w = legend_width(names)
    height = max(height, 16 + 18 * len(names) + 10)
    top, bottom = 14.0, 50.0
    left = 22 + 8 + tick_width(ticks, kind) + 8
    right = width - legend_w - 12
    plot_h = height - top - bottom
    inner_l, inner_r = left + 12, right - 12

    def sy(v: float) -> float:
        return top + (hi - v) / (hi - lo) * plot_h

    x_labels: list[tuple[float, str]] = []
    if numeric_x:
        x_ticks = nice_ticks(min(all_x), max(all_x), count=min(10, max(1, len(set(all_x)) - 1)))
        x_lo, x_hi = x_ticks[0], x_ticks[-1]

        def sx(x: object) -> float:
            return inner_l + (float(x) - x_lo) / (x_hi - x_lo) * (inner_r - inner_l)

        x_step = x_ticks[1] - x_ticks[0] if len(x_ticks) > 1 else 1.0
        x_labels = [(sx(t), format_tick(t, x_step)) for t in x_ticks]
        ordered_x: list[object] = sorted(set(all_x), key=float)
    else:
        ordered_x = list(ordered_names((str(x) for x in all_x), x_order))
        index = {x: i for i, x in enumerate(ordered_x)}
        span = max(len(ordered_x) - 1, 1)

        def sx(x: object) -> float:
            i = index[str(x)]
            return (inner_l + inner_r) / 2 if len(ordered_x) == 1 else inner_l + i / span * (inner_r - inner_l)

        every = label_every(ordered_x, (inner_r - inner_l) / max(len(ordered_x), 1))
        x_labels = [(sx(x), str(x)) for i, x in enumerate(ordered_x) if i % every == 0]

    parts = [svg_open(width, height, title, f"Line chart: {len(names)} series over {len(ordered_x)} x values.")]
    parts.append(y_axis(ticks, sy, left, right, kind))
    parts.append(f'<g class="x-axis" fill="{MUTED}">')
    for x, label in x_labels:
        parts.append(
            f'<text x="{fmt_num(x)}" y="{fmt_num(top + plot_h + 16)}" text-anchor="middle">{esc(label)}</text>'
        )
    parts.append("</g>")
    for name in names:
        pts = points[name]
        segments: list[list[tuple[float, float, object, float]]] = [[]]
        for x in (x for x in ordered_x if x in pts):
            y = pts[x]
            if y is None:
                segments.append([])
                continue
            segments[-1].append((sx(x), sy(y), x, y))
        parts.append(f'<g class="series" data-series="{esc(name)}">')
        for seg in segments:
            if len(seg) > 1:
                d = " ".join(
                    f"{'M' if i == 0 else 'L'}{fmt_num(px)} {fmt_num(py)}" for i, (px, py, _, _) in enumerate(seg)
                )
                parts.append(
                    f'<path class="line" d="{d}" fill="none" stroke="{colours[name]}" stroke-width="2" '
                    f'stroke-linejoin="round" stroke-linecap="round"/>'
                )
        for seg in segments:
            for px, py, x, y in seg:
                x_text = format_value(x) if numeric_x else x
                parts.append(
                    f'<circle class="point" cx="{fmt_num(px)}" cy="{fmt_num(py)}" r="3" fill="{colours[name]}" '
                    f'stroke="#fff" stroke-width="1" data-x="{esc(x_text)}" data-value="{y!r}">'
                    f"<title>{esc(name)} · {esc(x_text)}: {esc(format_value(y, kind, unit))}</title></circle>"
                )
        parts.append("</g>")
    parts.append(x_title(x_label, (left + right) / 2, height - 8))
    parts.append(y_title(y_label, 14, top + plot_h / 2))
    parts.append(legend_svg(right + 16, top + 2, names, colours, line=True))
    parts.append("</svg>")

    rows = []
    for x in ordered_x:
        label = format_value(x) if numeric_x else x
        rows.append([label, *(format_value(points[n].get(x), kind, unit) for n in names)])
    table = data_table([x_label, *names], rows, [numeric_x] + [True] * len(names))
    return figure_html(title, "".join(parts), table)
