"""The pieces every chart shares: the figure with its caption, SVG and data table (the text alternative), the
"no data yet" figure, axes and their titles, legends, and the order of categories."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping, Sequence

from orchestration.lib.report.charts.scales import fmt_num, format_tick, text_width, truncate
from orchestration.lib.report.charts.style import AXIS, CHAR_W, FONT_STACK, GRID, LEGEND_MAX_CHARS, MUTED, TEXT


def esc(value: object) -> str:
    """HTML/XML-escape any value (quotes included: the result is safe in text and in attributes)."""
    return html.escape("" if value is None else str(value), quote=True)


def empty_figure(title: str, note: str) -> str:
    return (
        f'<figure class="chart chart-empty"><figcaption>{esc(title)}</figcaption>'
        f'<p class="empty">{esc(note)}</p></figure>'
    )


def svg_open(width: float, height: float, title: str, desc: str) -> str:
    return (
        f'<svg class="chart-svg" role="img" viewBox="0 0 {fmt_num(width)} {fmt_num(height)}" width="{fmt_num(width)}" '
        f'height="{fmt_num(height)}" font-family="{esc(FONT_STACK)}" font-size="11">'
        f"<title>{esc(title)}</title><desc>{esc(desc)}</desc>"
    )


def figure_html(title: str, svg: str, table: str) -> str:
    return (
        f'<figure class="chart"><figcaption>{esc(title)}</figcaption>{svg}'
        f'<details class="chart-data"><summary>Data table</summary><div class="table-wrap">{table}</div>'
        f"</details></figure>"
    )


def data_table(headers: Sequence[str], rows: Iterable[Sequence[object]], numeric: Sequence[bool]) -> str:
    """A plain HTML table (header row + body); cells are escaped, numeric columns right-aligned."""
    head = "".join(
        f'<th scope="col" class="{"num" if is_num else "txt"}">{esc(h)}</th>'
        for h, is_num in zip(headers, numeric, strict=False)
    )
    body = []
    for row in rows:
        cells = []
        for i, (cell, is_num) in enumerate(zip(row, numeric, strict=False)):
            tag = "th" if i == 0 and not is_num else "td"
            scope = ' scope="row"' if tag == "th" else ""
            cells.append(f'<{tag}{scope} class="{"num" if is_num else "txt"}">{esc(cell)}</{tag}>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def legend_svg(x: float, y: float, names: Sequence[str], colours: Mapping[str, str], line: bool = False) -> str:
    parts = ['<g class="legend">']
    for i, name in enumerate(names):
        yy = y + i * 18
        if line:
            swatch = (
                f'<line x1="{fmt_num(x)}" y1="{fmt_num(yy + 6)}" x2="{fmt_num(x + 14)}" y2="{fmt_num(yy + 6)}" '
                f'stroke="{colours[name]}" stroke-width="2.5"/>'
                f'<circle cx="{fmt_num(x + 7)}" cy="{fmt_num(yy + 6)}" r="3" fill="{colours[name]}"/>'
            )
        else:
            swatch = f'<rect x="{fmt_num(x)}" y="{fmt_num(yy)}" width="12" height="12" rx="2" fill="{colours[name]}"/>'
        parts.append(
            f'<g class="legend-item">{swatch}<text x="{fmt_num(x + 19)}" y="{fmt_num(yy + 10)}" fill="{TEXT}">'
            f"{esc(truncate(name, LEGEND_MAX_CHARS))}</text><title>{esc(name)}</title></g>"
        )
    parts.append("</g>")
    return "".join(parts)


def legend_width(names: Sequence[str]) -> float:
    longest = max((len(truncate(n, LEGEND_MAX_CHARS)) for n in names), default=0)
    return 19 + longest * CHAR_W + 16


def y_axis(
    ticks: Sequence[float],
    scale,
    left: float,
    right: float,
    kind: str,
) -> str:
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    parts = ['<g class="y-axis">']
    for t in ticks:
        y = scale(t)
        stroke = AXIS if t == 0 else GRID
        parts.append(
            f'<line x1="{fmt_num(left)}" y1="{fmt_num(y)}" x2="{fmt_num(right)}" y2="{fmt_num(y)}" stroke="{stroke}" '
            f'stroke-width="1"/><text x="{fmt_num(left - 6)}" y="{fmt_num(y + 4)}" text-anchor="end" fill="{MUTED}">'
            f"{esc(format_tick(t, step, kind))}</text>"
        )
    parts.append("</g>")
    return "".join(parts)


def y_title(text: str, x: float, y_mid: float) -> str:
    return (
        f'<text class="axis-title" x="{fmt_num(x)}" y="{fmt_num(y_mid)}" text-anchor="middle" fill="{TEXT}" '
        f'font-size="12" transform="rotate(-90 {fmt_num(x)} {fmt_num(y_mid)})">{esc(text)}</text>'
    )


def x_title(text: str, x_mid: float, y: float) -> str:
    return (
        f'<text class="axis-title" x="{fmt_num(x_mid)}" y="{fmt_num(y)}" text-anchor="middle" fill="{TEXT}" '
        f'font-size="12">{esc(text)}</text>'
    )


def tick_width(ticks: Sequence[float], kind: str) -> float:
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    return max(text_width(format_tick(t, step, kind)) for t in ticks)


def label_every(labels: Sequence[str], band: float) -> int:
    """Show every k-th category label so that neighbouring labels never overlap."""
    widest = max((text_width(lbl) for lbl in labels), default=0) + 10
    return max(1, math.ceil(widest / max(band, 1e-9)))


def natural_key(text: str) -> tuple:
    """Sort "2" before "10" (e.g. months since first purchase as column labels)."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text))


def ordered_names(seen: Iterable[str], order: Sequence[str] | None) -> list[str]:
    """`order` first (its extra entries kept: they show as gaps), then anything else seen, naturally sorted."""
    seen = list(dict.fromkeys(seen))
    if order is None:
        return sorted(seen, key=natural_key)
    order = list(dict.fromkeys(order))
    extra = sorted(set(seen) - set(order), key=natural_key)
    return order + extra
