"""Credit conservation of the published attribution, recorded in quality.results each night: for every
conversion and model the shares sum to 1 and the attributed values to the conversion's value (the dbt test
assert_attribution_reconciles fails the build on it; this row keeps the night's outcome beside the gate's)."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa

RESULTS_TABLE = "quality.results"
RULE = "credit_conservation"
SAMPLE_SIZE = 5

# per conversion × model, whether it conserves credit (engine-neutral SQL)
FLAGGED = """
with per_model as (
    select attribution.conversion_id, attribution.model, sum(attribution.share) as share_total,
           sum(attribution.attributed_value) as value_total, max(conversions.value) as value
    from marts.fct_attribution as attribution
    inner join marts.fct_conversions as conversions on conversions.conversion_id = attribution.conversion_id
    group by attribution.conversion_id, attribution.model
)
select model, conversion_id,
       case when abs(share_total - 1) > 1e-9 or abs(value_total - value) > 1e-6 * (1 + abs(value))
            then 1 else 0 end as failing
from per_model
"""
# counted in the engine: at 1 M leads there are 15 M pairs, which Python need not see
COUNT_SQL = f"select count(*) as checked, coalesce(sum(failing), 0) as failed from ({FLAGGED}) as flagged"
SAMPLE_SQL = (
    f"select model, conversion_id from ({FLAGGED}) as flagged where failing = 1"
    f" order by model, conversion_id limit {SAMPLE_SIZE}"
)


def result_row(checked: int, failed: int, sample: list[str], run_id: str, checked_at: datetime) -> pa.Table:
    """The quality.results row of `checked` conversion × model pairs, `failed` of them failing (`sample`: keys)."""
    return pa.table(
        {
            "run_id": pa.array([run_id], pa.string()),
            "dataset": pa.array(["fct_attribution"], pa.string()),
            "rule": pa.array([RULE], pa.string()),
            "expectation": pa.array(
                ["per conversion and model: shares sum to 1, attributed values to the value"], pa.string()
            ),
            "severity": pa.array(["error"], pa.string()),
            "passed": pa.array([failed == 0], pa.bool_()),
            "rows_checked": pa.array([checked], pa.int64()),
            "failing_rows": pa.array([failed], pa.int64()),
            "failing_rate": pa.array([failed / checked if checked else None], pa.float64()),
            "sample_keys": pa.array([", ".join(sample)], pa.string()),
            "checked_at": pa.array([checked_at], pa.timestamp("us")),
        }
    )


def record_credit_conservation(warehouse, run_id: str, now: datetime | None = None) -> pa.Table:
    """Checks the built fct_attribution in `warehouse` (orchestration.lib.warehouse) and appends the result."""
    counts = warehouse.read_text(COUNT_SQL)
    checked, failed = int(counts.column("checked")[0].as_py()), int(counts.column("failed")[0].as_py())
    sample = []
    if failed:
        found = warehouse.read_text(SAMPLE_SQL)
        models, conversions = found.column("model").to_pylist(), found.column("conversion_id").to_pylist()
        sample = [f"{m}:{c}" for m, c in zip(models, conversions, strict=True)]
    row = result_row(checked, failed, sample, run_id, (now or datetime.now(UTC)).replace(tzinfo=None))
    warehouse.write(append={RESULTS_TABLE: row})
    return row
