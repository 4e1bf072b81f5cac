"""`closedloop unload FILE`: take a delivered landing file back out of the warehouse, so one bad delivery cannot
block every later night.

Raw is append-only by file and the landing zone is the record of what was delivered, so the rule is: every
delivery loaded under FILE's name (its source folder and file name) whose content is not the file now in the
landing zone leaves raw. An operator moves a bad file out of the landing zone (or replaces it with the corrected
export under the same name) and unloads it; a file cut short and then delivered whole under the same name keeps
the whole version. The next run re-checks what is left: leads, deals and the other small datasets are checked
whole every night anyway; touchpoints that shared an id with the unloaded rows are released from the quarantine
and checked again, and the incremental touchpoint tables forget those ids so they are rebuilt from what is left.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.lib.contract import CONTRACTS
from orchestration.lib.landing import file_hash
from orchestration.lib.spark_landing import spark_loaded
from orchestration.lib.sql import sql_literal, table_exists

# applied requests cannot be taken back: the people are gone
NOT_UNLOADABLE = ("erasure_requests",)
# incremental tables keyed by touchpoint id (the other datasets are rebuilt whole every night)
TOUCHPOINT_TABLES = (
    ("intermediate", "int_touchpoints_classified"),
    ("intermediate", "int_touchpoint_people"),
    ("marts", "fct_touchpoints"),
)


class UnloadError(Exception):
    pass


@dataclass
class Unloaded:
    source: str
    file_name: str
    versions: list[tuple[str, str, int]] = field(default_factory=list)  # (file hash, loaded run, rows)
    rows: int = 0
    kept_current: bool = False  # the file in the landing zone is loaded and stays
    keys_released: int = 0


def resolve(landing_dir: Path, target: str | Path) -> tuple[str, str, Path]:
    """(source, file name, landing path) of FILE given as a path or as `<source>/<name>` inside the landing zone."""
    given = Path(target)
    source, name = given.parent.name, given.name
    path = Path(landing_dir) / source / name  # the landing zone's copy is the one that counts
    if source not in CONTRACTS:
        raise UnloadError(
            f"{target}: not a landing file (expected <landing>/<source>/<file>, source one of {', '.join(CONTRACTS)})"
        )
    if source in NOT_UNLOADABLE:
        raise UnloadError(f"{target}: applied erasure requests cannot be unloaded")
    return source, name, path


def unload(warehouse_path: Path, landing_dir: Path, target: str | Path, now, spark=None) -> Unloaded:
    """`spark`: the session of the spark target, whose raw tables hold the rows of the landing sources it reads."""
    source, name, path = resolve(landing_dir, target)
    current = file_hash(path) if path.is_file() else None
    result = Unloaded(source, name)
    if not Path(warehouse_path).exists():
        raise UnloadError(f"{warehouse_path}: no warehouse yet, nothing was loaded")
    with duckdb.connect(str(warehouse_path)) as con:
        loaded = con.execute(
            "select file_hash, run_id, row_count from raw._loaded_files where source = ? and file_name = ?"
            " order by loaded_at",
            [source, name],
        ).fetchall()
        result.kept_current = any(digest == current for digest, _, _ in loaded)
        result.versions = [(d, run, int(rows or 0)) for d, run, rows in loaded if d != current]
        if not result.versions:
            if result.kept_current:
                raise UnloadError(
                    f"{path}: this content is the file in the landing zone; move the file out of the landing zone"
                    " (or replace it with the corrected export) first, then unload it"
                )
            raise UnloadError(f"{source}/{name}: no delivery of that name was loaded")
        hashes = [d for d, _, _ in result.versions]
        marks = ", ".join("?" for _ in hashes)
        if spark is not None and spark_loaded(source):
            # Spark first: a failure there leaves the files listed, and unloading again finishes the job
            result.keys_released, result.rows = _unload_from_spark(spark, source, hashes, now)
        con.execute("begin transaction")
        try:
            if spark is None or not spark_loaded(source):
                if source == "touchpoints":
                    result.keys_released = _release_touchpoints(con, hashes, now)
                deleted = con.execute(f"delete from raw.{source} where _file_hash in ({marks})", hashes)
                result.rows = deleted.fetchone()[0]
            con.execute(f"delete from raw._loaded_files where file_hash in ({marks})", hashes)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    return result


def _unload_from_spark(session, source: str, hashes: list[str], now) -> tuple[int, int]:
    """The same on Spark's raw tables (spark_landing.py): (touchpoint ids released, rows removed)."""
    from orchestration.lib.spark import delete_rows, rewrite_table

    listed = ", ".join(sql_literal(h) for h in hashes)
    unloaded = f"_file_hash in ({listed})"
    if source != "touchpoints":
        return 0, delete_rows(session, f"raw.{source}", unloaded)
    ids = f"select distinct trim(touchpoint_id) as touchpoint_id from raw.touchpoints where {unloaded}"
    released = session.sql(f"select count(*) from ({ids}) where touchpoint_id is not null").first()[0]
    for schema, table in (("quality", "quarantined_keys"), *TOUCHPOINT_TABLES):
        if session.catalog.tableExists(f"{schema}.{table}"):
            column = "record_key" if table == "quarantined_keys" else "touchpoint_id"
            only = "dataset = 'touchpoints' and " if table == "quarantined_keys" else ""
            delete_rows(session, f"{schema}.{table}", f"{only}{column} in (select touchpoint_id from ({ids}))")
    rows = session.sql(f"select count(*) from raw.touchpoints where {unloaded}").first()[0]
    columns = [
        f"case when u.touchpoint_id is not null then cast({sql_literal(now.isoformat(sep=' '))} as timestamp)"
        " else t._loaded_at end as _loaded_at"
        if column == "_loaded_at"
        else f"t.`{column}`"
        for column in session.table("raw.touchpoints").columns
    ]
    rewrite_table(
        session,
        "raw.touchpoints",
        f"select {', '.join(columns)} from raw.touchpoints as t left join ({ids}) as u"
        f" on trim(t.touchpoint_id) = u.touchpoint_id where not (t.{unloaded})",
    )
    return released, rows


def _release_touchpoints(con, hashes: list[str], now) -> int:
    """Touchpoints are checked once and their tables are incremental: the ids of the unloaded rows leave the
    quarantine and those tables, and their other deliveries count as loaded now, so the next run checks and
    builds them again from what is left (as a rebuild without the file would)."""
    marks = ", ".join("?" for _ in hashes)
    con.execute(
        "create or replace temp table _unloaded_ids as select distinct trim(touchpoint_id) as touchpoint_id"
        f" from raw.touchpoints where _file_hash in ({marks}) and touchpoint_id is not null",
        hashes,
    )
    released = con.execute("select count(*) from _unloaded_ids").fetchone()[0]
    if table_exists(con, "quality", "quarantined_keys"):
        con.execute(
            "delete from quality.quarantined_keys where dataset = 'touchpoints'"
            " and record_key in (select touchpoint_id from _unloaded_ids)"
        )
    for schema, table in TOUCHPOINT_TABLES:
        if table_exists(con, schema, table):
            con.execute(
                f"delete from {schema}.{table} where touchpoint_id in (select touchpoint_id from _unloaded_ids)"
            )
    con.execute(
        f"update raw.touchpoints set _loaded_at = ? where _file_hash not in ({marks})"
        " and trim(touchpoint_id) in (select touchpoint_id from _unloaded_ids)",
        [now, *hashes],
    )
    return released
