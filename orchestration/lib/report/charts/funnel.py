"""Funnel charts: one bar per stage, narrowing, with the conversion between stages."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from orchestration.lib.report.charts.scales import fmt_num, format_value, text_width, truncate
from orchestration.lib.report.charts.style import LABEL_MAX_CHARS, MUTED, PALETTE, TEXT, mix_colours
from orchestration.lib.report.charts.svg import data_table, empty_figure, esc, figure_html, svg_open


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
        return empty_figure(title, empty_note)

    top_count = max(count for _, count in rows)
    rates = [None] + [
        count / previous if previous > 0 else None for (_, previous), (_, count) in itertools.pairwise(rows)
    ]
    label_w = max(text_width(truncate(stage, LABEL_MAX_CHARS)) for stage, _ in rows)
    info_w = 190.0
    left = 8 + label_w + 12
    right = width - info_w
    mid = (left + right) / 2
    bar_h, gap, top = 26.0, 8.0, 8.0
    height = top + len(rows) * (bar_h + gap) + 8
    colour = PALETTE[0]

    parts = [svg_open(width, height, title, f"Funnel chart: {len(rows)} stages.")]
    parts.append('<g class="bars">')
    for i, ((stage, count), rate) in enumerate(zip(rows, rates, strict=False)):
        y = top + i * (bar_h + gap)
        w = max((right - left) * count / top_count, 1.0 if count > 0 else 0.0)
        share = format_value(count)
        step = "" if rate is None else f" · {rate:.1%} of {rows[i - 1][0]}"
        parts.append(
            f'<text x="{fmt_num(left - 12)}" y="{fmt_num(y + bar_h / 2 + 4)}" text-anchor="end" fill="{TEXT}">'
            f"{esc(truncate(stage, LABEL_MAX_CHARS))}<title>{esc(stage)}</title></text>"
            f'<rect class="bar" x="{fmt_num(mid - w / 2)}" y="{fmt_num(y)}" '
            f'width="{fmt_num(w)}" height="{fmt_num(bar_h)}" rx="2" '
            f'fill="{mix_colours(colour, "#FFFFFF", 0.45 * i / max(len(rows) - 1, 1))}" data-label="{esc(stage)}" '
            f'data-value="{count!r}"><title>{esc(stage)}: {esc(share)}{esc(step)}</title></rect>'
            f'<text x="{fmt_num(right + 8)}" y="{fmt_num(y + bar_h / 2 + 4)}" fill="{TEXT}">{esc(share)}'
            + (f'<tspan fill="{MUTED}"> ({esc(f"{rate:.1%}")} of previous)</tspan>' if rate is not None else "")
            + "</text>"
        )
    parts.append("</g></svg>")

    table = data_table(
        ["stage", "reached", "conversion from the stage before"],
        [
            [stage, format_value(count), "" if rate is None else f"{rate:.1%}"]
            for (stage, count), rate in zip(rows, rates, strict=False)
        ],
        [False, True, True],
    )
    return figure_html(title, "".join(parts), table)
