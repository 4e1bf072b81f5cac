"""Publishing: write the marts into a new DuckDB file, check it, and rename it over serving.duckdb in one step.

BI readers of the old file keep reading it (they hold its inode); new readers see the new file whole. The build
warehouse is only read here, and the serving file is never opened for writing in place. A night's new file starts
as a copy of the old one and gets only what changed (`serving_changes`, docs/serving.md#what-a-night-writes).

The file is written in DuckDB's v1.0.0 storage format, which every DuckDB from 1.1 on reads (JDBC/ODBC drivers
and BI plugins lag the Python client by months), with the dbt descriptions as table and column comments and the
marts' keys as constraints (`serving_docs`). DuckDB 1.0.0 reads the format but not the keys DuckDB writes into it
now (`Serialization Error … field id: 103`, checked by hand), so 1.1 is the oldest client.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.lib.files import remove_database, replace_synced
from orchestration.lib.serving_changes import (
    apply_changes,
    columns_of,
    existing_columns,
    existing_key,
    fingerprint,
    reusable,
)
from orchestration.lib.serving_docs import TableDoc
from orchestration.lib.sql import quote_ident as _ident
from orchestration.lib.sql import sql_literal, table_names

STORAGE_VERSION = "v1.0.0"
# schema → the tables published from it (None: all); quality.quarantined_keys is the gate's working state
PUBLISHED = {"marts": None, "quality": ("runs", "results", "quarantine")}
# marts the serving file holds as views over other published marts, in the order they are created. Wide is the
# rule-based rows joined with the night's Markov/Shapley weights: a night that moves the weights writes a few
# thousand weight rows, not every path touch. fct_attribution is wide (one row per path touch, a share column per
# model) unpivoted by model, so the file holds a tenth of its rows. Each view: its bases, and its query from their
# names and columns (the functions below).
RULE_BASED, WEIGHTS = "marts.fct_attribution_rule_based", "marts.mart_attribution_channel_weights"
# the largest facts and the time column whose month groups their rows. A night changes few months of them (it adds
# touches and conversions to the newest): publishing compares them month by month before row by row, and the
# exports write them as a file per month
MONTH_COLUMNS = {
    "marts.fct_attribution": "converted_at",
    RULE_BASED: "converted_at",
    "marts.fct_touchpoints": "occurred_at",
}
SERVED_AS_VIEWS = {
    "marts.fct_attribution_wide": (
        (RULE_BASED, WEIGHTS),
        lambda names, columns: attribution_wide_form(*names, *columns),
    ),
    "marts.fct_attribution": (
        ("marts.fct_attribution_wide",),
        lambda names, columns: attribution_long_form(names[0], columns[0]),
    ),
}


class PublishError(Exception):
    pass


class ServingBusy(Exception):
    """Another process has the serving file open for writing: renaming a new file over it would strand that
    process's write-ahead log beside the new file, which no reader could then open."""


@dataclass
class Published:
    path: Path
    tables: dict[str, int]
    # table → how tonight's file got it from last night's: kept, changed (only its changed rows), written
    how: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # table → the time its compare and write took

    def changes(self) -> dict[str, int]:
        """How many tables were kept, changed and written."""
        return {how: sum(1 for done in self.how.values() if done == how) for how in ("kept", "changed", "written")}

    def describe_changes(self, slowest: int = 3) -> str:
        """How many tables were kept, changed and written, and the `slowest` of them with how and how long."""
        counts = ", ".join(f"{n} {how}" for how, n in self.changes().items())
        slow = sorted(self.seconds, key=self.seconds.get, reverse=True)[:slowest]
        details = ", ".join(
            f"{name.split('.')[-1]} {self.how.get(name, '')} {self.seconds[name]:.1f} s" for name in slow
        )
        return f"{counts}; slowest: {details}" if details else counts


