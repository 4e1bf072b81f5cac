"""Inline-SVG chart builders for the HTML report: plain functions from rows to an HTML fragment.

Every builder returns one `<figure>` holding a caption, an `<svg role="img">` (with `<title>` tooltips on each
bar, point and cell) and a `<details>` data table as the text alternative; with no data it returns the same
figure with a "no data yet" note instead of an empty chart. The markup is well-formed XML (every text escaped),
so tests can parse it, and it needs no script, font or stylesheet from outside the page.

Colours: a colour-blind-friendly palette (Okabe & Ito plus Paul Tol's muted set) with a fixed colour per
channel name (docs/marts.md *Channels*), so a channel looks the same on every chart; other names get a colour from a stable hash.
"""

from __future__ import annotations

import html
import math
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence

FONT_STACK = (
    "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, 'Liberation Sans', sans-serif"
)

# Twelve colours that stay apart for the common colour-vision deficiencies.
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#332288",  # indigo
    "#DDCC77",  # sand
    "#882255",  # wine
    "#44AA99",  # teal
    "#999933",  # olive
    "#6F6F6F",  # dark grey
)
NEUTRAL = "#BBBBBB"
NOT_SET = "(not set)"

# The channels of docs/marts.md *Channels* keep these colours on every chart and every page.
CHANNEL_COLOURS: dict[str, str] = {
    "paid_search": "#0072B2",
    "paid_social": "#CC79A7",
    "display": "#E69F00",
    "email": "#009E73",
    "affiliate": "#882255",
    "organic_social": "#56B4E9",
    "organic_search": "#332288",
    "referral": "#D55E00",
    "events": "#DDCC77",
    "direct": "#6F6F6F",
    "other": NEUTRAL,
    "(not set)": "#999933",
}

_TEXT = "#374151"
_MUTED = "#6B7280"
_GRID = "#E5E7EB"
_AXIS = "#9CA3AF"
_CHAR_W = 6.4  # average glyph width at the 11px axis font, for layout estimates
_LEGEND_MAX_CHARS = 24
_LABEL_MAX_CHARS = 28


# ---------------------------------------------------------------------------------------------- text & numbers


def esc(value: object) -> str:
    """HTML/XML-escape any value (quotes included: the result is safe in text and in attributes)."""
    return html.escape("" if value is None else str(value), quote=True)


def _channel_key(name: str) -> str:
    return "_".join(name.strip().lower().replace("-", " ").split())


_FIXED = {_channel_key(k): v for k, v in CHANNEL_COLOURS.items()}


def colour_for(name: str) -> str:
    """The colour of a category: fixed for the docs/marts.md *Channels* channels, otherwise from a stable hash of the name."""
    key = _channel_key(name)
    if key in _FIXED:
        return _FIXED[key]
    return PALETTE[zlib.crc32(key.encode("utf-8")) % len(PALETTE)]


def colours_for(names: Sequence[str]) -> dict[str, str]:
    """Colours for the categories of one chart: channels keep their fixed colour; a hashed name whose colour is
    already taken in this chart moves to the next free palette colour (so no two categories look alike)."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        if _channel_key(name) in _FIXED:
            out[name] = _FIXED[_channel_key(name)]
            used.add(out[name])
    for name in names:
        if name in out:
            continue
        colour = colour_for(name)
        if colour in used:
            start = PALETTE.index(colour)
            free = [PALETTE[(start + i) % len(PALETTE)] for i in range(1, len(PALETTE))]
            colour = next((c for c in free if c not in used), colour)
        out[name] = colour
        used.add(colour)
    return out


def format_value(value: float | None, kind: str = "number", unit: str = "") -> str:
    """A value for tooltips and tables: thousands separators; money with cents; percent from a fraction."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if kind == "percent":
        text = f"{value * 100:,.1f} %"
    elif kind == "money":
        text = f"{value:,.2f}"
    elif float(value).is_integer() or abs(value) >= 100:
        text = f"{value:,.0f}"
    else:
        text = f"{value:,.2f}"
    return f"{text} {unit}" if unit else text


