"""The data-quality page: what the gate found last night, since when, how many rows, which ones, and the
quarantine over time. Read from the published `quality.runs`, `quality.results` and `quality.quarantine`.

The gate's own record, not business metrics: it is written on a refused night too, when the marts (and the rpt
models built with them) keep the last good night's numbers, so this page reads the quality tables themselves."""

from __future__ import annotations

import duckdb

from orchestration.lib.report.charts import format_value, stacked_bar_chart
from orchestration.lib.report.html import Markup, render, safe
from orchestration.lib.report.sections import Page, note, require_tables, section, table_html

QUALITY_SCHEMA = "quality"


def refused_banner(con: duckdb.DuckDBPyConnection) -> Markup:
    """A banner for the top of the report when the newest run was refused or blocked: the marts below are the
    last good night's, and this says which run was stopped, why, and by which rules."""
    try:
        run = con.execute(
            "select run_id, started_at, status, blocking_reason from quality.runs order by started_at desc limit 1"
        ).fetchone()
    except duckdb.Error:
        return Markup("")
    if run is None or run[2] == "passed":
        return Markup("")
    run_id, started, status, reason = run
    failed = con.execute(
        "select dataset, rule, failing_rows, rows_checked, sample_keys from quality.results"
        " where run_id = ? and not passed and severity = 'error' order by failing_rows desc, dataset, rule limit 5",
        [run_id],
    ).fetchall()
    rules = [(d, r, format_value(n), format_value(m), k) for d, r, n, m, k in failed]
    return render("banner.html.j2", run_id=run_id, started=started, status=status, reason=reason, rules=rules)


@section("Last night's quality gate", slug="last-run")
def last_run(con: duckdb.DuckDBPyConnection) -> Markup:
    require_tables(con, "runs", "results", schema=QUALITY_SCHEMA)
    run = con.execute(
        "select run_id, started_at, status, rows_checked, rows_quarantined, blocking_reason"
        " from quality.runs order by started_at desc limit 1"
    ).fetchone()
    if run is None:
        return note("No gate run recorded yet.")
    run_id, started, status, checked, quarantined, reason = run
    headline = note(
        f"Run {run_id} at {started:%Y-%m-%d %H:%M} UTC: {status}. {format_value(checked)} rows checked,"
        f" {format_value(quarantined)} quarantined and left out of the marts." + (f" {reason}" if reason else ""),
        warn=status != "passed",
    )
    failed = con.execute(
        "select dataset, rule, severity, failing_rows, failing_rate, failing_since, sample_keys"
        " from quality.results where run_id = ? and not passed order by severity, failing_rows desc, dataset, rule",
        [run_id],
    ).fetchall()
    if not failed:
        return safe(headline, note("Every rule passed."))
    rows = [
        [d, r, sev, format_value(n), f"{rate:.2%}", f"{since:%Y-%m-%d}" if since else "", keys]
        for d, r, sev, n, rate, since, keys in failed
    ]
    return safe(
        headline,
        table_html(
            ["dataset", "rule", "severity", "failing rows", "rate", "failing since", "sample keys"],
            rows,
            [False, False, False, True, True, False, False],
        ),
    )


@section("Quarantined rows per run", slug="history")
def quarantine_history(con: duckdb.DuckDBPyConnection) -> Markup:
    require_tables(con, "runs", "results", schema=QUALITY_SCHEMA)
    data = con.execute(
        "select strftime(runs.started_at, '%Y-%m-%d %H:%M'), results.dataset, sum(results.failing_rows)"
        " from quality.results join quality.runs using (run_id)"
        " where results.severity = 'error' and not results.passed group by all order by 1"
    ).fetchall()
    runs = [
        r
        for (r,) in con.execute("select strftime(started_at, '%Y-%m-%d %H:%M') from quality.runs order by 1").fetchall()
    ]
    return safe(
        stacked_bar_chart(
            data,
            title="Rows failing a row rule, per gate run and dataset",
            x_label="gate run (UTC)",
            y_label="rows",
            x_order=runs[-30:],
            empty_note="No row has failed a rule in any run.",
        )
    )


QUALITY = Page(
    slug="quality",
    title="Data quality",
    intro="The quality gate between staging and the marts: the last run's failed rules with their sample keys,"
    " and the quarantine over the last 30 runs. Every run's full validation is in the Great Expectations Data"
    " Docs (quality/docs/index.html in the data dir).",
    sections=(last_run, quarantine_history),
)