def publish(
    warehouse_path: Path,
    serving_path: Path,
    run_id: str,
    docs: dict[str, TableDoc] | None = None,
    target: str = "duckdb",
    hashed: dict[str, tuple[str, ...]] | None = None,
    key: bytes | None = None,
) -> Published:
    """Every published table of the warehouse of dbt target `target` into a new serving file, renamed over the
    old one; `docs` (from `serving_docs.docs_from_manifest`) become its comments and keys. The columns `hashed`
    names per table (`personal_data.published_hashes`) are published as their keyed hash with `key`, here, in
    DuckDB, whatever engine built the warehouse (`privacy.published_query`)."""
    from orchestration.lib.privacy import published_query

    hashed = hashed or {}
    with connect_in_memory(serving_path, run_id) as con:
        attach_warehouse(con, target, warehouse_path)
        tables = {
            name: published_query(con, f"warehouse.{name}", hashed.get(name, ()), key)
            for name in published_tables(con, "warehouse")
        }
        return write_and_replace(con, serving_path, run_id, tables, docs or {}, reuse=True)


def connect_in_memory(serving_path: Path, run_id: str):
    """A DuckDB connection to attach files to; what it spills goes beside the serving file (removed with the other
    leftovers of a publish), not into whatever the working directory is."""
    spill = serving_path.with_name(f".{serving_path.name}.{run_id}.tmp.spill")
    return duckdb.connect(config={"temp_directory": str(spill)})


def attach_warehouse(
    con, target: str, warehouse_path: Path, schemas: dict[str, tuple[str, ...] | None] = PUBLISHED
) -> None:
    """Makes the build warehouse's published tables of `schemas` readable on `con` as catalog `warehouse`: the
    DuckDB file attached read-only, or (postgres, spark) the engine's tables copied into an in-memory database."""
    if target == "duckdb":
        con.execute(f"attach {sql_literal(warehouse_path)} as warehouse (read_only)")
        return
    if target == "spark":
        from orchestration.lib.spark import active_session, copy_spark_to_duckdb, spark_tables

        session = active_session()
        con.execute("attach ':memory:' as warehouse")
        copy_spark_to_duckdb(session, con, "warehouse", _not_views(spark_tables(session, schemas)))
        return
    from orchestration.lib.postgres import copy_postgres_to_duckdb, postgres_settings_from_env, postgres_tables

    conninfo = postgres_settings_from_env()
    con.execute("attach ':memory:' as warehouse")
    copy_postgres_to_duckdb(conninfo, con, "warehouse", _not_views(postgres_tables(conninfo, schemas)))


def _not_views(names: list[str]) -> list[str]:
    """The names the serving file holds as tables (a mart served as a view is built from other tables)."""
    return [name for name in names if name not in served_as_views(names)]


def served_as_views(tables) -> dict[str, tuple[str, ...]]:
    """The views of SERVED_AS_VIEWS that can be served beside the published `tables`: those whose bases are all
    among them or served as views themselves. fct_attribution_wide stays a table where the two marts it is served
    from are missing (a serving file of an earlier release, kept on a refused night)."""
    served: dict[str, tuple[str, ...]] = {}
    for view, (bases, _) in SERVED_AS_VIEWS.items():
        if all(base in tables or base in served for base in bases):
            served[view] = bases
    return served


def write_and_replace(
    con,
    serving_path: Path,
    run_id: str,
    tables: dict[str, str],
    docs: dict[str, TableDoc],
    reuse: bool = False,
) -> Published:
    """Writes `tables` (`schema.table` → a query on `con`) into a new file beside serving_path, with the views of
    SERVED_AS_VIEWS over them (a query given for such a view is not used), checks it and renames it over
    serving_path. Used by publishing, a refused night's quality update and erasure. `reuse`: start from a copy of
    the current serving file and write only what changed (`serving_changes`); erasure writes afresh, so that no
    erased row is left in the file's free blocks."""
    views = served_as_views(tables)
    tables = {name: query for name, query in tables.items() if name not in views}
    if not tables:
        raise PublishError("the warehouse has no marts to publish")
    serving_path.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(serving_path)
    ensure_no_writer(serving_path)
    staging_path = serving_path.with_name(f".{serving_path.name}.{run_id}.tmp")
    try:
        if reuse and reusable(serving_path, STORAGE_VERSION):
            shutil.copyfile(serving_path, staging_path)
        counts, how, seconds = _write(con, staging_path, tables, views, docs)
        counts |= _check(staging_path, counts, views)
        _replace(staging_path, serving_path)
    finally:
        remove_database(staging_path)
    return Published(serving_path, counts, how, seconds)