def _decimals(step: float) -> int:
    for d in range(0, 7):
        if abs(round(step, d) - step) < step * 1e-6:
            return d
    return 6


def format_tick(value: float, step: float, kind: str = "number") -> str:
    """An axis tick: thousands separators and just enough decimals for the tick step."""
    if kind == "percent":
        return f"{value * 100:,.{_decimals(step * 100)}f} %"
    return f"{value:,.{_decimals(step)}f}"


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 × 10^k apart) covering [lo, hi]; the first and last are the axis ends."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = 0.0, 1.0
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    start = math.floor(lo / step + 1e-9) * step
    end = math.ceil(hi / step - 1e-9) * step
    n = int(round((end - start) / step))
    return [round(start + i * step, 10) for i in range(n + 1)]


def _n(x: float) -> str:
    """A coordinate for SVG attributes."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text_w(text: str, char_w: float = _CHAR_W) -> float:
    return len(text) * char_w


# ---------------------------------------------------------------------------------------------- shared pieces


def _empty(title: str, note: str) -> str:
    return (
        f'<figure class="chart chart-empty"><figcaption>{esc(title)}</figcaption>'
        f'<p class="empty">{esc(note)}</p></figure>'
    )


def _svg_open(width: float, height: float, title: str, desc: str) -> str:
    return (
        f'<svg class="chart-svg" role="img" viewBox="0 0 {_n(width)} {_n(height)}" width="{_n(width)}" '
        f'height="{_n(height)}" font-family="{esc(FONT_STACK)}" font-size="11">'
        f"<title>{esc(title)}</title><desc>{esc(desc)}</desc>"
    )


def _figure(title: str, svg: str, table: str) -> str:
    return (
        f'<figure class="chart"><figcaption>{esc(title)}</figcaption>{svg}'
        f'<details class="chart-data"><summary>Data table</summary><div class="table-wrap">{table}</div>'
        f"</details></figure>"
    )


def data_table(headers: Sequence[str], rows: Iterable[Sequence[object]], numeric: Sequence[bool]) -> str:
    """A plain HTML table (header row + body); cells are escaped, numeric columns right-aligned."""
    head = "".join(
        f'<th scope="col" class="{"num" if is_num else "txt"}">{esc(h)}</th>' for h, is_num in zip(headers, numeric)
    )
    body = []
    for row in rows:
        cells = []
        for i, (cell, is_num) in enumerate(zip(row, numeric)):
            tag = "th" if i == 0 and not is_num else "td"
            scope = ' scope="row"' if tag == "th" else ""
            cells.append(f'<{tag}{scope} class="{"num" if is_num else "txt"}">{esc(cell)}</{tag}>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _legend(x: float, y: float, names: Sequence[str], colours: Mapping[str, str], line: bool = False) -> str:
    parts = ['<g class="legend">']
    for i, name in enumerate(names):
        yy = y + i * 18
        if line:
            swatch = (
                f'<line x1="{_n(x)}" y1="{_n(yy + 6)}" x2="{_n(x + 14)}" y2="{_n(yy + 6)}" '
                f'stroke="{colours[name]}" stroke-width="2.5"/>'
                f'<circle cx="{_n(x + 7)}" cy="{_n(yy + 6)}" r="3" fill="{colours[name]}"/>'
            )
        else:
            swatch = f'<rect x="{_n(x)}" y="{_n(yy)}" width="12" height="12" rx="2" fill="{colours[name]}"/>'
        parts.append(
            f'<g class="legend-item">{swatch}<text x="{_n(x + 19)}" y="{_n(yy + 10)}" fill="{_TEXT}">'
            f"{esc(_truncate(name, _LEGEND_MAX_CHARS))}</text><title>{esc(name)}</title></g>"
        )
    parts.append("</g>")
    return "".join(parts)


def _legend_width(names: Sequence[str]) -> float:
    longest = max((len(_truncate(n, _LEGEND_MAX_CHARS)) for n in names), default=0)
    return 19 + longest * _CHAR_W + 16


def _y_axis(
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
        stroke = _AXIS if t == 0 else _GRID
        parts.append(
            f'<line x1="{_n(left)}" y1="{_n(y)}" x2="{_n(right)}" y2="{_n(y)}" stroke="{stroke}" '
            f'stroke-width="1"/><text x="{_n(left - 6)}" y="{_n(y + 4)}" text-anchor="end" fill="{_MUTED}">'
            f"{esc(format_tick(t, step, kind))}</text>"
        )
    parts.append("</g>")
    return "".join(parts)


def _y_title(text: str, x: float, y_mid: float) -> str:
    return (
        f'<text class="axis-title" x="{_n(x)}" y="{_n(y_mid)}" text-anchor="middle" fill="{_TEXT}" '
        f'font-size="12" transform="rotate(-90 {_n(x)} {_n(y_mid)})">{esc(text)}</text>'
    )


def _x_title(text: str, x_mid: float, y: float) -> str:
    return (
        f'<text class="axis-title" x="{_n(x_mid)}" y="{_n(y)}" text-anchor="middle" fill="{_TEXT}" '
        f'font-size="12">{esc(text)}</text>'
    )


def _tick_width(ticks: Sequence[float], kind: str) -> float:
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    return max(_text_w(format_tick(t, step, kind)) for t in ticks)


def _label_every(labels: Sequence[str], band: float) -> int:
    """Show every k-th category label so that neighbouring labels never overlap."""
    widest = max((_text_w(lbl) for lbl in labels), default=0) + 10
    return max(1, math.ceil(widest / max(band, 1e-9)))


def natural_key(text: str) -> tuple:
    """Sort "2" before "10" (e.g. months since first purchase as column labels)."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text))


