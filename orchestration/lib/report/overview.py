"""The overview page: what the last run published (table sizes), touchpoints and won revenue per month, the
busiest campaigns. Read from `marts.rpt_touchpoints_by_month`, `rpt_won_revenue_by_month` and `dim_campaigns`."""

from __future__ import annotations

import duckdb

from orchestration.lib.report.charts import format_value, stacked_bar_chart
from orchestration.lib.report.html import Markup, part, safe
from orchestration.lib.report.sections import (
    SCHEMA,
    Page,
    channel_cell,
    empty,
    mart_tables,
    month_label,
    month_span,
    note,
    require_tables,
    section,
    table_html,
    text_or_dash,
)
from orchestration.lib.sql import quote_ident


@section("Tables in the serving file", slug="row-counts")
def row_counts(con: duckdb.DuckDBPyConnection) -> Markup:
    tables = mart_tables(con)
    if not tables:
        return empty(f"No tables in schema {SCHEMA} yet.")
    counts = [con.execute(f"select count(*) from {quote_ident(SCHEMA)}.{quote_ident(t)}").fetchone()[0] for t in tables]
    rows = [[part("code", f"{SCHEMA}.{t}"), format_value(n)] for t, n in zip(tables, counts, strict=True)]
    return table_html(["table", "rows"], rows, [False, True], foot=[f"{len(tables)} tables", format_value(sum(counts))])


@section("Touchpoints by channel and month", slug="touchpoints-by-month")
def touchpoints_by_month(con: duckdb.DuckDBPyConnection) -> Markup:
    require_tables(con, "rpt_touchpoints_by_month")
    rows = [
        (month_label(month), channel, n)
        for month, channel, n in con.execute(
            f"select month, channel, touchpoints from {SCHEMA}.rpt_touchpoints_by_month order by 1, 2"
        ).fetchall()
    ]
    months = month_span([r[0] for r in rows])
    chart = stacked_bar_chart(
        rows,
        title="Touchpoints per month, stacked by channel",
        x_label="month",
        y_label="touchpoints",
        x_order=months,
        empty_note="No touchpoints yet.",
    )
    total = sum(r[2] for r in rows)
    summary = note(f"{format_value(total)} touchpoints from {months[0]} to {months[-1]}, by channel.") if rows else ""
    return safe(summary, chart)


@section("Won revenue by lead source channel and month", slug="won-revenue-by-month")
def won_revenue_by_month(con: duckdb.DuckDBPyConnection) -> Markup:
    require_tables(con, "rpt_won_revenue_by_month")
    rows = [
        (month_label(month), channel, revenue, deals)
        for month, channel, revenue, deals in con.execute(
            f"select month, source_channel, won_revenue, won_deals from {SCHEMA}.rpt_won_revenue_by_month order by 1, 2"
        ).fetchall()
    ]
    months = month_span([r[0] for r in rows])
    chart = stacked_bar_chart(
        [(m, c, v) for m, c, v, _ in rows],
        title="Won revenue per month (base currency), stacked by the lead's CRM source channel",
        x_label="month won",
        y_label="won revenue",
        x_order=months,
        kind="money",
        empty_note="No won deals yet.",
    )
    if not rows:
        return safe(chart)
    revenue = sum(r[2] or 0.0 for r in rows)
    deals = sum(r[3] for r in rows)
    summary = note(
        f"{format_value(deals)} won deals worth {format_value(revenue, 'money')} (base currency) "
        f"from {months[0]} to {months[-1]}."
    )
    return safe(summary, chart)


@section("Top campaigns by touchpoints", slug="top-campaigns")
def top_campaigns(con: duckdb.DuckDBPyConnection) -> Markup:
    require_tables(con, "dim_campaigns")
    rows = con.execute(
        f"""
        select utm_source, utm_medium, utm_campaign, channel, touchpoints, spend
        from {SCHEMA}.dim_campaigns
        order by touchpoints desc nulls last, spend desc nulls last, utm_campaign
        limit 15
        """
    ).fetchall()
    if not rows:
        return empty("No campaigns yet.")
    body = [
        [
            text_or_dash(source),
            text_or_dash(medium),
            text_or_dash(campaign),
            channel_cell(channel),
            format_value(touchpoints),
            format_value(spend, "money"),
        ]
        for source, medium, campaign, channel, touchpoints, spend in rows
    ]
    return safe(
        note(f"The {len(rows)} campaigns with the most touchpoints; spend in base currency."),
        table_html(
            ["utm_source", "utm_medium", "utm_campaign", "channel", "touchpoints", "spend"],
            body,
            [False, False, False, False, True, True],
        ),
    )


OVERVIEW = Page(
    slug="overview",
    title="Overview",
    intro="What the last run published: table sizes, touchpoints and won revenue over time, the busiest campaigns.",
    sections=(row_counts, touchpoints_by_month, won_revenue_by_month, top_campaigns),
)