def remove_leftovers(serving_path: Path) -> list[Path]:
    """New files of a publish that crashed before its rename (`.serving.duckdb.<run>.tmp` and their logs)."""
    found = sorted(serving_path.parent.glob(f".{serving_path.name}.*.tmp*"))
    for path in found:
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
    return found


def ensure_no_writer(serving_path: Path) -> None:
    """Refuses while a process holds DuckDB's write lock on the serving file (a BI session opened read-write);
    read-only readers take a shared lock and never stand in the way."""
    holder = write_lock_holder(serving_path)
    if holder is not None:
        raise ServingBusy(
            f"{serving_path} is open for writing by process {holder} (a BI or DuckDB session opened read-write?),"
            " so it cannot be replaced. Close that session, or connect read-only."
        )


def _write(
    con, path: Path, tables: dict[str, str], views: dict[str, tuple[str, ...]], docs: dict[str, TableDoc]
) -> tuple[dict[str, int], dict[str, str], dict[str, float]]:
    """Writes `tables` into the file at `path` (new, or a copy of the current serving file), then `views` over
    them; the tables' rows, how each was written, and the seconds each took."""
    con.execute(f"attach {sql_literal(path)} as serving (storage_version '{STORAGE_VERSION}')")
    try:
        _drop_all_but(con, tables)
        counts, how, seconds, to_write = {}, {}, {}, []
        for name, query in tables.items():
            started = time.perf_counter()
            done = _update_table(con, name, query, docs.get(name, TableDoc()))
            seconds[name] = time.perf_counter() - started
            if done is None:
                to_write.append(name)
            else:
                counts[name], how[name] = done
        dropped = [name for name in to_write if _drop_table(con, name)]
        if dropped:  # their blocks become free for the tables written next; else the file would grow by them
            con.execute("checkpoint serving")
        for name in to_write:
            started = time.perf_counter()
            counts[name], how[name] = _write_table(con, name, tables[name], docs.get(name, TableDoc())), "written"
            seconds[name] += time.perf_counter() - started
        for name, bases in views.items():
            _write_view(con, name, bases, docs.get(name, TableDoc()))
        con.execute("checkpoint serving")
    finally:
        con.execute("detach serving")
    return (
        {name: counts[name] for name in tables},
        {name: how[name] for name in tables},
        {name: seconds[name] for name in tables},
    )


def _drop_all_but(con, tables: dict[str, str]) -> None:
    """Drops from the file every view (they are written again last), every table not in `tables` and every schema
    none of them is in."""
    for schema, view in con.execute(
        "select schema_name, view_name from duckdb_views() where database_name = 'serving' and not internal"
    ).fetchall():
        con.execute(f"drop view serving.{_ident(schema)}.{_ident(view)}")
    for schema, table in con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = 'serving'"
    ).fetchall():
        if f"{schema}.{table}" not in tables:
            con.execute(f"drop table serving.{_ident(schema)}.{_ident(table)}")
    published = {name.split(".")[0] for name in tables} | {"main"}
    for (schema,) in con.execute(
        "select schema_name from duckdb_schemas() where database_name = 'serving' and not internal"
    ).fetchall():
        if schema not in published:
            con.execute(f"drop schema serving.{_ident(schema)} cascade")


def _drop_table(con, name: str) -> bool:
    """Drops table `name` from the file if it is there; whether it was."""
    schema, table = name.split(".")
    if not existing_columns(con, f"serving.{schema}.{table}"):
        return False
    con.execute(f"drop table serving.{_ident(schema)}.{_ident(table)}")
    return True


def _key_and_constraint(doc: TableDoc, columns: list[tuple[str, str]]):
    """The table's key (its tested key, when all its columns are published) and the constraint the file declares
    for it: (kind, columns), or None."""
    key = doc.key if doc.key and set(doc.key) <= {column for column, _ in columns} else ()
    return key, (("primary key" if doc.key_not_null else "unique"), key) if key and doc.declared else None