def _ordered(seen: Iterable[str], order: Sequence[str] | None) -> list[str]:
    """`order` first (its extra entries kept: they show as gaps), then anything else seen, naturally sorted."""
    seen = list(dict.fromkeys(seen))
    if order is None:
        return sorted(seen, key=natural_key)
    order = list(dict.fromkeys(order))
    extra = sorted(set(seen) - set(order), key=natural_key)
    return order + extra


# ---------------------------------------------------------------------------------------------- stacked bars


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
        return _empty(title, empty_note)

    xs = _ordered((x for x, _ in totals), x_order)
    by_category: dict[str, float] = {}
    for (_, category), value in totals.items():
        by_category[category] = by_category.get(category, 0.0) + abs(value)
    categories = sorted(by_category, key=lambda c: (-by_category[c], c))
    colours = colours_for(categories)

    pos_top = {x: 0.0 for x in xs}
    neg_bottom = {x: 0.0 for x in xs}
    for (x, _), value in totals.items():
        if value >= 0:
            pos_top[x] += value
        else:
            neg_bottom[x] += value
    ticks = nice_ticks(min(0.0, min(neg_bottom.values())), max(0.0, max(pos_top.values())))
    lo, hi = ticks[0], ticks[-1]

    legend_w = _legend_width(categories)
    height = max(height, 16 + 18 * len(categories) + 10)
    top, bottom = 14.0, 50.0
    left = 22 + 8 + _tick_width(ticks, kind) + 8
    right = width - legend_w - 12
    plot_h = height - top - bottom

    def sy(v: float) -> float:
        return top + (hi - v) / (hi - lo) * plot_h

    band = (right - left) / len(xs)
    bar_w = max(1.0, band * 0.72)
    every = _label_every(xs, band)

    parts = [_svg_open(width, height, title, f"Stacked bar chart: {len(xs)} bars × {len(categories)} categories.")]
    parts.append(_y_axis(ticks, sy, left, right, kind))
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
                f'<rect class="bar" x="{_n(x0)}" y="{_n(y_top)}" width="{_n(bar_w)}" '
                f'height="{_n(y_bottom - y_top)}" fill="{colours[category]}" data-x="{esc(x)}" '
                f'data-category="{esc(category)}" data-value="{value!r}">'
                f"<title>{esc(category)} · {esc(x)}: {esc(format_value(value, kind, unit))}</title></rect>"
            )
    parts.append("</g>")
    parts.append(f'<g class="x-axis" fill="{_MUTED}">')
    for i, x in enumerate(xs):
        if i % every:
            continue
        cx = left + (i + 0.5) * band
        parts.append(f'<text x="{_n(cx)}" y="{_n(top + plot_h + 16)}" text-anchor="middle">{esc(x)}</text>')
    parts.append("</g>")
    parts.append(_x_title(x_label, (left + right) / 2, height - 8))
    parts.append(_y_title(y_label, 14, top + plot_h / 2))
    parts.append(_legend(right + 16, top + 2, categories, colours))
    parts.append("</svg>")

    headers = [x_label, *categories, "Total"]
    rows = []
    for x in xs:
        values = [totals.get((x, c), 0.0) for c in categories]
        rows.append([x, *(format_value(v, kind, unit) for v in values), format_value(sum(values), kind, unit)])
    table = data_table(headers, rows, [False] + [True] * (len(categories) + 1))
    return _figure(title, "".join(parts), table)


