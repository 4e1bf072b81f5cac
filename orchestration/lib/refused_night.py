"""A refused night, made visible: the marts stay as the last good night published them, while the quality tables
of the serving file gain the refused run, so "what failed last night" answers about last night.

The gate records a run it blocked itself (`quality.runs`, status `blocked`); a night refused before the gate
(an unreadable or malformed landing file, a missing source) is recorded here with status `refused`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from orchestration.lib.publish import Published, attach_warehouse, connect_in_memory, write_and_replace
from orchestration.lib.serving_docs import TableDoc, docs_from_duckdb
from orchestration.lib.sql import sql_literal, table_exists
from orchestration.lib.warehouse import open_warehouse

QUALITY_TABLES = ("quality.runs", "quality.results", "quality.quarantine")
# errors that mean the delivered data was refused, as opposed to a bug or a broken environment
REFUSAL_ERRORS = frozenset({"LandingError", "MissingSourceError", "DagsterAssetCheckFailedError"})


def has_quality_tables(target: str, warehouse_path: Path) -> bool:
    if target == "duckdb" and not warehouse_path.exists():
        return False
    if target == "spark":  # Spark has no information_schema
        from orchestration.lib.spark import active_session

        return active_session().catalog.tableExists("quality.runs")
    with open_warehouse(target, warehouse_path) as warehouse:
        return table_exists(warehouse, "quality", "runs")


def record_refused_run(target: str, warehouse_path: Path, run_id: str, reason: str) -> bool:
    """Appends the run to quality.runs with status `refused`, unless the gate recorded it; True if appended."""
    now = datetime.now(UTC).replace(tzinfo=None)
    with open_warehouse(target, warehouse_path) as warehouse:
        recorded = warehouse.read_text(
            f"select count(*) as recorded from quality.runs where run_id = {sql_literal(run_id)}"
        )
        if recorded.column("recorded")[0].as_py() != "0":
            return False
        row = {
            "run_id": [run_id],
            "started_at": [now],
            "finished_at": [now],
            "status": ["refused"],
            "rows_checked": [0],
            "rows_quarantined": [0],
            "blocking_reason": [reason[:4000]],
        }
        warehouse.write(append={"quality.runs": pa.table(row)})
    return True


def republish_quality(
    target: str, warehouse_path: Path, serving_path: Path, run_id: str, quality_docs: dict[str, TableDoc]
) -> Published:
    """A new serving file: the marts of the current one, unchanged, and the build warehouse's quality tables."""
    with connect_in_memory(serving_path, run_id) as con:
        attach_warehouse(con, target, warehouse_path, {"quality": tuple(n.split(".")[1] for n in QUALITY_TABLES)})
        tables, docs = {}, {}
        if serving_path.exists():
            con.execute(f"attach {sql_literal(serving_path)} as current_serving (read_only)")
            docs = docs_from_duckdb(con, "current_serving")
            tables = {name: f"select * from current_serving.{name}" for name in docs if name.startswith("marts.")}
        tables |= {name: f"select * from warehouse.{name}" for name in QUALITY_TABLES}
        docs |= {name: quality_docs.get(name, TableDoc()) for name in QUALITY_TABLES}
        # the marts are kept as they are in the copy of the current file; only the quality tables are written
        return write_and_replace(con, serving_path, f"{run_id}-refused", tables, docs, reuse=True)
