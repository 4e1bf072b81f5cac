"""Inline-SVG chart builders for the HTML report: plain functions from rows to an HTML fragment.

Every builder returns one `<figure>` holding a caption, an `<svg role="img">` (with `<title>` tooltips on each
bar, point and cell) and a `<details>` data table as the text alternative; with no data it returns the same
figure with a "no data yet" note instead of an empty chart. The markup is well-formed XML (every text escaped),
so tests can parse it, and it needs no script, font or stylesheet from outside the page.

Colours: a colour-blind-friendly palette with a fixed colour per channel name (docs/marts.md *Channels*), so a
channel looks the same on every chart; other names get a colour from a stable hash.

Modules: `style` (palette, channel colours, font, greys), `scales` (number formats, ticks), `svg` (the figure,
axes, legends and data table every chart shares), then one per kind of chart: `stacked`, `lines`, `bars`
(horizontal), `heatmap`, `funnel`. Import the builders from this package.
"""

from orchestration.lib.report.charts.bars import horizontal_bar_chart
from orchestration.lib.report.charts.funnel import funnel_chart
from orchestration.lib.report.charts.heatmap import HEAT_RAMP, HEAT_STEPS, heatmap
from orchestration.lib.report.charts.lines import line_chart
from orchestration.lib.report.charts.scales import format_tick, format_value, nice_ticks
from orchestration.lib.report.charts.stacked import stacked_bar_chart
from orchestration.lib.report.charts.style import (
    CHANNEL_COLOURS,
    FONT_STACK,
    NEUTRAL,
    NOT_SET,
    PALETTE,
    colour_for,
    colours_for,
)
from orchestration.lib.report.charts.svg import data_table, esc, natural_key

__all__ = [
    "CHANNEL_COLOURS",
    "FONT_STACK",
    "HEAT_RAMP",
    "HEAT_STEPS",
    "NEUTRAL",
    "NOT_SET",
    "PALETTE",
    "colour_for",
    "colours_for",
    "data_table",
    "esc",
    "format_tick",
    "format_value",
    "funnel_chart",
    "heatmap",
    "horizontal_bar_chart",
    "line_chart",
    "natural_key",
    "nice_ticks",
    "stacked_bar_chart",
]