# ---------------------------------------------------------------------------------------------- lines


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
    numeric_x = bool(all_raw_x) and all(
        isinstance(x, (int, float)) and not isinstance(x, bool) for x in all_raw_x
    )
    # one key per x: a float on a numeric axis, else the label text
    points: dict[str, dict[object, float | None]] = {
        name: {(float(x) if numeric_x else str(x)): y for x, y in pts} for name, pts in raw.items()
    }
    values = [y for pts in points.values() for y in pts.values() if y is not None]
    if not values:
        return _empty(title, empty_note)

    names = list(points)
    colours = colours_for(names)
    all_x = [x for pts in points.values() for x in pts]

    ticks = nice_ticks(min(0.0, min(values)), max(0.0, max(values)))
    lo, hi = ticks[0], ticks[-1]
    legend_w = _legend_width(names)
    height = max(height, 16 + 18 * len(names) + 10)
    top, bottom = 14.0, 50.0
    left = 22 + 8 + _tick_width(ticks, kind) + 8
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
        ordered_x = list(_ordered((str(x) for x in all_x), x_order))
        index = {x: i for i, x in enumerate(ordered_x)}
        span = max(len(ordered_x) - 1, 1)

        def sx(x: object) -> float:
            i = index[str(x)]
            return (inner_l + inner_r) / 2 if len(ordered_x) == 1 else inner_l + i / span * (inner_r - inner_l)

        every = _label_every(ordered_x, (inner_r - inner_l) / max(len(ordered_x), 1))
        x_labels = [(sx(x), str(x)) for i, x in enumerate(ordered_x) if i % every == 0]

    parts = [_svg_open(width, height, title, f"Line chart: {len(names)} series over {len(ordered_x)} x values.")]
    parts.append(_y_axis(ticks, sy, left, right, kind))
    parts.append(f'<g class="x-axis" fill="{_MUTED}">')
    for x, label in x_labels:
        parts.append(f'<text x="{_n(x)}" y="{_n(top + plot_h + 16)}" text-anchor="middle">{esc(label)}</text>')
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
                d = " ".join(f"{'M' if i == 0 else 'L'}{_n(px)} {_n(py)}" for i, (px, py, _, _) in enumerate(seg))
                parts.append(
                    f'<path class="line" d="{d}" fill="none" stroke="{colours[name]}" stroke-width="2" '
                    f'stroke-linejoin="round" stroke-linecap="round"/>'
                )
        for seg in segments:
            for px, py, x, y in seg:
                x_text = format_value(x) if numeric_x else x
                parts.append(
                    f'<circle class="point" cx="{_n(px)}" cy="{_n(py)}" r="3" fill="{colours[name]}" '
                    f'stroke="#fff" stroke-width="1" data-x="{esc(x_text)}" data-value="{y!r}">'
                    f"<title>{esc(name)} · {esc(x_text)}: {esc(format_value(y, kind, unit))}</title></circle>"
                )
        parts.append("</g>")
    parts.append(_x_title(x_label, (left + right) / 2, height - 8))
    parts.append(_y_title(y_label, 14, top + plot_h / 2))
    parts.append(_legend(right + 16, top + 2, names, colours, line=True))
    parts.append("</svg>")

    rows = []
    for x in ordered_x:
        label = format_value(x) if numeric_x else x
        rows.append([label, *(format_value(points[n].get(x), kind, unit) for n in names)])
    table = data_table([x_label, *names], rows, [numeric_x] + [True] * len(names))
    return _figure(title, "".join(parts), table)