def _update_table(con, name: str, query: str, doc: TableDoc) -> tuple[int, str] | None:
    """Table `name` of the file brought to the rows of `query` where it is: kept when it holds them already, given
    only its changed rows when it is keyed and few changed. Its rows and which of the two, or None when it is to be
    written whole (absent, another shape or key, published whole every night, or too many changes)."""
    schema, table = name.split(".")
    columns = columns_of(con, query)
    key, constraint = _key_and_constraint(doc, columns)
    old_columns = existing_columns(con, f"serving.{schema}.{table}")
    if doc.whole or old_columns != columns or existing_key(con, f"serving.{schema}.{table}") != constraint:
        return None
    rows, how = _bring_up_to_date(con, name, query, key)
    if how is None:
        return None
    _comment(con, "table", f"serving.{_ident(schema)}.{_ident(table)}", [column for column, _ in columns], doc)
    return rows, how


def _bring_up_to_date(con, name: str, query: str, key: tuple[str, ...]) -> tuple[int, str | None]:
    """(rows, "kept" or "changed") when the file's table `name` could be brought to `query`'s rows where it is,
    else (0, None)."""
    schema, table = name.split(".")
    target = f"serving.{_ident(schema)}.{_ident(table)}"
    if not key:
        rows, total = fingerprint(con, f"({query})")
        return (rows, "kept") if (rows, total) == fingerprint(con, target) else (0, None)
    try:
        done = apply_changes(con, target, query, key, MONTH_COLUMNS.get(name))
    except duckdb.ConstraintException as exc:
        raise PublishError(f"{name}: its key ({', '.join(key)}) is not unique: {exc}") from exc
    if done is None:
        return 0, None
    rows, changed = done
    return rows, "changed" if changed else "kept"


def _write_table(con, name: str, query: str, doc: TableDoc) -> int:
    """Creates table `name` with the columns of `query` and its declared key, and inserts `query`."""
    schema, table = name.split(".")
    target = f"serving.{_ident(schema)}.{_ident(table)}"
    columns = columns_of(con, query)
    _, constraint = _key_and_constraint(doc, columns)
    definition = [f"{_ident(column)} {data_type}" for column, data_type in columns]
    if constraint is not None:
        definition.append(f"{constraint[0]} ({', '.join(_ident(c) for c in constraint[1])})")
    con.execute(f"create schema if not exists serving.{_ident(schema)}")
    con.execute(f"create table {target} ({', '.join(definition)})")
    try:
        rows = con.execute(f"insert into {target} {query}").fetchone()[0]
    except duckdb.ConstraintException as exc:
        raise PublishError(f"{name}: its key ({', '.join(doc.key)}) is not unique: {exc}") from exc
    _comment(con, "table", target, [column for column, _ in columns], doc)
    return rows


def _write_view(con, name: str, bases: tuple[str, ...], doc: TableDoc) -> None:
    """The view `name` over the tables (or views) `bases` of the new serving file, with its comments. Its query names
    them without a catalog, so it reads the file it is in whatever the file is called (DuckDB before 1.2 resolves
    such a name in the default database: a client of that age reads it with the serving file opened, not
    attached)."""
    schema, table = name.split(".")
    columns = [[row[0] for row in con.execute(f"describe serving.{_qualified(base)}").fetchall()] for base in bases]
    _, view_query = SERVED_AS_VIEWS[name]
    query = view_query([_qualified(base) for base in bases], columns)
    target = f"serving.{_ident(schema)}.{_ident(table)}"
    con.execute(f"create view {target} as {query}")
    _comment(con, "view", target, [row[0] for row in con.execute(f"describe {target}").fetchall()], doc)


def _qualified(name: str) -> str:
    return ".".join(_ident(part) for part in name.split("."))


def _comment(con, kind: str, target: str, columns: list[str], doc: TableDoc) -> None:
    """The description of the table or view `target` and of its `columns` as comments; none where there is no
    description (a table kept from last night's file may carry one)."""
    con.execute(f"comment on {kind} {target} is {_comment_text(doc.description)}")
    for column in columns:
        con.execute(f"comment on column {target}.{_ident(column)} is {_comment_text(doc.columns.get(column))}")


