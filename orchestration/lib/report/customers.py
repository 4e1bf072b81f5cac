"""The customers page: cohort retention, cumulative revenue per customer by acquisition channel, LTV:CAC by
channel against its band, and RFM segment sizes. Read from the published `marts.mart_cohorts`,
`rpt_cumulative_revenue_per_customer`, `mart_ltv_segments`, `mart_clv_model`, `rpt_rfm_segments` and
`rpt_rfm_dormancy`."""

from __future__ import annotations

import duckdb

from orchestration.lib.report.charts import format_value, heatmap, horizontal_bar_chart, line_chart
from orchestration.lib.report.html import Markup, safe
from orchestration.lib.report.sections import SCHEMA, Page, channel_cell, note, require_tables, section, table_html

BANDS = "losing_money < 1 ≤ risky < 3 ≤ healthy < 4 ≤ room_to_invest"


@section("Cohort retention", slug="cohort-retention")
def cohort_retention(con: duckdb.DuckDBPyConnection) -> Markup:
    require_tables(con, "mart_cohorts")
    rows = con.execute(
        f"""
        select strftime(cohort_month, '%Y-%m'), month_number, retention_pct, customers
        from {SCHEMA}.mart_cohorts
        where acquisition_channel = 'all'
        order by cohort_month, month_number
        """
    ).fetchall()
    cohorts = list(dict.fromkeys(r[0] for r in rows))
    sizes = {r[0]: r[3] for r in rows}
    months = sorted({r[1] for r in rows})
    chart = heatmap(
        [(f"{c} ({format_value(sizes[c])})", str(k), pct) for c, k, pct, _ in rows],
        title="Share of each first-purchase cohort buying again, by months since the first purchase (%)",
        x_label="months since first purchase",
        y_label="cohort (customers)",
        row_order=[f"{c} ({format_value(sizes[c])})" for c in cohorts],
        column_order=[str(k) for k in months],
        unit=" %",
        empty_note="No customers yet.",
    )
    lead = note("Month 0 is the first purchase (100 %); blank cells lie after the end of the data.") if rows else ""
    return safe(lead, chart)


@section("Cumulative revenue per customer by acquisition channel", slug="cumulative-ltv")
def cumulative_ltv(con: duckdb.DuckDBPyConnection) -> Markup:
    require_tables(con, "rpt_cumulative_revenue_per_customer")
    rows = con.execute(
        f"select acquisition_channel, month_number, cumulative_revenue_per_customer"
        f" from {SCHEMA}.rpt_cumulative_revenue_per_customer order by 1, 2"
    ).fetchall()
    series: dict[str, list[tuple[float, float | None]]] = {}
    for channel, k, value in rows:
        series.setdefault(channel, []).append((float(k), value))
    return safe(
        line_chart(
            series,
            title="Cumulative revenue per customer since the first purchase (base currency)",
            x_label="months since first purchase",
            y_label="revenue per customer",
            kind="money",
            empty_note="No customers yet.",
        )
    )


