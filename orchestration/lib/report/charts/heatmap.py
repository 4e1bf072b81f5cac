"""Heatmaps: a grid of cells shaded on a sequential ramp, the value written in each cell."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from orchestration.lib.report.charts.scales import fmt_num, format_value, text_width, truncate
from orchestration.lib.report.charts.style import LABEL_MAX_CHARS, MUTED, TEXT, mix_colours
from orchestration.lib.report.charts.svg import (
    data_table,
    empty_figure,
    esc,
    figure_html,
    label_every,
    ordered_names,
    svg_open,
    x_title,
    y_title,
)


def _is_dark(colour: str) -> bool:
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.5


# One hue, light to dark (readable for every colour vision); the middle stop keeps mid values blue, not grey.
HEAT_RAMP = ("#EEF5FB", "#5A9FCF", "#08306B")
HEAT_STEPS = 6


def _ramp(t: float) -> str:
    t = min(max(t, 0.0), 1.0) * (len(HEAT_RAMP) - 1)
    i = min(int(t), len(HEAT_RAMP) - 2)
    return mix_colours(HEAT_RAMP[i], HEAT_RAMP[i + 1], t - i)


def heatmap(
    cells: Iterable[tuple[str, str, float | None]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    row_order: Sequence[str] | None = None,
    column_order: Sequence[str] | None = None,
    kind: str = "number",
    unit: str = "",
    width: int = 880,
    empty_note: str = "No data yet.",
) -> str:
    """A grid of (row, column, value) cells (e.g. cohort month × months since first purchase → retention %).

    Colour steps run light → dark over the value range; each cell shows its value when it fits and always has a
    tooltip. None (or a missing cell) is left blank: "no data", not zero.
    """
    grid: dict[tuple[str, str], float | None] = {}
    for row, column, value in cells:
        grid[(str(row), str(column))] = None if value is None else float(value)
    present = [v for v in grid.values() if v is not None]
    if not present:
        return empty_figure(title, empty_note)

    rows = ordered_names((r for r, _ in grid), row_order)
    columns = ordered_names((c for _, c in grid), column_order)
    v_lo, v_hi = min(present), max(present)

    def step_of(v: float) -> int:
        if v_hi == v_lo:
            return HEAT_STEPS - 1
        return min(HEAT_STEPS - 1, int((v - v_lo) / (v_hi - v_lo) * HEAT_STEPS))

    step_colours = [_ramp(i / (HEAT_STEPS - 1)) for i in range(HEAT_STEPS)]
    bounds = [v_lo + (v_hi - v_lo) * i / HEAT_STEPS for i in range(HEAT_STEPS)]
    legend_labels = [f"≥ {format_value(b, kind, unit)}" for b in bounds]
    legend_w = 19 + max(text_width(lbl) for lbl in legend_labels) + 16

    top = 46.0
    left = 22 + max(text_width(truncate(r, LABEL_MAX_CHARS)) for r in rows) + 10
    right = width - legend_w - 12
    cell_w = (right - left) / len(columns)
    cell_h = 22.0
    plot_h = cell_h * len(rows)
    height = max(top + plot_h + 12, top + 18 * HEAT_STEPS + 30)
    show_values = cell_w >= max(text_width(format_value(v, kind, unit), 6.0) for v in present) + 6
    every = label_every(columns, cell_w)

    parts = [svg_open(width, height, title, f"Heatmap: {len(rows)} rows × {len(columns)} columns.")]
    parts.append(x_title(x_label, (left + right) / 2, 14))
    parts.append(f'<g class="x-axis" fill="{MUTED}">')
    for j, column in enumerate(columns):
        if j % every == 0:
            cx = left + (j + 0.5) * cell_w
            parts.append(f'<text x="{fmt_num(cx)}" y="{fmt_num(top - 8)}" text-anchor="middle">{esc(column)}</text>')
    parts.append("</g>")
    parts.append('<g class="cells">')
    for i, row in enumerate(rows):
        y = top + i * cell_h
        parts.append(
            f'<text x="{fmt_num(left - 8)}" y="{fmt_num(y + cell_h / 2 + 4)}" text-anchor="end" fill="{TEXT}">'
            f"{esc(truncate(row, LABEL_MAX_CHARS))}<title>{esc(row)}</title></text>"
        )
        for j, column in enumerate(columns):
            value = grid.get((row, column))
            if value is None:
                continue
            x = left + j * cell_w
            fill = step_colours[step_of(value)]
            text = format_value(value, kind, unit)
            parts.append(
                f'<rect class="cell" x="{fmt_num(x + 0.5)}" y="{fmt_num(y + 0.5)}" width="{fmt_num(cell_w - 1)}" '
                f'height="{fmt_num(cell_h - 1)}" fill="{fill}" data-row="{esc(row)}" data-column="{esc(column)}" '
                f'data-value="{value!r}"><title>{esc(row)} · {esc(column)}: {esc(text)}</title></rect>'
            )
            if show_values:
                ink = "#FFFFFF" if _is_dark(fill) else "#1F2937"
                parts.append(
                    f'<text x="{fmt_num(x + cell_w / 2)}" y="{fmt_num(y + cell_h / 2 + 4)}" text-anchor="middle" '
                    f'font-size="10" fill="{ink}" pointer-events="none">{esc(text)}</text>'
                )
    parts.append("</g>")
    parts.append(y_title(y_label, 14, top + plot_h / 2))
    legend_x = right + 16
    parts.append('<g class="legend">')
    for i, (colour, label) in enumerate(zip(step_colours, legend_labels, strict=False)):
        yy = top + i * 18
        parts.append(
            f'<g class="legend-item"><rect x="{fmt_num(legend_x)}" y="{fmt_num(yy)}" width="12" height="12" rx="2" '
            f'fill="{colour}"/><text x="{fmt_num(legend_x + 19)}" y="{fmt_num(yy + 10)}" '
            f'fill="{TEXT}">{esc(label)}</text>'
            f"</g>"
        )
    parts.append("</g></svg>")

    table_rows = [[row, *(format_value(grid.get((row, c)), kind, unit) for c in columns)] for row in rows]
    table = data_table([y_label, *columns], table_rows, [False] + [True] * len(columns))
    return figure_html(title, "".join(parts), table)
