"""Publish: the serving file BI reads, its PostgreSQL copy, its Parquet exports and the HTML report."""

import time
from pathlib import Path

import dagster as dg

from orchestration.defs.dbt.assets import mart_keys
from orchestration.defs.dbt.runner import failure_message, invoke
from orchestration.defs.resources import ClosedloopSettings, dbt_project
from orchestration.lib.credit import record_credit_conservation, recorded_failures
from orchestration.lib.dbt_docs import write_dbt_docs
from orchestration.lib.exports import export_parquet
from orchestration.lib.landing import loaded_in_run
from orchestration.lib.night_state import record_published_night
from orchestration.lib.personal_data import published_hashes
from orchestration.lib.privacy import pii_key
from orchestration.lib.progress import progress
from orchestration.lib.publish import publish
from orchestration.lib.serving_docs import docs_from_manifest
from orchestration.lib.serving_postgres import describe_url, publish_to_postgres
from orchestration.lib.warehouse import open_warehouse


@dg.asset(
    key=["serving", "marts"],
    deps=mart_keys(),
    group_name="publish",
    kinds={"duckdb"},
    description="serving.duckdb: the marts and quality tables in a new file (readable by DuckDB 1.1 on, dbt "
    "descriptions as comments, keys declared), started from a copy of the old one with only what changed written, "
    "checked, and renamed over the old one in one step.",
)
def serving_marts(context: dg.AssetExecutionContext, settings: ClosedloopSettings) -> dg.MaterializeResult:
    cfg = settings.get()
    progress(f"publish: writing {cfg.serving_path.name}")
    # recorded before the copy, so the serving file's quality.results carries tonight's row: by the marts build
    # when it ran the dbt test of the same sums, else here
    with open_warehouse(cfg.dbt_target, cfg.warehouse_path) as warehouse:
        failing = recorded_failures(warehouse, context.run_id)
        if failing is None:
            failing = record_credit_conservation(warehouse, context.run_id).column("failing_rows")[0].as_py()
    if failing:
        context.log.warning(f"credit conservation: {failing} conversion × model pairs fail")
    docs = docs_from_manifest(dbt_project.manifest_path)
    # personal data the dbt YAML says to publish hashed (fct_touchpoints' cookie ids): keyed hashes in serving
    hashed = published_hashes(dbt_project.manifest_path)
    published = publish(
        cfg.warehouse_path, cfg.serving_path, context.run_id, docs, cfg.dbt_target, hashed, pii_key(cfg)
    )
    progress(f"publish: {len(published.tables)} marts → {published.path} ({published.describe_changes()})")
    changes = {f"tables_{how}": n for how, n in published.changes().items()}
    return dg.MaterializeResult(metadata={"path": str(published.path), **changes, **published.tables})


@dg.asset(
    key=["serving", "postgres"],
    deps=[serving_marts],
    group_name="publish",
    kinds={"postgres"},
    description="The published marts and quality tables in the PostgreSQL database of CLOSEDLOOP_SERVING_URL,"
    " swapped in atomically (does nothing when the setting is unset).",
)
def serving_postgres(settings: ClosedloopSettings) -> dg.MaterializeResult:
    cfg = settings.get()
    # materialised either way, so the UI and the run's metadata say plainly whether PostgreSQL was served
    if not cfg.serving_url:
        return dg.MaterializeResult(metadata={"published": False, "reason": "CLOSEDLOOP_SERVING_URL is not set"})
    started = time.monotonic()
    tables = publish_to_postgres(cfg.serving_path, cfg.serving_url)
    seconds = round(time.monotonic() - started, 1)
    database = describe_url(cfg.serving_url)
    progress(f"publish: {len(tables)} tables → PostgreSQL {database} ({seconds} s)")
    return dg.MaterializeResult(metadata={"published": True, "database": database, "seconds": seconds, **tables})


@dg.asset(
    key=["serving", "exports"],
    deps=[serving_marts],
    group_name="publish",
    kinds={"parquet"},
    description="Parquet copies of the published marts in <data dir>/exports/ (a table whose content did not change"
    " keeps its file).",
)
def serving_exports(settings: ClosedloopSettings) -> dg.MaterializeResult:
    cfg = settings.get()
    written = export_parquet(cfg.serving_path, cfg.exports_dir)  # the tables whose content changed
    return dg.MaterializeResult(metadata={"files_written": len(written), "dir": str(cfg.exports_dir)})


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


@dg.asset(
    key=["serving", "dbt_docs"],
    deps=[serving_marts],
    group_name="publish",
    kinds={"dbt", "html"},
    description="docs/dbt/index.html: dbt's static docs site (lineage, every model's and column's description), "
    "one file that opens offline; regenerated when the dbt project changed.",
)
def serving_dbt_docs(settings: ClosedloopSettings) -> dg.MaterializeResult:
    cfg = settings.get()
    site = cfg.data_dir / "docs" / "dbt"
    regenerated = write_dbt_docs(
        dbt_project.manifest_path,
        site,
        cfg.dbt_target,
        lambda build: _generate_docs(cfg, build),
    )
    if regenerated:
        progress(f"dbt docs: {site / 'index.html'}")
    return dg.MaterializeResult(
        metadata={"path": dg.MetadataValue.path(str(site / "index.html")), "regenerated": regenerated}
    )


def _generate_docs(cfg, build: Path) -> None:
    done = invoke(cfg, ["docs", "generate", "--static"], build)
    if not done.success:
        raise RuntimeError(failure_message(done))


@dg.asset(
    key=["serving", "night_recorded"],
    deps=[serving_marts, serving_postgres, serving_exports, serving_report, serving_dbt_docs],
    group_name="publish",
    description="state/published_night.json: what tonight's published marts were built from (landing files, "
    "project, settings, code), so that a night with nothing new stops before it starts (docs/operations.md).",
)
def serving_night_recorded(context: dg.AssetExecutionContext, settings: ClosedloopSettings) -> dg.MaterializeResult:
    path = record_published_night(settings.get(), context.run_id)
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path))})
