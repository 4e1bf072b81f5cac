"""Credit conservation of the published attribution, recorded in quality.results each night: for every
conversion and model the shares sum to 1 and the attributed values to the conversion's value (the dbt test
assert_attribution_reconciles fails the build on it; this row keeps the night's outcome beside the gate's)."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa

RESULTS_TABLE = "quality.results"
RULE = "credit_conservation"
SAMPLE_SIZE = 5

# one row per conversion × model, with whether it conserves credit (engine-neutral SQL)
CHECK_SQL = """
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
order by failing desc, model, conversion_id
"""


def result_row(checks: pa.Table, run_id: str, checked_at: datetime) -> pa.Table:
    """checks: CHECK_SQL's rows (text columns) → one quality.results row."""
    failing = [f == "1" for f in checks.column("failing").to_pylist()]
    keys = [
        f"{m}:{c}"
        for m, c, f in zip(
            checks.column("model").to_pylist(), checks.column("conversion_id").to_pylist(), failing, strict=True
        )
        if f
    ]
    checked, failed = len(failing), sum(failing)
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
            "sample_keys": pa.array([", ".join(keys[:SAMPLE_SIZE])], pa.string()),
            "checked_at": pa.array([checked_at], pa.timestamp("us")),
        }
    )


def record_credit_conservation(warehouse, run_id: str, now: datetime | None = None) -> pa.Table:
    """Checks the built fct_attribution in `warehouse` (orchestration.lib.warehouse) and appends the result."""
    row = result_row(warehouse.read_text(CHECK_SQL), run_id, (now or datetime.now(UTC)).replace(tzinfo=None))
    warehouse.write(append={RESULTS_TABLE: row})
    return row
