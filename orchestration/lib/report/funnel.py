"""The funnel page: people through the stages with their conversion rates, the time between stages, speed-to-lead
SLAs met and missed per owner and channel, and why deals are lost. Read from the published
`marts.rpt_funnel_stages`, `rpt_funnel_by_channel`, `mart_stage_velocity`, `rpt_lead_sla`, `rpt_loss_reasons` and
`rpt_loss_reason_groups`."""

from __future__ import annotations

import duckdb

from orchestration.lib.report.charts import format_value, funnel_chart, horizontal_bar_chart, stacked_bar_chart
from orchestration.lib.report.html import Markup, safe
from orchestration.lib.report.sections import (
    SCHEMA,
    Page,
    channel_cell,
    empty,
    note,
    require_tables,
    section,
    table_html,
    text_or_dash,
)

SLA_STATUSES = (("sla_met", "met"), ("sla_missed", "missed"), ("sla_pending", "pending"))
# the rate columns of rpt_funnel_by_channel, in the table's order
CHANNEL_STEPS = (("lead", "mql"), ("mql", "sql"), ("sql", "opportunity"), ("opportunity", "won"), ("lead", "won"))


def _rate(rate: float | None) -> object:
    return text_or_dash(None if rate is None else f"{rate:.1%}")


@section("Funnel: lead to won", slug="stages")
def funnel_stages(con: duckdb.DuckDBPyConnection) -> Markup:
    require_tables(con, "rpt_funnel_stages")
    rows = con.execute(f"select stage, reached from {SCHEMA}.rpt_funnel_stages order by stage_order").fetchall()
    chart = funnel_chart(
        rows, title="People reaching each stage, with the conversion from the stage before", empty_note="No leads yet."
    )
    reached = dict(rows)
    if not reached.get("lead"):
        return safe(chart)
    summary = note(
        f"{format_value(reached['lead'])} people with a lead; {format_value(reached.get('won'))} won"
        f" ({(reached.get('won') or 0) / reached['lead']:.1%} of leads). Conversion = people who reached a stage ÷"
        " people who reached the stage before."
    )
    return safe(summary, chart)


@section("Conversion by source channel", slug="by-channel")
def conversion_by_channel(con: duckdb.DuckDBPyConnection) -> Markup:
    require_tables(con, "rpt_funnel_by_channel")
    rates = ", ".join(f"{frm}_to_{to}_rate" for frm, to in CHANNEL_STEPS)
    rows = con.execute(
        f"select source_channel, leads, {rates} from {SCHEMA}.rpt_funnel_by_channel order by leads desc, source_channel"
    ).fetchall()
    if not rows:
        return empty("No leads yet.")
    table = table_html(
        ["source channel", "leads", *(f"{frm} → {to}" for frm, to in CHANNEL_STEPS)],
        [[channel_cell(channel), format_value(leads), *map(_rate, step_rates)] for channel, leads, *step_rates in rows],
        [False, True, True, True, True, True, True],
    )
    return safe(note("The first lead's CRM source channel; each rate is reached ÷ reached at the stage before."), table)


@section("Days between stages", slug="velocity")
def stage_velocity(con: duckdb.DuckDBPyConnection) -> Markup:
    require_tables(con, "mart_stage_velocity")
    rows = con.execute(
        f"""
        select from_stage, to_stage, people, median_days, p90_days
        from {SCHEMA}.mart_stage_velocity
        where breakdown = 'all'
        order by transition_order
        """
    ).fetchall()
    if not rows:
        return empty("No stage dates yet.")
    body = [[f"{frm} → {to}", format_value(n), f"{median:.1f}", f"{p90:.1f}"] for frm, to, n, median, p90 in rows]
    return safe(
        note("Median and 90th percentile of the days between two dates, over the people who have both."),
        table_html(["from → to", "people", "median days", "p90 days"], body, [False, True, True, True]),
    )


def _sla_by(con: duckdb.DuckDBPyConnection, breakdown: str, label: str) -> Markup:
    require_tables(con, "rpt_lead_sla")
    statuses = ", ".join(c for c, _ in SLA_STATUSES)
    rows = con.execute(
        f"select breakdown_value, {statuses} from {SCHEMA}.rpt_lead_sla where breakdown = ? order by 1", [breakdown]
    ).fetchall()
    data = [
        (key, status, value) for key, *values in rows for (_, status), value in zip(SLA_STATUSES, values, strict=True)
    ]
    chart = stacked_bar_chart(
        data,
        title=f"Leads per {label} by speed-to-lead SLA: met, missed or still pending",
        x_label=label,
        y_label="leads",
        x_order=[r[0] for r in rows],
        empty_note="No leads yet.",
    )
    if not rows:
        return safe(chart)
    met, missed = sum(r[1] for r in rows), sum(r[2] for r in rows)
    summary = note(
        f"{format_value(met)} leads met both SLAs and {format_value(missed)} missed one"
        + (f" ({met / (met + missed):.1%} met)." if met + missed else ".")
        + " High intent: first activity within 1 business hour; medium: the same business day; every lead: 3"
        " attempts within 48 h unless connected earlier."
    )
    return safe(summary, chart)


@section("Speed-to-lead SLA by owner", slug="sla-owner")
def sla_by_owner(con: duckdb.DuckDBPyConnection) -> Markup:
    return _sla_by(con, "owner", "owner")


@section("Speed-to-lead SLA by source channel", slug="sla-channel")
def sla_by_channel(con: duckdb.DuckDBPyConnection) -> Markup:
    return _sla_by(con, "source_channel", "source channel")


@section("Top loss reasons", slug="loss-reasons")
def loss_reasons(con: duckdb.DuckDBPyConnection) -> Markup:
    require_tables(con, "rpt_loss_reasons", "rpt_loss_reason_groups")
    rows = con.execute(
        f"select loss_reason, lost_deals, lost_value from {SCHEMA}.rpt_loss_reasons order by 2 desc, 1"
    ).fetchall()
    chart = horizontal_bar_chart(
        [(reason, value) for reason, _, value in rows],
        title="Lost value by loss reason (base currency)",
        x_label="lost value",
        y_label="loss reason",
        kind="money",
        legend=False,
        empty_note="No lost deals yet.",
    )
    if not rows:
        return safe(chart)
    top = con.execute(
        f"""
        select loss_reason, source_channel, product, lost_deals, lost_value
        from {SCHEMA}.rpt_loss_reason_groups
        order by 4 desc, 5 desc nulls last, 1, 2, 3
        limit 10
        """
    ).fetchall()
    body = [
        [reason, channel_cell(channel), product, format_value(n), format_value(value, "money")]
        for reason, channel, product, n, value in top
    ]
    deals = sum(r[1] for r in rows)
    return safe(
        note(f"{format_value(deals)} lost deals. The ten largest reason × channel × product groups:"),
        table_html(
            ["loss reason", "source channel", "product", "lost deals", "lost value"],
            body,
            [False, False, False, True, True],
        ),
        chart,
    )


FUNNEL = Page(
    slug="funnel",
    title="Funnel and speed-to-lead",
    intro="Where the funnel leaks and whether sales follows up in time: people through the stages (a person counts"
    " once, under their first lead), the days between stages, speed-to-lead SLAs in business hours per owner and"
    " channel, and why deals are lost.",
    sections=(funnel_stages, conversion_by_channel, stage_velocity, sla_by_owner, sla_by_channel, loss_reasons),
)
