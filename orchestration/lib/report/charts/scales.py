"""Numbers and text on the charts: value and tick formats, nice tick steps, coordinates, label truncation and
text widths for layout estimates."""

from __future__ import annotations

import math

from orchestration.lib.report.charts.style import CHAR_W


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
    n = round((end - start) / step)
    return [round(start + i * step, 10) for i in range(n + 1)]


def fmt_num(x: float) -> str:
    """A coordinate for SVG attributes."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def text_width(text: str, char_w: float = CHAR_W) -> float:
    return len(text) * char_w
