"""The report's SVG chart builders: well-formed markup, honest geometry, legends, escaping, empty data."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.report import write_report
from orchestration.lib.report.charts import (
    CHANNEL_COLOURS,
    PALETTE,
    colour_for,
    colours_for,
    format_tick,
    format_value,
    heatmap,
    horizontal_bar_chart,
    line_chart,
    nice_ticks,
    stacked_bar_chart,
)

STACK = [
    ("2026-01", "paid_search", 1200.0),
    ("2026-01", "email", 300.0),
    ("2026-02", "paid_search", 600.0),
    ("2026-02", "organic_search", 2400.0),
    ("2026-03", "email", 150.0),
]


def parse(fragment: str) -> ET.Element:
    """Every builder returns well-formed XML: the figure, its SVG and its data table."""
    return ET.fromstring(fragment)


def svg_of(figure: ET.Element) -> ET.Element:
    svgs = figure.findall(".//svg")
    assert len(svgs) == 1
    return svgs[0]


def legend_texts(svg: ET.Element) -> list[str]:
    return [t.text or "" for t in svg.findall(".//g[@class='legend']//text")]


def bars(svg: ET.Element) -> list[ET.Element]:
    return svg.findall(".//rect[@class='bar']")


# ------------------------------------------------------------------------------------------------ stacked bars


def test_stacked_bars_are_well_formed_and_proportional() -> None:
    figure = parse(stacked_bar_chart(STACK, title="Touchpoints", x_label="month", y_label="touchpoints"))
    svg = svg_of(figure)
    assert svg.get("role") == "img" and svg.find("title").text == "Touchpoints"
    rects = bars(svg)
    assert len(rects) == len(STACK)
    ratios = {round(float(r.get("height")) / float(r.get("data-value")), 3) for r in rects}
    assert len(ratios) == 1, ratios  # one scale for every segment
    for rect in rects:  # every bar says what it is when hovered
        title = rect.find("title").text
        assert rect.get("data-category") in title and rect.get("data-x") in title


def test_stacked_segments_sit_on_each_other() -> None:
    svg = svg_of(parse(stacked_bar_chart(STACK, title="t", x_label="m", y_label="n")))
    feb = sorted((r for r in bars(svg) if r.get("data-x") == "2026-02"), key=lambda r: -float(r.get("y")))
    bottom, top = feb
    assert bottom.get("data-category") == "organic_search"  # the largest category is at the bottom
    assert float(top.get("y")) + float(top.get("height")) == pytest.approx(float(bottom.get("y")), abs=0.02)


def test_stacked_legend_lists_each_category_with_its_fixed_colour() -> None:
    svg = svg_of(parse(stacked_bar_chart(STACK, title="t", x_label="m", y_label="n")))
    assert set(legend_texts(svg)) == {"paid_search", "email", "organic_search"}
    for rect in bars(svg):
        assert rect.get("fill") == CHANNEL_COLOURS[rect.get("data-category")]


def test_stacked_axis_has_labels_and_thousands_separators() -> None:
    svg = svg_of(parse(stacked_bar_chart(STACK, title="t", x_label="month", y_label="touchpoints")))
    texts = [t.text for t in svg.iter("text")]
    assert "month" in texts and "touchpoints" in texts
    assert "3,000" in texts  # the top tick over the 3,000 February stack
    assert {"2026-01", "2026-02", "2026-03"} <= set(texts)


def test_x_order_keeps_empty_months_as_gaps() -> None:
    months = ["2026-01", "2026-02", "2026-03", "2026-04"]
    figure = parse(stacked_bar_chart(STACK, title="t", x_label="m", y_label="n", x_order=months))
    rows = figure.findall(".//details//tbody/tr")
    assert [r[0].text for r in rows] == months
    assert [td.text for td in rows[-1]][1:] == ["0", "0", "0", "0"]


def test_many_month_labels_are_thinned_not_overlapping() -> None:
    months = [f"{y}-{m:02d}" for y in range(2020, 2026) for m in range(1, 13)]
    data = [(m, "email", 10.0) for m in months]
    svg = svg_of(parse(stacked_bar_chart(data, title="t", x_label="m", y_label="n")))
    xs = [float(t.get("x")) for t in svg.findall(".//g[@class='x-axis']/text")]
    assert 1 < len(xs) < len(months)
    assert min(b - a for a, b in itertools.pairwise(xs)) > len("2020-01") * 6.4


def test_negative_values_stack_below_zero() -> None:
    data = [("a", "won", 100.0), ("a", "lost", -50.0)]
    svg = svg_of(parse(stacked_bar_chart(data, title="t", x_label="m", y_label="n")))
    won, lost = sorted(bars(svg), key=lambda r: r.get("data-category"), reverse=True)
    assert float(lost.get("y")) == pytest.approx(float(won.get("y")) + float(won.get("height")), abs=0.02)
    assert float(won.get("height")) == pytest.approx(2 * float(lost.get("height")), rel=1e-3)


# ------------------------------------------------------------------------------------------------ other charts


def test_line_chart_points_legend_and_gaps() -> None:
    series = {
        "cohort 2026-01": [(0, 1.0), (1, 0.6), (2, None), (3, 0.3)],
        "cohort 2026-02": [(0, 1.0), (1, 0.5)],
    }
    svg = svg_of(parse(line_chart(series, title="Retention", x_label="month", y_label="retained", kind="percent")))
    assert legend_texts(svg) == list(series)
    points = svg.findall(".//circle[@class='point']")
    assert len(points) == 5  # None is a gap, not a point at zero
    first = svg.find(".//g[@data-series='cohort 2026-01']")
    assert len(first.findall("path")) == 1  # the gap breaks the line: only 0→1 is drawn
    ys = {p.get("data-value"): float(p.get("cy")) for p in first.findall("circle")}
    assert ys["1.0"] < ys["0.6"] < ys["0.3"]
    assert "100 %" in [t.text for t in svg.iter("text")]


def test_horizontal_bars_lengths_are_proportional_and_sorted() -> None:
    data = [("email", 250.0), ("paid_search", 1000.0), ("referral", 500.0)]
    svg = svg_of(parse(horizontal_bar_chart(data, title="t", x_label="revenue", y_label="channel")))
    rects = bars(svg)
    assert [r.get("data-label") for r in rects] == ["paid_search", "referral", "email"]
    ratios = {round(float(r.get("width")) / float(r.get("data-value")), 4) for r in rects}
    assert len(ratios) == 1
    assert set(legend_texts(svg)) == {"email", "paid_search", "referral"}
    assert rects[0].get("fill") == colour_for("paid_search")


def test_grouped_horizontal_bars_colour_by_series() -> None:
    data = [("email", "linear", 10.0), ("email", "markov", 20.0), ("direct", "linear", 5.0)]
    svg = svg_of(parse(horizontal_bar_chart(data, title="t", x_label="x")))
    assert legend_texts(svg) == ["linear", "markov"]
    fills = {r.get("data-series"): r.get("fill") for r in bars(svg)}
    assert fills["linear"] != fills["markov"]


def test_heatmap_cells_values_and_blank_nulls() -> None:
    cells = [("2026-01", "0", 1.0), ("2026-01", "1", 0.5), ("2026-02", "0", 1.0), ("2026-02", "1", None)]
    figure = parse(heatmap(cells, title="Cohorts", x_label="month", y_label="cohort", kind="percent"))
    svg = svg_of(figure)
    rects = svg.findall(".//rect[@class='cell']")
    assert len(rects) == 3  # the null cell is left blank
    texts = [t.text for t in svg.iter("text")]
    assert "50.0 %" in texts and "100.0 %" in texts
    assert len(svg.findall(".//g[@class='legend']/g")) >= 2
    assert "—" in [td.text for td in figure.findall(".//details//td")]


def test_heatmap_orders_numeric_columns_naturally() -> None:
    cells = [("c", str(k), float(k)) for k in range(12)]
    svg = svg_of(parse(heatmap(cells, title="t", x_label="k", y_label="c")))
    assert [r.get("data-column") for r in svg.findall(".//rect[@class='cell']")] == [str(k) for k in range(12)]


# ------------------------------------------------------------------------------------------------ shared rules


@pytest.mark.parametrize(
    "build",
    [
        lambda label: stacked_bar_chart([("2026-01", label, 1.0)], title=label, x_label=label, y_label=label),
        lambda label: line_chart({label: [(label, 1.0)]}, title=label, x_label=label, y_label=label),
        lambda label: horizontal_bar_chart([(label, 1.0)], title=label, x_label=label, y_label=label),
        lambda label: heatmap([(label, label, 1.0)], title=label, x_label=label, y_label=label),
    ],
    ids=["stacked", "line", "hbar", "heatmap"],
)
def test_labels_are_escaped(build) -> None:
    label = '<script>alert("x")</script> & co'
    out = build(label)
    assert "<script>" not in out
    assert "&lt;script&gt;" in out
    figure = parse(out)  # still well-formed
    assert any(t == label for t in (e.text for e in figure.iter()))


@pytest.mark.parametrize(
    "build",
    [
        lambda: stacked_bar_chart([], title="Won revenue", x_label="m", y_label="v"),
        lambda: stacked_bar_chart([("2026-01", "email", None)], title="Won revenue", x_label="m", y_label="v"),
        lambda: line_chart({"a": [(0, None)]}, title="Won revenue", x_label="m", y_label="v"),
        lambda: line_chart({}, title="Won revenue", x_label="m", y_label="v"),
        lambda: horizontal_bar_chart([], title="Won revenue", x_label="m"),
        lambda: heatmap([("a", "b", None)], title="Won revenue", x_label="m", y_label="v"),
    ],
)
def test_empty_data_gives_a_note_not_a_chart(build) -> None:
    figure = parse(build())
    assert figure.find(".//svg") is None
    note = figure.find(".//p[@class='empty']")
    assert note is not None and "no data yet" in note.text.lower()
    assert figure.find("figcaption").text == "Won revenue"


def test_each_chart_carries_a_data_table() -> None:
    figure = parse(stacked_bar_chart(STACK, title="t", x_label="month", y_label="n"))
    table = figure.find("details/div/table")
    assert [th.text for th in table.find("thead/tr")] == ["month", "organic_search", "paid_search", "email", "Total"]
    assert [c.text for c in table.find("tbody/tr")] == ["2026-01", "0", "1,200", "300", "1,500"]


def test_colours_are_fixed_per_channel_and_distinct_per_chart() -> None:
    assert len(PALETTE) >= 10 and len(set(PALETTE)) == len(PALETTE)
    assert colour_for("paid_search") == colour_for("Paid Search") == CHANNEL_COLOURS["paid_search"]
    assert colour_for("webinar partners") == colour_for("webinar partners")  # stable, not random
    names = ["email", *[f"partner {i}" for i in range(8)]]
    colours = colours_for(names)
    assert colours["email"] == CHANNEL_COLOURS["email"]
    assert len(set(colours.values())) == len(names)


def test_number_formats() -> None:
    assert format_value(1234567) == "1,234,567"
    assert format_value(1234.5, "money") == "1,234.50"
    assert format_value(0.256, "percent") == "25.6 %"
    assert format_value(None) == "—"
    assert nice_ticks(0, 2900) == [0, 1000, 2000, 3000]
    assert nice_ticks(-661, 85606) == [-20000, 0, 20000, 40000, 60000, 80000, 100000]
    assert nice_ticks(0, 0) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert format_tick(12500, 2500) == "12,500"
    assert format_tick(0.25, 0.25) == "0.25"
    assert format_tick(0.4, 0.2, "percent") == "40 %"


# ------------------------------------------------------------------------------------------------ the report


def test_report_tolerates_missing_tables_and_files(tmp_path: Path) -> None:
    serving = tmp_path / "serving.duckdb"
    con = duckdb.connect(str(serving))
    con.execute("create schema marts")
    con.execute("create table marts.rpt_touchpoints_by_month (month date, channel varchar, touchpoints bigint)")
    con.execute(
        "insert into marts.rpt_touchpoints_by_month values ('2026-01-01', 'email', 1), ('2026-03-01', '(not set)', 1)"
    )
    con.close()

    out = write_report(serving, tmp_path / "deep" / "report" / "index.html", {"run_id": "r1", "marts": []})
    text = out.read_text(encoding="utf-8")
    assert out.name == "index.html"
    assert "marts.rpt_won_revenue_by_month is not in the serving file" in text
    assert "marts.dim_campaigns is not in the serving file" in text
    assert text.count('class="bar"') == 2 and "2026-02" in text  # February is an empty bar
    assert "(not set)" in text and "r1" in text
    duckdb.connect(str(serving)).close()  # the report let go of the file: a writer can open it again

    missing = write_report(tmp_path / "nope.duckdb", tmp_path / "empty.html")
    assert "No serving file yet" in missing.read_text(encoding="utf-8")