@section("LTV:CAC by acquisition channel", slug="ltv-cac")
def ltv_to_cac(con: duckdb.DuckDBPyConnection) -> Markup:
    require_tables(con, "mart_ltv_segments")
    rows = con.execute(
        f"""
        select segment_value, customers, ltv_3y, ltv_probabilistic, cac, ltv_to_cac, ltv_to_cac_band,
               benchmark_ltv_to_cac, confidence, confidence_reasons, npv_years, observed_months
        from {SCHEMA}.mart_ltv_segments
        where segment_type in ('acquisition_channel', 'overall')
        order by segment_type = 'overall', ltv_to_cac desc nulls last, segment_value
        """
    ).fetchall()
    chart = horizontal_bar_chart(
        [(r[0], r[5]) for r in rows if r[5] is not None],
        title="LTV (discounted gross margin of the first years) ÷ CAC per acquisition channel",
        x_label="LTV:CAC",
        empty_note="No channel has both an LTV and a CAC (spend and attributed new customers) yet.",
    )
    body = [
        [
            channel_cell(name) if name != "all" else "all channels",
            format_value(customers),
            format_value(ltv, "money"),
            format_value(clv, "money"),
            format_value(cac, "money"),
            format_value(ratio),
            (band or "—").replace("_", " "),
            format_value(benchmark),
            confidence + (f": {reasons.replace('_', ' ')}" if reasons else ""),
        ]
        for name, customers, ltv, clv, cac, ratio, band, benchmark, confidence, reasons, _, _ in rows
    ]
    table = table_html(
        ["channel", "customers", "LTV", "12-month CLV", "CAC", "LTV:CAC", "band", "benchmark", "confidence"],
        body,
        [False, True, True, True, True, True, False, True, False],
    )
    years = rows[0][10] if rows else 3
    observed = max((r[11] or 0 for r in rows), default=0)
    short = [r[0] for r in rows if r[8] != "ok"]
    caveat = (
        f" The data covers {observed:.0f} months: rows marked low or insufficient lean on the fitted model "
        f"beyond what was observed ({', '.join(short)}), so read them as estimates, not facts."
        if short
        else ""
    )
    return safe(
        note(
            f"LTV = the discounted gross margin of a customer's first {years} years (the won deal plus repeat orders "
            f"observed, then projected by the fitted BG/NBD and Gamma-Gamma models). CAC = spend ÷ attributed new "
            f"customers (mart_channel_roi); a channel without spend says no paid cost. Bands: {BANDS}; benchmark: the "
            f"industry's usual LTV:CAC.{caveat}"
        ),
        chart,
        table,
    )


@section("Probabilistic CLV model", slug="clv-model")
def clv_model(con: duckdb.DuckDBPyConnection) -> Markup:
    require_tables(con, "mart_clv_model")
    rows = con.execute(
        f"select model, parameter, value, log_likelihood, customers_used, fit_status from {SCHEMA}.mart_clv_model"
        " order by model, parameter"
    ).fetchall()
    if not rows:
        return note("The CLV models have not been fitted yet.")
    body = [[m, p, format_value(v), format_value(ll), format_value(n)] for m, p, v, ll, n, _ in rows]
    status = rows[0][5]
    lead = note(
        f"BG/NBD (purchases, P(alive); alpha in weeks) and Gamma-Gamma (order value), fitted by maximum "
        f"likelihood each night: {status}."
        + (
            " A parameter at its bound means the data cannot pin it "
            "down: the LTV rows built on the fit say low confidence."
            if status != "fitted"
            else ""
        )
    )
    return safe(
        lead,
        table_html(
            ["model", "parameter", "estimate", "log-likelihood", "customers"], body, [False, False, True, True, True]
        ),
    )


@section("RFM segments", slug="rfm-segments")
def rfm_segments(con: duckdb.DuckDBPyConnection) -> Markup:
    require_tables(con, "rpt_rfm_segments", "rpt_rfm_dormancy")
    rows = con.execute(f"select rfm_segment, customers from {SCHEMA}.rpt_rfm_segments order by 2 desc, 1").fetchall()
    dormancy = con.execute(
        f"select dormancy_status, customers from {SCHEMA}.rpt_rfm_dormancy order by min_months_since_last_purchase"
    ).fetchall()
    chart = horizontal_bar_chart(
        rows,
        title="Customers per RFM segment",
        x_label="customers",
        empty_note="No customers yet.",
    )
    lead = note("Dormancy: " + ", ".join(f"{s} {format_value(n)}" for s, n in dormancy) + ".") if dormancy else ""
    return safe(lead, chart)


CUSTOMERS = Page(
    slug="customers",
    title="Customers",
    intro="Who buys again and what they are worth: cohort retention, cumulative revenue per customer, LTV:CAC by "
    "channel and RFM segments.",
    sections=(cohort_retention, cumulative_ltv, ltv_to_cac, clv_model, rfm_segments),
)
