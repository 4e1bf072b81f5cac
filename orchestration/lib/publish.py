"""Publishing: copy the marts into a new DuckDB file, check it, and rename it over serving.duckdb in one step.

BI readers of the old file keep reading it (they hold its inode); new readers see the new file whole. The build
warehouse is only read here, and the serving file is never opened for writing in place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.lib.files import fsync, remove_database

# schema → the tables published from it (None: all); quality.quarantined_keys is the gate's working state
PUBLISHED = {"marts": None, "quality": ("runs", "results", "quarantine")}


class PublishError(Exception):
    pass


@dataclass
class Published:
    path: Path
    tables: dict[str, int]


def publish(warehouse_path: Path, serving_path: Path, run_id: str) -> Published:
    serving_path.parent.mkdir(parents=True, exist_ok=True)
    staging_path = serving_path.with_name(f".{serving_path.name}.{run_id}.tmp")
    remove_database(staging_path)
    try:
        tables = _copy_marts(warehouse_path, staging_path)
        _check(staging_path, tables)
        fsync(staging_path)
        os.replace(staging_path, serving_path)
        fsync(serving_path.parent)
    finally:
        remove_database(staging_path)
    return Published(serving_path, tables)


def export_parquet(serving_path: Path, exports_dir: Path) -> list[Path]:
    """Parquet copies of the published marts, each replaced atomically."""
    exports_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with duckdb.connect(str(serving_path), read_only=True) as con:
        catalog = con.execute("select current_database()").fetchone()[0]
        for schema, table in _tables(con, catalog):
            name = table if schema == "marts" else f"{schema}_{table}"
            target = exports_dir / f"{name}.parquet"
            temporary = exports_dir / f".{name}.parquet.tmp"
            con.execute(f"copy {schema}.{table} to '{temporary}' (format parquet)")
            os.replace(temporary, target)
            written.append(target)
    return written


def _copy_marts(warehouse_path: Path, staging_path: Path) -> dict[str, int]:
    counts = {}
    with duckdb.connect(str(staging_path)) as con:
        con.execute(f"attach '{warehouse_path}' as warehouse (read_only)")
        for schema, wanted in PUBLISHED.items():
            con.execute(f"create schema if not exists {schema}")
            for _, table in _tables(con, "warehouse", schema):
                if wanted is not None and table not in wanted:
                    continue
                con.execute(f"create table {schema}.{table} as select * from warehouse.{schema}.{table}")
                counts[f"{schema}.{table}"] = con.execute(f"select count(*) from warehouse.{schema}.{table}").fetchone()[0]
        con.execute("detach warehouse")
        con.execute("checkpoint")
    if not counts:
        raise PublishError(f"the warehouse {warehouse_path} has no marts to publish")
    return counts


def _check(path: Path, expected: dict[str, int]) -> None:
    with duckdb.connect(str(path), read_only=True) as con:
        for name, rows in expected.items():
            found = con.execute(f"select count(*) from {name}").fetchone()[0]
            if found != rows:
                raise PublishError(f"{name}: {found} rows in the new serving file, {rows} in the warehouse")


def _tables(con, catalog: str, schema: str | None = None) -> list[tuple[str, str]]:
    sql = (
        "select table_schema, table_name from information_schema.tables"
        " where table_catalog = ? and table_type = 'BASE TABLE'"
    )
    params = [catalog]
    if schema:
        sql += " and table_schema = ?"
        params.append(schema)
    else:
        sql += " and table_schema not in ('information_schema', 'pg_catalog')"
    return [tuple(r) for r in con.execute(sql + " order by 1, 2", params).fetchall()]