# ---------------------------------------------------------------------------------------------- horizontal bars


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
        return _empty(title, empty_note)

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
    legend_w = _legend_width(legend_names) if legend_names else 0
    label_w = max(_text_w(_truncate(lbl, _LABEL_MAX_CHARS)) for lbl in labels)
    top = 12.0
    left = (22 if y_label else 4) + label_w + 10
    value_w = max(_text_w(format_value(v, kind, unit)) for v in values.values()) + 8
    right = width - legend_w - value_w - 8
    plot_h = group_h * len(labels)
    height = max(top + plot_h + 48, 16 + 18 * len(legend_names) + 10)

    def sx(v: float) -> float:
        return left + (v - lo) / (hi - lo) * (right - left)

    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    parts = [_svg_open(width, height, title, f"Horizontal bar chart: {len(labels)} rows × {len(series)} series.")]
    parts.append('<g class="x-axis">')
    for t in ticks:
        x = sx(t)
        parts.append(
            f'<line x1="{_n(x)}" y1="{_n(top)}" x2="{_n(x)}" y2="{_n(top + plot_h)}" '
            f'stroke="{_AXIS if t == 0 else _GRID}" stroke-width="1"/>'
            f'<text x="{_n(x)}" y="{_n(top + plot_h + 16)}" text-anchor="middle" fill="{_MUTED}">'
            f"{esc(format_tick(t, step, kind))}</text>"
        )
    parts.append("</g>")
    parts.append('<g class="bars">')
    zero = sx(0.0)
    for i, label in enumerate(labels):
        y_group = top + i * group_h + 5
        parts.append(
            f'<text x="{_n(left - 8)}" y="{_n(y_group + bar_h * len(series) / 2 + 4)}" text-anchor="end" '
            f'fill="{_TEXT}">{esc(_truncate(label, _LABEL_MAX_CHARS))}<title>{esc(label)}</title></text>'
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
                f'<rect class="bar" x="{_n(x0)}" y="{_n(y + 1)}" width="{_n(x1 - x0)}" height="{_n(bar_h - 2)}" '
                f'fill="{colour}" data-label="{esc(label)}" data-series="{esc(series_name)}" '
                f'data-value="{value!r}"><title>{esc(name)}: {esc(format_value(value, kind, unit))}</title></rect>'
                f'<text x="{_n(max(x1, zero) + 4)}" y="{_n(y + bar_h / 2 + 4)}" fill="{_MUTED}">'
                f"{esc(format_value(value, kind, unit))}</text>"
            )
    parts.append("</g>")
    parts.append(_x_title(x_label, (left + right) / 2, top + plot_h + 40))
    if y_label:
        parts.append(_y_title(y_label, 14, top + plot_h / 2))
    if legend_names:
        parts.append(_legend(width - legend_w + 4, top + 2, legend_names, colours))
    parts.append("</svg>")

    if grouped:
        headers = [y_label or "label", *series]
        rows = [[lbl, *(format_value(values.get((lbl, s)), kind, unit) for s in series)] for lbl in labels]
    else:
        headers = [y_label or "label", x_label]
        rows = [[lbl, format_value(values[(lbl, "")], kind, unit)] for lbl in labels]
    table = data_table(headers, rows, [False] + [True] * (len(headers) - 1))
    return _figure(title, "".join(parts), table)


# ---------------------------------------------------------------------------------------------- heatmap


