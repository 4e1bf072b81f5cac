"""The attribution page: the same won revenue credited under each model, side by side per channel; ROI by
campaign; loss attribution; Markov removal effects; content that buyers saw. Read from the published
`marts.rpt_channel_model_value`, `rpt_campaign_roi`, `mart_markov_removal_effects` and `mart_content_influence`."""

from __future__ import annotations

import duckdb

from orchestration.lib.report.charts import format_value, heatmap, horizontal_bar_chart
from orchestration.lib.report.html import Markup, safe
from orchestration.lib.report.sections import SCHEMA, Page, channel_cell, note, require_tables, section, table_html
from orchestration.settings import ATTRIBUTION_MODELS

# the models compared bar by bar (all of them are in the heatmap): one per family, so the bars stay readable
COMPARED = ("first_touch", "last_touch", "linear", "position_based", "time_decay", "markov", "shapley")
# the model of the ROI and loss sections
FOCUS = "position_based"
MODEL_ORDER = ATTRIBUTION_MODELS  # the heatmap's columns: every model, in fct_attribution's order


def _focus(con: duckdb.DuckDBPyConnection) -> str:
    """FOCUS when it is published, else the first published model."""
    models = [
        m
        for (m,) in con.execute(
            f"select distinct model from {SCHEMA}.rpt_channel_model_value order by model"
        ).fetchall()
    ]
    return FOCUS if FOCUS in models or not models else models[0]


@section("Won revenue by channel under each model", slug="models-side-by-side")
def models_side_by_side(con: duckdb.DuckDBPyConnection) -> Markup:
    require_tables(con, "rpt_channel_model_value")
    rows = con.execute(
        f"select channel, model, attributed_revenue, revenue_share_pct from {SCHEMA}.rpt_channel_model_value"
        " where attributed_revenue <> 0 or spend <> 0"
    ).fetchall()
    shown = [m for m in COMPARED if any(r[1] == m for r in rows)] or sorted({r[1] for r in rows})[:7]
    bars = horizontal_bar_chart(
        [(channel, model, value) for channel, model, value, _ in rows if model in shown],
        title="The same won deals, credited by " + ", ".join(shown),
        x_label="attributed revenue (base currency)",
        y_label="channel",
        empty_note="No won deal yet.",
    )
    models = {model for _, model, _, _ in rows}
    grid = heatmap(
        [(channel, model, share) for channel, model, _, share in rows],
        title="Share of won revenue per channel under every model (%)",
        x_label="model",
        y_label="channel",
        column_order=[m for m in MODEL_ORDER if m in models],
        unit=" %",
        empty_note="No won deal yet.",
    )
    lead = (
        note(
            "Every model hands out the same total; where the bars disagree, the channel's credit depends on the"
            " model's assumption (first touch favours channels that start journeys, last touch those that close them)."
        )
        if rows
        else ""
    )
    return safe(lead, bars, grid)


@section("ROI by campaign", slug="campaign-roi")
def campaign_roi(con: duckdb.DuckDBPyConnection) -> Markup:
    require_tables(con, "rpt_campaign_roi", "rpt_channel_model_value")
    model = _focus(con)
    rows = con.execute(
        f"""
        select channel, campaign, spend, attributed_leads, attributed_new_customers, attributed_revenue,
               cost_per_lead, cac, roas
        from {SCHEMA}.rpt_campaign_roi
        where model = ? and spend > 0
        order by spend desc
        limit 15
        """,
        [model],
    ).fetchall()
    if not rows:
        return note("No campaign has spend yet.")
    lead = note(
        f"Under the {model} model; campaigns with spend, largest first (top 15). ROAS = attributed"
        " revenue ÷ spend; CAC = spend ÷ attributed new customers."
    )
    chart = horizontal_bar_chart(
        [(campaign, roas) for _, campaign, *_, roas in rows],
        title=f"ROAS per campaign ({model})",
        x_label="attributed revenue per unit of spend",
        y_label="campaign",
        legend=False,
    )
    table = table_html(
        ["channel", "campaign", "spend", "leads", "new customers", "revenue", "cost per lead", "CAC", "ROAS"],
        [[channel_cell(channel), campaign, *(format_value(v) for v in values)] for channel, campaign, *values in rows],
        [False, False, True, True, True, True, True, True, True],
    )
    return safe(lead, chart, table)


@section("Lost deals by channel", slug="loss-attribution")
def loss_attribution(con: duckdb.DuckDBPyConnection) -> Markup:
    require_tables(con, "rpt_channel_model_value")
    model = _focus(con)
    rows = con.execute(
        f"select channel, attributed_revenue, attributed_lost_value from {SCHEMA}.rpt_channel_model_value"
        " where model = ? and (attributed_revenue > 0 or attributed_lost_value > 0)",
        [model],
    ).fetchall()
    # series names whose stable colours read as gain (green) and loss (vermillion)
    bars = [(c, "won revenue", won) for c, won, _ in rows] + [(c, "lost deals value", lost) for c, _, lost in rows]
    return safe(
        note(
            f"Won and lost deal value credited to the touches on their paths ({model}): a channel whose"
            " lost value dwarfs its won revenue brings pipeline that does not close."
        ),
        horizontal_bar_chart(
            bars,
            title=f"Won revenue and lost value per channel ({model})",
            x_label="attributed value (base currency)",
            y_label="channel",
            empty_note="No closed deal yet.",
        ),
    )


@section("Markov removal effects", slug="removal-effects")
def removal_effects(con: duckdb.DuckDBPyConnection) -> Markup:
    require_tables(con, "mart_markov_removal_effects")
    rows = con.execute(
        f"select channel, conversion_type, removal_effect from {SCHEMA}.mart_markov_removal_effects"
        " where period = 'all' and conversion_type in ('lead_created', 'deal_won')"
    ).fetchall()
    return safe(
        note("The share of conversions the chain loses when a channel is taken out (all paths of the type)."),
        horizontal_bar_chart(
            [(channel, kind, 100 * effect) for channel, kind, effect in rows],
            title="Removal effect per channel (%)",
            x_label="conversions lost without the channel (%)",
            y_label="channel",
            unit=" %",
            empty_note="No conversion yet.",
        ),
    )


@section("Content buyers saw", slug="content-influence")
def content_influence(con: duckdb.DuckDBPyConnection) -> Markup:
    require_tables(con, "mart_content_influence")
    rows = con.execute(
        f"select content_key, content_kind, won_share, other_share, lift from {SCHEMA}.mart_content_influence"
        " where won_customers_touched >= 5 and lift is not null order by lift desc limit 12"
    ).fetchall()
    if not rows:
        return note("No content has been seen by at least 5 won customers yet.")
    return table_html(
        ["content", "kind", "won customers who saw it", "other leads who saw it", "lift"],
        [[key, kind, f"{won:.1%}", f"{other:.1%}", format_value(lift)] for key, kind, won, other, lift in rows],
        [False, False, True, True, True],
    )


ATTRIBUTION = Page(
    slug="attribution",
    title="Attribution and ROI",
    intro="Which channels and campaigns create leads, pipeline and revenue — and lost deals — under every model of"
    " fct_attribution. Conversions count in the month they happen, spend in the month it is spent.",
    sections=(models_side_by_side, campaign_roi, loss_attribution, removal_effects, content_influence),
)
