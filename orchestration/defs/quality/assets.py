"""The quality gate between staging and the marts: one asset that validates and quarantines, with one blocking
check per dataset. A failed check stops the marts and publishing in the same run; the last serving file stays."""

from datetime import UTC, datetime

import dagster as dg

from orchestration.defs.resources import ClosedloopSettings, dbt_project
from orchestration.lib.progress import progress
from orchestration.lib.quality import freshness, warehouse_url
from orchestration.lib.quality.gate import run_gate
from orchestration.lib.quality.rules import DATASETS

GATE_KEY = dg.AssetKey(["quality", "quarantined_keys"])


@dg.asset(
    key=GATE_KEY,
    deps=[dg.AssetKey(["quality", f"qa_{d.name}"]) for d in DATASETS],
    check_specs=[
        dg.AssetCheckSpec(f"{d.name}_gate", asset=GATE_KEY, blocking=True, description=f"quality rules of {d.name}")
        for d in DATASETS
    ]
    + [
        dg.AssetCheckSpec(
            "source_freshness",
            asset=GATE_KEY,
            blocking=False,
            description="the newest file of each raw source arrived within its dbt `freshness.warn_after` (a warning)",
        )
    ],
    group_name="quality",
    kinds={"great_expectations"},
    description="Runs the Great Expectations suites on the staged data, quarantines rows that break a row rule, "
    "appends quality.runs / quality.results and rebuilds the Data Docs under <data dir>/quality/docs.",
)
def quality_gate(context: dg.AssetExecutionContext, settings: ClosedloopSettings):
    cfg = settings.get()
    progress("quality gate: validating staged data")
    outcome = _run_gate(cfg, context.run_id)
    stale = _record_freshness(cfg, context.run_id)
    yield dg.MaterializeResult(
        metadata={
            "passed": outcome.passed,
            "rows_quarantined": sum(d.quarantined for d in outcome.datasets),
            "data_docs": dg.MetadataValue.path(str(outcome.docs_path)),
        }
    )
    for verdict in outcome.datasets:
        failed = [f for f in verdict.findings if not f.passed]
        progress(
            f"quality gate: {verdict.name}: {verdict.rows_checked} rows checked, {verdict.quarantined} quarantined"
            + (f" — BLOCKED: {verdict.blocked_because}" if verdict.blocked_because else "")
        )
        yield dg.AssetCheckResult(
            check_name=f"{verdict.name}_gate",
            passed=verdict.blocked_because is None,
            severity=dg.AssetCheckSeverity.ERROR,
            description=verdict.blocked_because,
            metadata={
                "rows_checked": verdict.rows_checked,
                "rows_quarantined": verdict.quarantined,
                "quarantine_rate": verdict.quarantine_rate,
                "failed_rules": ", ".join(f"{f.rule} ({f.failing_rows})" for f in failed) or "none",
            },
        )
    yield dg.AssetCheckResult(
        check_name="source_freshness",
        passed=not stale,
        severity=dg.AssetCheckSeverity.WARN,
        description="; ".join(stale) or "every delivered source is fresh",
    )


def _run_gate(cfg, run_id: str):
    return run_gate(warehouse_url(cfg), cfg.quality_dir, run_id, cfg.max_quarantine_rate)


def _record_freshness(cfg, run_id: str) -> list[str]:
    """Appends one quality.results row per delivered raw source; returns the stale ones, described."""
    from orchestration.lib.warehouse import open_warehouse

    now = datetime.now(UTC).replace(tzinfo=None)
    with open_warehouse(cfg.dbt_target, cfg.warehouse_path) as warehouse:
        measured = freshness.measure(warehouse, freshness.declared_freshness(dbt_project.manifest_path), now)
        warehouse.write(append={"quality.results": freshness.result_rows(run_id, measured, now)})
    return [
        f"{s.table}: newest file {s.age_hours:.0f} h old (warn after {s.warn_after_hours:g} h)"
        for s in measured
        if s.age_hours is not None and not s.passed
    ]