def _comment_text(text: str | None) -> str:
    return sql_literal(text) if text else "null"


def attribution_wide_form(rule_based: str, weights: str, rule_columns: list[str], weight_columns: list[str]) -> str:
    """fct_attribution_wide from fct_attribution_rule_based and mart_attribution_channel_weights, as the dbt model
    computes it (int_attribution_touches): the rule-based rows with their columns up to the shares, every share
    (the rule-based ones, then each data-driven model's: its weight for the conversion's channel set split over the
    channel's touches, 1 ÷ path_length where there is none) and the value."""
    shares = [column for column in rule_columns if column.startswith("share_")]
    keys = [column for column in rule_columns if column not in (*shares, "channel_set", "channel_touches", "value")]
    data_driven = [
        f"cast(coalesce(weights.{_ident(column)} / touches.channel_touches, 1.0 / touches.path_length) as double)"
        f" as {_ident('share_' + column.removeprefix('weight_'))}"
        for column in weight_columns
        if column.startswith("weight_")
    ]
    chosen = [f"touches.{_ident(column)}" for column in (*keys, *shares)] + data_driven + ["touches.value"]
    same = " and ".join(
        f"touches.{column} = weights.{column}" for column in ("conversion_type", "channel_set", "channel")
    )
    return f"select {', '.join(chosen)} from {rule_based} as touches left join {weights} as weights on {same}"


def attribution_long_form(relation: str, columns: list[str]) -> str:
    """fct_attribution from fct_attribution_wide's `columns`, as the dbt model computes it: each row crossed with the
    models of its `share_<model>` columns (in their order), with the columns before the shares, the model, its share
    and share × value. Crossed, not one union branch per model: a reader streams a path touch's rows together, so
    the Parquet export compresses as well as a table's (91 MB at 100 k leads, against 324 MB model by model)."""
    shares = [column for column in columns if column.startswith("share_")]
    keys = ", ".join(_ident(column) for column in columns if column not in shares and column != "value")
    models = ", ".join(f"({sql_literal(share.removeprefix('share_'))})" for share in shares)
    share = (
        "case models.model "
        + " ".join(f"when {sql_literal(column.removeprefix('share_'))} then {_ident(column)}" for column in shares)
        + " end"
    )
    return (
        f"select {keys}, models.model, {share} as share, cast({share} * value as double) as attributed_value"
        f" from {relation} cross join (values {models}) as models(model)"
    )


def _check(path: Path, expected: dict[str, int], views: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Checks the rows of every written table; returns the rows of the views over them."""
    with duckdb.connect(str(path), read_only=True) as con:
        for name, rows in expected.items():
            found = con.execute(f"select count(*) from {name}").fetchone()[0]
            if found != rows:
                raise PublishError(f"{name}: {found} rows in the new serving file, {rows} written")
        return {name: con.execute(f"select count(*) from {name}").fetchone()[0] for name in views}


def _replace(new_path: Path, serving_path: Path) -> None:
    ensure_no_writer(serving_path)  # again: a session may have opened it while the new file was written
    # a log left by a read-write session that ended without a checkpoint belongs to the old file: beside the new
    # one it would make every connection fail ("WAL does not match database file")
    Path(f"{serving_path}.wal").unlink(missing_ok=True)
    replace_synced(new_path, serving_path)


def write_lock_holder(path: Path) -> int | None:
    """The pid of a process holding a write lock on `path` (DuckDB locks the whole file with fcntl), or None."""
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        probe = struct.pack("hhqqi4x", fcntl.F_RDLCK, os.SEEK_SET, 0, 0, 0)
        lock_type, _, _, _, pid = struct.unpack("hhqqi4x", fcntl.fcntl(fd, fcntl.F_GETLK, probe))
    finally:
        os.close(fd)
    return None if lock_type == fcntl.F_UNLCK else pid


def published_tables(con, catalog: str) -> list[str]:
    """The published tables of `catalog`; views too (fct_attribution is a view in a DuckDB build warehouse)."""
    names = []
    for schema, wanted in PUBLISHED.items():
        for table in table_names(con, schema, catalog=catalog):
            if wanted is None or table in wanted:
                names.append(f"{schema}.{table}")
    return names
