"""The nightly job (every asset, one writer) and its schedule."""

import dagster as dg

from orchestration.defs.publish.refused import publish_refused_night
from orchestration.lib.night_state import nothing_new
from orchestration.settings import load_settings

nightly_job = dg.define_asset_job(
    name="nightly",
    selection=dg.AssetSelection.all(),
    # one process, one step at a time: DuckDB allows a single writer
    executor_def=dg.in_process_executor,
    # a refused night still reaches the serving file's quality tables and the report
    hooks={publish_refused_night},
    description="Load new landing files, build the warehouse, gate, publish serving.duckdb and the report.",
)


@dg.schedule(
    name="nightly_at_2am",
    job=nightly_job,
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="The nightly job at 02:00 UTC, skipped when nothing is new since the last published night "
    "(orchestration/lib/night_state.py).",
)
def nightly_schedule(context: dg.ScheduleEvaluationContext):
    last = nothing_new(load_settings())
    if last is not None:
        return dg.SkipReason(f"nothing new since the published night {last}: its marts stand")
    return dg.RunRequest()
