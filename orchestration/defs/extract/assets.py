"""Extract: one asset per landing source, loading new files into raw.<source> of the build warehouse."""


from datetime import datetime, timezone

import dagster as dg
import duckdb

from orchestration.defs.resources import ClosedloopSettings
from orchestration.lib.contract import CONTRACTS
from orchestration.lib.landing import discover, ensure_raw_tables, load_source
from orchestration.lib.progress import progress
from orchestration.settings import REQUIRED_SOURCES, SOURCES


class MissingSourceError(Exception):
    pass


def build_extract_asset(source: str) -> dg.AssetsDefinition:
    contract = CONTRACTS[source]

    @dg.asset(
        key=["raw", source],
        group_name="extract",
        kinds={"duckdb"},
        description=(
            f"Landing files of `{source}` loaded as text into raw.{source}, each file once (by content hash)."
            f" Required columns: {', '.join(contract.required)}."
        ),
    )
    def extract(context: dg.AssetExecutionContext, settings: ClosedloopSettings) -> dg.MaterializeResult:
        cfg = settings.get()
        files = discover(cfg.landing_dir, source)
        if source in REQUIRED_SOURCES and not files:
            raise MissingSourceError(
                f"{cfg.landing_dir / source}: no files for the required source {source} (.csv, .jsonl or .parquet)"
            )
        cfg.data_dir.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(str(cfg.warehouse_path)) as con:
            ensure_raw_tables(con)
            loaded = load_source(
                con,
                source,
                files,
                run_id=context.run_id,
                loaded_at=datetime.now(timezone.utc).replace(tzinfo=None),
                encoding=cfg.csv_encoding,
                phone_region=cfg.default_phone_region,
            )
            total = con.execute(f"select count(*) from raw.{source}").fetchone()[0]
        if loaded.files_loaded or files:
            progress(
                f"extract {source}: {len(loaded.files_loaded)} new file(s), {loaded.rows:,} rows"
                f" ({len(loaded.files_skipped)} already loaded)"
            )
        return dg.MaterializeResult(
            metadata={
                "rows_loaded": loaded.rows,
                "files_loaded": len(loaded.files_loaded),
                "files_skipped": len(loaded.files_skipped),
                "raw_rows_total": total,
            }
        )

    extract.__name__ = f"extract_{source}"
    return extract


extract_assets = [build_extract_asset(source) for source in SOURCES]
