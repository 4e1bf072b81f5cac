"""Credit conservation of the published attribution, recorded in quality.results each night: for every
conversion and model the shares sum to 1 and the attributed values to the conversion's value (the dbt test
assert_attribution_reconciles fails the build on it; this row keeps the night's outcome beside the gate's).

The marts build records the row from that test's outcome (`record_from_test`): when it passed, the pairs are only
counted, not summed a second time; when it failed, the offenders are counted and sampled here. Publishing records
it (`record_credit_conservation`) only for a night whose build did not run the test."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa

from orchestration.lib.sql import sql_literal

RESULTS_TABLE = "quality.results"
RULE = "credit_conservation"
SAMPLE_SIZE = 5

TEST = "assert_attribution_reconciles"  # the dbt test of the same sums, in the marts build
WIDE = "marts.fct_attribution_wide"  # fct_attribution's rows once per path touch, a share_<model> column each
CONVERSIONS = "marts.fct_conversions"


def flagged_sql(models: list[str]) -> str:
    """Per conversion × model, whether it conserves credit (engine-neutral SQL): one pass over fct_attribution_wide,
    a tenth of fct_attribution's rows, then each conversion's sums crossed with the models."""
    sums = ", ".join(
        f"sum(attribution.share_{m}) as share_{m}, sum(attribution.share_{m} * attribution.value) as value_{m}"
        for m in models
    )
    names = " union all ".join(f"select '{m}' as model" for m in models)
    failing = " ".join(
        f"when '{m}' then case when abs(share_{m} - 1) > 1e-9"
        f" or abs(value_{m} - value) > 1e-6 * (1 + abs(value)) then 1 else 0 end"
        for m in models
    )
    return (
        f"with per_conversion as (select attribution.conversion_id, max(conversions.value) as value, {sums}"
        f" from {WIDE} as attribution"
        f" inner join {CONVERSIONS} as conversions on conversions.conversion_id = attribution.conversion_id"
        " group by attribution.conversion_id)"
        f" select models.model, per_conversion.conversion_id, case models.model {failing} end as failing"
        f" from per_conversion cross join ({names}) as models"
    )


def count_sql(models: list[str]) -> str:
    """Pairs checked and failing, counted in the engine: at 1 M leads there are 15 M, which Python need not see."""
    return f"select count(*) as checked, coalesce(sum(failing), 0) as failed from ({flagged_sql(models)}) as flagged"


def sample_sql(models: list[str]) -> str:
    return (
        f"select model, conversion_id from ({flagged_sql(models)}) as flagged where failing = 1"
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


def record_from_test(warehouse, run_id: str, status: str, now: datetime | None = None) -> pa.Table | None:
    """The night's row from the status of the dbt test `TEST` in the marts build: "pass" means every conversion
    conserved credit under every model (and every conversion is credited), so the pairs are counted from
    fct_conversions; "fail" or "warn" is checked again here for the counts and sample. None (nothing recorded) when
    the test could not run."""
    if status in ("fail", "warn"):
        return record_credit_conservation(warehouse, run_id, now)
    if status != "pass":
        return None
    conversions = int(warehouse.read_text(f"select count(*) as n from {CONVERSIONS}").column("n")[0].as_py())
    row = result_row(conversions * len(_models(warehouse)), 0, [], run_id, _checked_at(now))
    warehouse.write(append={RESULTS_TABLE: row})
    return row


def recorded_failures(warehouse, run_id: str) -> int | None:
    """The failing pairs of the row the run recorded already; None when it recorded none."""
    found = warehouse.read_text(
        f"select failing_rows from {RESULTS_TABLE} where run_id = {sql_literal(run_id)} and rule = {sql_literal(RULE)}"
    )
    return int(found.column("failing_rows")[0].as_py()) if found.num_rows else None


def record_credit_conservation(warehouse, run_id: str, now: datetime | None = None) -> pa.Table:
    """Checks the built fct_attribution in `warehouse` (orchestration.lib.warehouse) and appends the result."""
    models = _models(warehouse)
    counts = warehouse.read_text(count_sql(models))
    checked, failed = int(counts.column("checked")[0].as_py()), int(counts.column("failed")[0].as_py())
    sample = []
    if failed:
        found = warehouse.read_text(sample_sql(models))
        models, conversions = found.column("model").to_pylist(), found.column("conversion_id").to_pylist()
        sample = [f"{m}:{c}" for m, c in zip(models, conversions, strict=True)]
    row = result_row(checked, failed, sample, run_id, _checked_at(now))
    warehouse.write(append={RESULTS_TABLE: row})
    return row


def _models(warehouse) -> list[str]:
    columns = warehouse.read_text(f"select * from {WIDE} where 1 = 0").column_names
    return [column.removeprefix("share_") for column in columns if column.startswith("share_")]


def _checked_at(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).replace(tzinfo=None)