def _mix(a: str, b: str, t: float) -> str:
    ca = [int(a[i : i + 2], 16) for i in (1, 3, 5)]
    cb = [int(b[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * t):02X}" for x, y in zip(ca, cb))


def _is_dark(colour: str) -> bool:
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.5


# One hue, light to dark (readable for every colour vision); the middle stop keeps mid values blue, not grey.
HEAT_RAMP = ("#EEF5FB", "#5A9FCF", "#08306B")
HEAT_STEPS = 6


def _ramp(t: float) -> str:
    t = min(max(t, 0.0), 1.0) * (len(HEAT_RAMP) - 1)
    i = min(int(t), len(HEAT_RAMP) - 2)
    return _mix(HEAT_RAMP[i], HEAT_RAMP[i + 1], t - i)


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
        return _empty(title, empty_note)

    rows = _ordered((r for r, _ in grid), row_order)
    columns = _ordered((c for _, c in grid), column_order)
    v_lo, v_hi = min(present), max(present)

    def step_of(v: float) -> int:
        if v_hi == v_lo:
            return HEAT_STEPS - 1
        return min(HEAT_STEPS - 1, int((v - v_lo) / (v_hi - v_lo) * HEAT_STEPS))

    step_colours = [_ramp(i / (HEAT_STEPS - 1)) for i in range(HEAT_STEPS)]
    bounds = [v_lo + (v_hi - v_lo) * i / HEAT_STEPS for i in range(HEAT_STEPS)]
    legend_labels = [f"≥ {format_value(b, kind, unit)}" for b in bounds]
    legend_w = 19 + max(_text_w(lbl) for lbl in legend_labels) + 16

    top = 46.0
    left = 22 + max(_text_w(_truncate(r, _LABEL_MAX_CHARS)) for r in rows) + 10
    right = width - legend_w - 12
    cell_w = (right - left) / len(columns)
    cell_h = 22.0
    plot_h = cell_h * len(rows)
    height = max(top + plot_h + 12, top + 18 * HEAT_STEPS + 30)
    show_values = cell_w >= max(_text_w(format_value(v, kind, unit), 6.0) for v in present) + 6
    every = _label_every(columns, cell_w)

    parts = [_svg_open(width, height, title, f"Heatmap: {len(rows)} rows × {len(columns)} columns.")]
    parts.append(_x_title(x_label, (left + right) / 2, 14))
    parts.append(f'<g class="x-axis" fill="{_MUTED}">')
    for j, column in enumerate(columns):
        if j % every == 0:
            cx = left + (j + 0.5) * cell_w
            parts.append(f'<text x="{_n(cx)}" y="{_n(top - 8)}" text-anchor="middle">{esc(column)}</text>')
    parts.append("</g>")
    parts.append('<g class="cells">')
    for i, row in enumerate(rows):
        y = top + i * cell_h
        parts.append(
            f'<text x="{_n(left - 8)}" y="{_n(y + cell_h / 2 + 4)}" text-anchor="end" fill="{_TEXT}">'
            f"{esc(_truncate(row, _LABEL_MAX_CHARS))}<title>{esc(row)}</title></text>"
        )
        for j, column in enumerate(columns):
            value = grid.get((row, column))
            if value is None:
                continue
            x = left + j * cell_w
            fill = step_colours[step_of(value)]
            text = format_value(value, kind, unit)
            parts.append(
                f'<rect class="cell" x="{_n(x + 0.5)}" y="{_n(y + 0.5)}" width="{_n(cell_w - 1)}" '
                f'height="{_n(cell_h - 1)}" fill="{fill}" data-row="{esc(row)}" data-column="{esc(column)}" '
                f'data-value="{value!r}"><title>{esc(row)} · {esc(column)}: {esc(text)}</title></rect>'
            )
            if show_values:
                ink = "#FFFFFF" if _is_dark(fill) else "#1F2937"
                parts.append(
                    f'<text x="{_n(x + cell_w / 2)}" y="{_n(y + cell_h / 2 + 4)}" text-anchor="middle" '
                    f'font-size="10" fill="{ink}" pointer-events="none">{esc(text)}</text>'
                )
    parts.append("</g>")
    parts.append(_y_title(y_label, 14, top + plot_h / 2))
    legend_x = right + 16
    parts.append('<g class="legend">')
    for i, (colour, label) in enumerate(zip(step_colours, legend_labels)):
        yy = top + i * 18
        parts.append(
            f'<g class="legend-item"><rect x="{_n(legend_x)}" y="{_n(yy)}" width="12" height="12" rx="2" '
            f'fill="{colour}"/><text x="{_n(legend_x + 19)}" y="{_n(yy + 10)}" fill="{_TEXT}">{esc(label)}</text>'
            f"</g>"
        )
    parts.append("</g></svg>")

    table_rows = [[row, *(format_value(grid.get((row, c)), kind, unit) for c in columns)] for row in rows]
    table = data_table([y_label, *columns], table_rows, [False] + [True] * len(columns))
    return _figure(title, "".join(parts), table)


# ---------------------------------------------------------------------------------------------- funnel


def funnel_chart(
    stages: Iterable[tuple[str, float | None]],
    *,
    title: str,
    width: int = 880,
    empty_note: str = "No data yet.",
) -> str:
    """A funnel: one centred bar per stage, in the given order, its width proportional to the stage's count, with
    the count and the conversion from the stage before (count ÷ previous count) beside it.

    `stages` holds (stage, count) rows in funnel order; None counts as 0. The first stage has no conversion.
    """
    rows = [(str(stage), float(count or 0.0)) for stage, count in stages]
    if not rows or max(count for _, count in rows) <= 0:
        return _empty(title, empty_note)

    top_count = max(count for _, count in rows)
    rates = [None] + [count / previous if previous > 0 else None for (_, previous), (_, count) in zip(rows, rows[1:])]
    label_w = max(_text_w(_truncate(stage, _LABEL_MAX_CHARS)) for stage, _ in rows)
    info_w = 190.0
    left = 8 + label_w + 12
    right = width - info_w
    mid = (left + right) / 2
    bar_h, gap, top = 26.0, 8.0, 8.0
    height = top + len(rows) * (bar_h + gap) + 8
    colour = PALETTE[0]

    parts = [_svg_open(width, height, title, f"Funnel chart: {len(rows)} stages.")]
    parts.append('<g class="bars">')
    for i, ((stage, count), rate) in enumerate(zip(rows, rates)):
        y = top + i * (bar_h + gap)
        w = max((right - left) * count / top_count, 1.0 if count > 0 else 0.0)
        share = format_value(count)
        step = "" if rate is None else f" · {rate:.1%} of {rows[i - 1][0]}"
        parts.append(
            f'<text x="{_n(left - 12)}" y="{_n(y + bar_h / 2 + 4)}" text-anchor="end" fill="{_TEXT}">'
            f"{esc(_truncate(stage, _LABEL_MAX_CHARS))}<title>{esc(stage)}</title></text>"
            f'<rect class="bar" x="{_n(mid - w / 2)}" y="{_n(y)}" width="{_n(w)}" height="{_n(bar_h)}" rx="2" '
            f'fill="{_mix(colour, "#FFFFFF", 0.45 * i / max(len(rows) - 1, 1))}" data-label="{esc(stage)}" '
            f'data-value="{count!r}"><title>{esc(stage)}: {esc(share)}{esc(step)}</title></rect>'
            f'<text x="{_n(right + 8)}" y="{_n(y + bar_h / 2 + 4)}" fill="{_TEXT}">{esc(share)}'
            + (f'<tspan fill="{_MUTED}"> ({esc(f"{rate:.1%}")} of previous)</tspan>' if rate is not None else "")
            + "</text>"
        )
    parts.append("</g></svg>")

    table = data_table(
        ["stage", "reached", "conversion from the stage before"],
        [
            [stage, format_value(count), "" if rate is None else f"{rate:.1%}"]
            for (stage, count), rate in zip(rows, rates)
        ],
        [False, True, True],
    )
    return _figure(title, "".join(parts), table)
