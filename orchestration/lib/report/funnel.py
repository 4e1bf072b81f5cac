"""The funnel page: people through the stages with their conversion rates, the time between stages, speed-to-lead
SLAs met and missed per owner and channel, and why deals are lost. Read from the published `marts.mart_funnel`,
`mart_stage_velocity`, `mart_lead_sla_summary` and `mart_loss_reasons` (README *Funnel and speed-to-lead*)."""

from __future__ import annotations

import duckdb

from orchestration.lib.report.charts import (
    NOT_SET,
    esc,
    format_value,
    funnel_chart,
    horizontal_bar_chart,
    stacked_bar_chart,
)
from orchestration.lib.report.pages import (
    SCHEMA,
    Page,
    channel_cell,
    note,
    require_tables,
    section,
    table_html,
)

SLA_STATUSES = (("sla_met", "met"), ("sla_missed", "missed"), ("sla_pending", "pending"))
# the stage-to-stage steps shown per channel
CHANNEL_STEPS = (("lead", "mql"), ("mql", "sql"), ("sql", "opportunity"), ("opportunity", "won"))


def _rate(numerator: float | None, denominator: float | None) -> str:
    if not denominator:
        return '<span class="note">—</span>'
    return esc(f"{(numerator or 0) / denominator:.1%}")


@section("Funnel: lead to won", slug="stages")
def funnel_stages(con: duckdb.DuckDBPyConnection) -> str:
    require_tables(con, "mart_funnel")
    rows = con.execute(
        f"select stage, sum(reached) from {SCHEMA}.mart_funnel group by stage, stage_order order by stage_order"
    ).fetchall()
    chart = funnel_chart(rows, title="People reaching each stage, with the conversion from the stage before",
                         empty_note="No leads yet.")
    reached = dict(rows)
    if not reached.get("lead"):
        return chart
    summary = note(
        f"{format_value(reached['lead'])} people with a lead; {format_value(reached.get('won'))} won"
        f" ({(reached.get('won') or 0) / reached['lead']:.1%} of leads). Conversion = people who reached a stage ÷"
        " people who reached the stage before."
    )
    return summary + chart


@section("Conversion by source channel", slug="by-channel")
def conversion_by_channel(con: duckdb.DuckDBPyConnection) -> str:
    require_tables(con, "mart_funnel")
    rows = con.execute(
        f"""
        select coalesce(nullif(trim(source_channel), ''), '{NOT_SET}') as channel, stage, sum(reached)
        from {SCHEMA}.mart_funnel
        group by 1, 2
        """
    ).fetchall()
    if not rows:
        return '<p class="empty">No leads yet.</p>'
    by_channel: dict[str, dict[str, float]] = {}
    for channel, stage, reached in rows:
        by_channel.setdefault(channel, {})[stage] = reached
    ordered = sorted(by_channel, key=lambda c: (-(by_channel[c].get("lead") or 0), c))
    body = [
        [channel_cell(channel), esc(format_value(by_channel[channel].get("lead")))]
        + [_rate(by_channel[channel].get(to), by_channel[channel].get(frm)) for frm, to in CHANNEL_STEPS]
        + [_rate(by_channel[channel].get("won"), by_channel[channel].get("lead"))]
        for channel in ordered
    ]
    table = table_html(
        ["source channel", "leads", *(f"{frm} → {to}" for frm, to in CHANNEL_STEPS), "lead → won"],
        body,
        [False, True, True, True, True, True, True],
    )
    return note("The first lead's CRM source channel; each rate is reached ÷ reached at the stage before.") + table


@section("Days between stages", slug="velocity")
def stage_velocity(con: duckdb.DuckDBPyConnection) -> str:
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
        return '<p class="empty">No stage dates yet.</p>'
    body = [
        [esc(f"{frm} → {to}"), esc(format_value(n)), esc(f"{median:.1f}"), esc(f"{p90:.1f}")]
        for frm, to, n, median, p90 in rows
    ]
    return note("Median and 90th percentile of the days between two dates, over the people who have both.") + (
        table_html(["from → to", "people", "median days", "p90 days"], body, [False, True, True, True])
    )


def _sla_by(con: duckdb.DuckDBPyConnection, column: str, label: str) -> str:
    require_tables(con, "mart_lead_sla_summary")
    sums = ", ".join(f"sum({c})" for c, _ in SLA_STATUSES)
    rows = con.execute(
        f"""
        select coalesce(nullif(trim({column}), ''), '{NOT_SET}') as key, {sums}
        from {SCHEMA}.mart_lead_sla_summary
        group by 1
        order by 1
        """
    ).fetchall()
    data = [(key, status, value) for key, *values in rows for (_, status), value in zip(SLA_STATUSES, values)]
    chart = stacked_bar_chart(
        data,
        title=f"Leads per {label} by speed-to-lead SLA: met, missed or still pending",
        x_label=label,
        y_label="leads",
        x_order=[r[0] for r in rows],
        empty_note="No leads yet.",
    )
    if not rows:
        return chart
    met, missed = sum(r[1] for r in rows), sum(r[2] for r in rows)
    summary = note(
        f"{format_value(met)} leads met both SLAs and {format_value(missed)} missed one"
        + (f" ({met / (met + missed):.1%} met)." if met + missed else ".")
        + " High intent: first activity within 1 business hour; medium: the same business day; every lead: 3"
        " attempts within 48 h unless connected earlier."
    )
    return summary + chart


@section("Speed-to-lead SLA by owner", slug="sla-owner")
def sla_by_owner(con: duckdb.DuckDBPyConnection) -> str:
    return _sla_by(con, "owner", "owner")


@section("Speed-to-lead SLA by source channel", slug="sla-channel")
def sla_by_channel(con: duckdb.DuckDBPyConnection) -> str:
    return _sla_by(con, "source_channel", "source channel")


@section("Top loss reasons", slug="loss-reasons")
def loss_reasons(con: duckdb.DuckDBPyConnection) -> str:
    require_tables(con, "mart_loss_reasons")
    rows = con.execute(
        f"""
        select coalesce(loss_reason, '{NOT_SET}'), sum(lost_deals), sum(lost_value)
        from {SCHEMA}.mart_loss_reasons
        group by 1
        order by 2 desc, 1
        """
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
        return chart
    top = con.execute(
        f"""
        select loss_reason, source_channel, product, sum(lost_deals), sum(lost_value)
        from {SCHEMA}.mart_loss_reasons
        group by 1, 2, 3
        order by 4 desc, 5 desc nulls last, 1, 2, 3
        limit 10
        """
    ).fetchall()
    body = [
        [esc(reason or NOT_SET), channel_cell(channel), esc(product or NOT_SET), esc(format_value(n)),
         esc(format_value(value, "money"))]
        for reason, channel, product, n, value in top
    ]
    deals = sum(r[1] for r in rows)
    return (
        note(f"{format_value(deals)} lost deals. The ten largest reason × channel × product groups:")
        + table_html(["loss reason", "source channel", "product", "lost deals", "lost value"], body,
                     [False, False, False, True, True])
        + chart
    )


FUNNEL = Page(
    slug="funnel",
    title="Funnel and speed-to-lead",
    intro="Where the funnel leaks and whether sales follows up in time: people through the stages (a person counts"
    " once, under their first lead), the days between stages, speed-to-lead SLAs in business hours per owner and"
    " channel, and why deals are lost.",
    sections=(funnel_stages, conversion_by_channel, stage_velocity, sla_by_owner, sla_by_channel, loss_reasons),
)
