"""The nightly job (every asset, one writer) and its schedule."""

import dagster as dg

from orchestration.defs.publish.refused import publish_refused_night

nightly_job = dg.define_asset_job(
    name="nightly",
    selection=dg.AssetSelection.all(),
    # one process, one step at a time: DuckDB allows a single writer
    executor_def=dg.in_process_executor,
    # a refused night still reaches the serving file's quality tables and the report
    hooks={publish_refused_night},
    description="Load new landing files, build the warehouse, gate, publish serving.duckdb and the report.",
)

nightly_schedule = dg.ScheduleDefinition(
    name="nightly_at_2am",
    job=nightly_job,
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
