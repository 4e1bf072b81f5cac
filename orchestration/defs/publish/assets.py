"""Publish: the serving file BI reads, its Parquet exports and the HTML report."""


import dagster as dg

from orchestration.defs.dbt.assets import mart_keys
from orchestration.defs.resources import ClosedloopSettings
from orchestration.lib.credit import record_credit_conservation
from orchestration.lib.landing import loaded_in_run
from orchestration.lib.progress import progress
from orchestration.lib.publish import export_parquet, publish
from orchestration.lib.warehouse import open_warehouse


@dg.asset(
    key=["serving", "marts"],
    deps=mart_keys(),
    group_name="publish",
    kinds={"duckdb"},
    description="serving.duckdb: the marts copied into a new file, checked, and renamed over the old one in one step.",
)
def serving_marts(context: dg.AssetExecutionContext, settings: ClosedloopSettings) -> dg.MaterializeResult:
    cfg = settings.get()
    # recorded before the copy, so the serving file's quality.results carries tonight's row
    with open_warehouse(cfg.dbt_target, cfg.warehouse_path) as warehouse:
        credit = record_credit_conservation(warehouse, context.run_id)
    if not credit.column("passed")[0].as_py():
        context.log.warning(f"credit conservation: {credit.column('failing_rows')[0]} conversion × model pairs fail")
    published = publish(cfg.warehouse_path, cfg.serving_path, context.run_id)
    progress(f"publish: {len(published.tables)} marts → {published.path}")
    return dg.MaterializeResult(
        metadata={"path": str(published.path), **{name: rows for name, rows in published.tables.items()}}
    )


@dg.asset(
    key=["serving", "exports"],
    deps=[serving_marts],
    group_name="publish",
    kinds={"parquet"},
    description="Parquet copies of the published marts in <data dir>/exports/.",
)
def serving_exports(settings: ClosedloopSettings) -> dg.MaterializeResult:
    cfg = settings.get()
    written = export_parquet(cfg.serving_path, cfg.exports_dir)
    return dg.MaterializeResult(metadata={"files": len(written), "dir": str(cfg.exports_dir)})


@dg.asset(
    key=["serving", "report"],
    deps=[serving_marts],
    group_name="publish",
    kinds={"html"},
    description="report/index.html: a self-contained HTML report (charts inline, works offline).",
)
def serving_report(context: dg.AssetExecutionContext, settings: ClosedloopSettings) -> dg.MaterializeResult:
    from orchestration.lib.report import write_report

    cfg = settings.get()
    loaded = loaded_in_run(cfg.warehouse_path, context.run_id)
    summary = {"run_id": context.run_id, "rows_loaded": {source: rows for source, _, rows in loaded}}
    path = write_report(cfg.serving_path, cfg.report_path, summary)
    progress(f"report: {path}")
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path))})

