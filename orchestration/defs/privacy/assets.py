"""Erasure requests applied: once every landing source is loaded into raw (`raw/erasure_requests` last), the
requests not applied yet take their people out of raw, intermediate, marts and serving, and their hashed
identifiers join the suppression list raw._suppressed (orchestration/lib/erasure/), so staging never sees an
erased person's rows.

On the postgres target this step then copies the raw rows of files the server does not have yet to its `raw`
schema (orchestration/lib/postgres.py), after the requests are applied on both, so dbt builds on the server from
the same rows; on the spark target it copies them to Spark's `raw` tables (orchestration/lib/spark.py). Every dbt
model that reads a raw table depends on this asset (orchestration/defs/dbt/translator.py).
"""

import dagster as dg

from orchestration.defs.extract.assets import extract_assets
from orchestration.defs.resources import ClosedloopSettings
from orchestration.lib.erasure import apply_erasure_requests
from orchestration.lib.postgres import LOADED_FILES, copy_raw_to_postgres, postgres_settings_from_env
from orchestration.lib.progress import progress

ERASURE_APPLIED = dg.AssetKey(["privacy", "erasure_applied"])


@dg.asset(
    key=ERASURE_APPLIED,
    # every raw table: the requests purge them all (raw/erasure_requests itself runs after the other sources)
    deps=extract_assets,
    group_name="privacy",
    kinds={"duckdb"},
    description=(
        "The delivered erasure requests not applied yet, applied: the people leave raw, intermediate, marts and"
        " serving; their hashed identifiers join the suppression list raw._suppressed. On the postgres target, then"
        " the new raw rows are copied to the server; on spark, the bookkeeping tables."
    ),
)
def erasure_applied(settings: ClosedloopSettings) -> dg.MaterializeResult:
    cfg = settings.get()
    erased = apply_erasure_requests(cfg)
    if erased.requests:
        progress(f"erasure: {erased.requests} request(s) applied, {erased.rows_removed:,} rows removed")
    if erased.unusable:
        progress(f"erasure: {erased.unusable} request(s) named no valid email or phone; cleared, nothing erased")
    metadata = {
        "requests_applied": erased.requests,
        "requests_unusable": erased.unusable,
        "rows_erased": erased.rows_removed,
    }
    if cfg.dbt_target == "postgres":
        metadata["rows_copied_to_postgres"] = _copy_to_postgres(cfg)
    elif cfg.dbt_target == "spark":
        metadata["rows_copied_to_spark"] = _copy_to_spark(cfg)
    return dg.MaterializeResult(metadata=metadata)


def _copy_to_postgres(cfg) -> int:
    copied = copy_raw_to_postgres(cfg.warehouse_path, postgres_settings_from_env())
    rows = sum(n for table, n in copied.items() if table != LOADED_FILES)
    progress(f"extract: {rows:,} new raw rows copied to PostgreSQL ({copied[LOADED_FILES]} file(s))")
    return rows


def _copy_to_spark(cfg) -> int:
    from orchestration.lib.spark import active_session, copy_raw_to_spark

    copied = copy_raw_to_spark(cfg.warehouse_path, active_session())
    rows = sum(n for table, n in copied.items() if table != LOADED_FILES)
    progress(f"extract: {rows:,} bookkeeping rows copied to Spark")
    return rows
