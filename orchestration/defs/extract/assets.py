"""Extract: one asset per landing source, loading new files into raw.<source> of the build warehouse.

`raw/erasure_requests` loads after every other source; the next step, `privacy/erasure_applied`
(orchestration/defs/privacy/assets.py), applies the requests before staging reads raw.

Files are always checked by the loader on the local DuckDB file, whatever the dbt target: it keeps the load-once
bookkeeping, the refusals and the suppression list in one place. On the postgres target the rows land in the local
file too, and the erasure step then copies the rows of files the server does not have yet to its `raw` schema
(orchestration/lib/postgres.py). On the spark target Spark reads each checked file itself into its `raw` tables
(orchestration/lib/spark_landing.py); only the small bookkeeping tables are copied."""

from datetime import UTC, datetime

import dagster as dg
import duckdb

from orchestration.defs.resources import ClosedloopSettings
from orchestration.lib.contract import CONTRACTS
from orchestration.lib.landing import complete_files, discover, ensure_raw_tables, load_source
from orchestration.lib.night_state import remember_landing_hashes
from orchestration.lib.privacy import pii_key
from orchestration.lib.progress import progress
from orchestration.lib.spark_landing import spark_loaded
from orchestration.settings import REQUIRED_SOURCES, SOURCES

ERASURE_SOURCE = "erasure_requests"


class MissingSourceError(Exception):
    pass


def build_extract_asset(source: str, deps: list[dg.AssetsDefinition] | None = None) -> dg.AssetsDefinition:
    contract = CONTRACTS[source]
    description = (
        f"Landing files of `{source}` loaded as text into raw.{source}, each file once (by content hash)."
        f" Required columns: {', '.join(contract.required)}."
    )
    if source == ERASURE_SOURCE:
        description += " Runs after every other source; privacy/erasure_applied then applies the requests."

    @dg.asset(
        key=["raw", source],
        deps=deps or [],
        group_name="extract",
        kinds={"duckdb"},
        description=description,
    )
    def extract(context: dg.AssetExecutionContext, settings: ClosedloopSettings) -> dg.MaterializeResult:
        cfg = settings.get()
        remember_landing_hashes(cfg)
        files, deferred = complete_files(
            discover(cfg.landing_dir, source), cfg.landing_settle_seconds, cfg.landing_ready_marker
        )
        if source in REQUIRED_SOURCES and not files and not deferred:
            raise MissingSourceError(
                f"{cfg.landing_dir / source}: no files for the required source {source} (.csv, .jsonl or .parquet)"
            )
        cfg.data_dir.mkdir(parents=True, exist_ok=True)
        sink = _spark_sink() if cfg.dbt_target == "spark" and spark_loaded(source) else None
        with duckdb.connect(str(cfg.warehouse_path)) as con:
            ensure_raw_tables(con)
            loaded = load_source(
                con,
                source,
                files,
                run_id=context.run_id,
                loaded_at=datetime.now(UTC).replace(tzinfo=None),
                encoding=cfg.csv_encoding,
                phone_region=cfg.default_phone_region,
                pii_key=pii_key(cfg),
                sink=sink,
            )
            count = f"select count(*) from raw.{source}"
            total = sink.session.sql(count).first()[0] if sink else con.execute(count).fetchone()[0]
        if loaded.files_loaded or files:
            progress(
                f"extract {source}: {len(loaded.files_loaded)} new file(s), {loaded.rows:,} rows"
                f" ({len(loaded.files_skipped)} already loaded)"
                + (f", {loaded.rows_suppressed:,} rows of erased people left out" if loaded.rows_suppressed else "")
            )
        waiting = [(p.name, why) for p, why in deferred] + loaded.files_deferred
        for name, why in waiting:
            progress(f"extract {source}: {name} not taken tonight: {why}; the next run takes it once it is complete")
        for name in loaded.files_changed:
            progress(
                f"extract {source}: warning: {name} was loaded before with other content; both deliveries are"
                f" in raw now (if the earlier one was cut short: closedloop unload {source}/{name})"
            )
        metadata = {
            "files_deferred": len(waiting),
            "files_changed_after_load": len(loaded.files_changed),
            "rows_loaded": loaded.rows,
            "rows_suppressed": loaded.rows_suppressed,
            "files_loaded": len(loaded.files_loaded),
            "files_skipped": len(loaded.files_skipped),
            "raw_rows_total": total,
        }
        return dg.MaterializeResult(metadata=metadata)

    extract.__name__ = f"extract_{source}"
    return extract


def _spark_sink():
    """Spark's sink for the loader (orchestration/lib/spark_landing.py), on the run's session."""
    from orchestration.lib.spark import active_session
    from orchestration.lib.spark_landing import SparkSink, ensure_spark_raw_tables

    session = active_session()
    ensure_spark_raw_tables(session)
    return SparkSink(session)


_loaders = [build_extract_asset(source) for source in SOURCES if source != ERASURE_SOURCE]
extract_assets = [*_loaders, build_extract_asset(ERASURE_SOURCE, deps=_loaders)]
