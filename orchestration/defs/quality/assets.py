"""The quality gate between staging and the marts: one asset that validates and quarantines, with one blocking
check per dataset. A failed check stops the marts and publishing in the same run; the last serving file stays."""


import dagster as dg

from orchestration.defs.resources import ClosedloopSettings
from orchestration.lib.progress import progress
from orchestration.lib.quality import warehouse_url
from orchestration.lib.quality.gate import run_gate
from orchestration.lib.quality.rules import DATASETS

GATE_KEY = dg.AssetKey(["quality", "quarantined_keys"])


@dg.asset(
    key=GATE_KEY,
    deps=[dg.AssetKey(["quality", f"qa_{d.name}"]) for d in DATASETS],
    check_specs=[
        dg.AssetCheckSpec(f"{d.name}_gate", asset=GATE_KEY, blocking=True, description=f"quality rules of {d.name}")
        for d in DATASETS
    ],
    group_name="quality",
    kinds={"great_expectations"},
    description="Runs the Great Expectations suites on the staged data, quarantines rows that break a row rule, "
    "appends quality.runs / quality.results and rebuilds the Data Docs under <data dir>/quality/docs.",
)
def quality_gate(context: dg.AssetExecutionContext, settings: ClosedloopSettings):
    cfg = settings.get()
    progress("quality gate: validating staged data")
    outcome = run_gate(warehouse_url(cfg), cfg.quality_dir, context.run_id, cfg.max_quarantine_rate)
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
