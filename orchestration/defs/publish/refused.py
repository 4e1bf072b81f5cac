"""When a night is refused (a landing file, a missing source, the quality gate), the failure hook of the nightly
job still tells analysts: the refused run joins the quality tables of the serving file and of the PostgreSQL
copy (the marts stay as they were), the quality exports and the report, whose banner names the run, the failing
rules and sample keys."""

import dagster as dg

from orchestration.defs.dbt.runner import failure_message, invocation_dir, invoke
from orchestration.defs.resources import dbt_project
from orchestration.lib.exports import export_parquet
from orchestration.lib.progress import progress
from orchestration.lib.refused_night import REFUSAL_ERRORS, has_quality_tables, record_refused_run, republish_quality
from orchestration.lib.serving_docs import docs_from_manifest
from orchestration.lib.serving_postgres import publish_quality_to_postgres


@dg.failure_hook(required_resource_keys={"settings"})
def publish_refused_night(context: dg.HookContext) -> None:
    error = context.op_exception
    if error is None or not any(type(e).__name__ in REFUSAL_ERRORS for e in _chain(error)):
        return
    from orchestration.lib.report import write_report

    cfg = context.resources.settings.get()
    if not has_quality_tables(
        cfg.dbt_target, cfg.warehouse_path
    ):  # refused before dbt ever ran here: create them first
        done = invoke(cfg, ["run-operation", "install_quality_tables"], invocation_dir(cfg, "refused", context.run_id))
        if not done.success:
            raise RuntimeError(failure_message(done))
    record_refused_run(cfg.dbt_target, cfg.warehouse_path, context.run_id, _message(error))
    republish_quality(
        cfg.dbt_target,
        cfg.warehouse_path,
        cfg.serving_path,
        context.run_id,
        docs_from_manifest(dbt_project.manifest_path),
    )
    export_parquet(cfg.serving_path, cfg.exports_dir, schemas=("quality",))
    if cfg.serving_url:  # BI servers see the refused night too; their marts stay untouched
        publish_quality_to_postgres(cfg.serving_path, cfg.serving_url)
    write_report(
        cfg.serving_path, cfg.report_path, {"run_id": context.run_id, "outcome": "stopped, marts not refreshed"}
    )
    progress(f"refused night recorded in {cfg.serving_path} (quality.runs) and {cfg.report_path}")


def _chain(error: BaseException):
    while error is not None:
        yield error
        error = error.__cause__ or error.__context__


def _message(error: BaseException) -> str:
    for e in _chain(error):
        if type(e).__name__ in REFUSAL_ERRORS - {"DagsterAssetCheckFailedError"}:
            return str(e)
    return str(error)
