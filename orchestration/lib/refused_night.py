"""A refused night, made visible: the marts stay as the last good night published them, while the quality tables
of the serving file gain the refused run, so "what failed last night" answers about last night.

The gate records a run it blocked itself (`quality.runs`, status `blocked`); a night refused before the gate
(an unreadable or malformed landing file, a missing source) is recorded here with status `refused`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.lib.publish import Published, connect_in_memory, write_and_replace
from orchestration.lib.serving_docs import TableDoc, docs_from_duckdb

QUALITY_TABLES = ("quality.runs", "quality.results", "quality.quarantine")
# errors that mean the delivered data was refused, as opposed to a bug or a broken environment
REFUSAL_ERRORS = frozenset({"LandingError", "MissingSourceError", "DagsterAssetCheckFailedError"})


def has_quality_tables(warehouse_path: Path) -> bool:
    if not warehouse_path.exists():
        return False
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        found = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'quality' and table_name = 'runs'"
        ).fetchone()[0]
    return found == 1


def record_refused_run(warehouse_path: Path, run_id: str, reason: str) -> bool:
    """Appends the run to quality.runs with status `refused`, unless the gate recorded it; True if appended."""
    now = datetime.now(UTC).replace(tzinfo=None)
    with duckdb.connect(str(warehouse_path)) as con:
        if con.execute("select count(*) from quality.runs where run_id = ?", [run_id]).fetchone()[0]:
            return False
        con.execute(
            "insert into quality.runs (run_id, started_at, finished_at, status, rows_checked, rows_quarantined,"
            " blocking_reason) values (?, ?, ?, 'refused', 0, 0, ?)",
            [run_id, now, now, reason[:4000]],
        )
    return True


def republish_quality(
    warehouse_path: Path, serving_path: Path, run_id: str, quality_docs: dict[str, TableDoc]
) -> Published:
    """A new serving file: the marts of the current one, unchanged, and the warehouse's quality tables."""
    with connect_in_memory(serving_path, run_id) as con:
        con.execute(f"attach '{_escape(warehouse_path)}' as warehouse (read_only)")
        tables, docs = {}, {}
        if serving_path.exists():
            con.execute(f"attach '{_escape(serving_path)}' as current_serving (read_only)")
            docs = docs_from_duckdb(con, "current_serving")
            tables = {
                name: f"select * from current_serving.{name}"
                for name in docs
                if name.startswith("marts.")
            }
        tables |= {name: f"select * from warehouse.{name}" for name in QUALITY_TABLES}
        docs |= {name: quality_docs.get(name, TableDoc()) for name in QUALITY_TABLES}
        return write_and_replace(con, serving_path, f"{run_id}-refused", tables, docs)


def _escape(path: Path) -> str:
    return str(path).replace("'", "''")
