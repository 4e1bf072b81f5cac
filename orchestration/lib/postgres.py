"""Copies the raw tables of the DuckDB warehouse into schema `raw` of PostgreSQL, for the postgres dbt target.

The extract step always loads into DuckDB (it reads the files once and keeps the load bookkeeping); this copy
then makes the same raw rows available to a PostgreSQL server so dbt can build the models there (docs/engines.md).
It is incremental by file: only files (`_file_hash`) that Postgres' `raw._loaded_files` does not list yet are
copied, each source in one transaction together with its `_loaded_files` rows, so an interrupted copy leaves
whole files or nothing. Rows stream through a temporary CSV written by DuckDB's COPY and read by Postgres'
COPY: nothing is held in memory and Python never touches a row. The type map and that stream (`postgres_type`,
`select_list`, `copy_query`) also carry the serving file to PostgreSQL (`serving_postgres.py`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb
import psycopg2
import pyarrow as pa

from orchestration.lib.contract import CONTRACTS
from orchestration.lib.sql import list_tables, quote_ident, sql_literal

LOADED_FILES = "_loaded_files"
# DuckDB column type -> PostgreSQL type; DECIMAL, nested and other types: see postgres_type
POSTGRES_TYPES = {
    "VARCHAR": "text",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "SMALLINT": "smallint",
    "TINYINT": "smallint",
    "HUGEINT": "numeric(39)",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "TIME": "time",
    "UUID": "uuid",
}


def postgres_settings_from_env(environ: dict[str, str] | None = None) -> dict[str, str | int]:
    """psycopg2 connection keywords of the settings' PostgreSQL (`Settings.postgres_conninfo`, from the
    CLOSEDLOOP_PG_* variables the dbt profile reads too); `environ` instead of the process environment."""
    from orchestration.settings import load_settings

    return load_settings(environ=environ).postgres_conninfo()


def copy_raw_to_postgres(warehouse_path: Path, conninfo: dict | str) -> dict[str, int]:
    """Copies the raw rows of files Postgres does not have yet; returns rows copied per table.

    `conninfo` is a libpq string or psycopg2 keywords (see `postgres_settings_from_env`). The DuckDB file is
    opened read-only, so it must not be open for writing in another process at the same time.
    """
    duck = duckdb.connect(str(warehouse_path), read_only=True)
    pg = connect(conninfo)
    copied = dict.fromkeys(CONTRACTS, 0) | {LOADED_FILES: 0}
    try:
        with tempfile.TemporaryDirectory(prefix="closedloop-pgcopy-") as scratch:
            with pg, pg.cursor() as cur:  # commits the DDL before any data moves
                cur.execute("create schema if not exists raw")
                _ensure_table(cur, LOADED_FILES, _columns(duck, LOADED_FILES), primary_key="file_hash")
                for name in CONTRACTS:
                    _ensure_table(cur, name, _columns(duck, name))
            for name in CONTRACTS:
                # one transaction per source: its rows and its _loaded_files rows, or nothing
                with pg, pg.cursor() as cur:
                    hashes = _new_file_hashes(duck, cur, name)
                    if not hashes:
                        continue
                    duck.register("_new_files", pa.table({"file_hash": hashes}))
                    try:
                        copied[name] = _copy_rows(duck, cur, name, "_file_hash", Path(scratch))
                        copied[LOADED_FILES] += _copy_rows(duck, cur, LOADED_FILES, "file_hash", Path(scratch))
                    finally:
                        duck.unregister("_new_files")
                    # the staging views read these rows next: statistics for their plans (macros/postgres_planning.sql)
                    cur.execute(f"analyze raw.{quote_ident(name)}")
                    cur.execute(f"analyze raw.{quote_ident(LOADED_FILES)}")
    finally:
        pg.close()
        duck.close()
    return copied


def _columns(duck: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    rows = duck.execute(
        "select column_name, data_type from information_schema.columns"
        " where table_schema = 'raw' and table_name = ? order by ordinal_position",
        [table],
    ).fetchall()
    if not rows:
        raise ValueError(f"raw.{table} does not exist in the DuckDB warehouse; run the extract step first")
    return rows


def _ensure_table(cur, table: str, columns: list[tuple[str, str]], primary_key: str | None = None) -> None:
    """Creates raw.<table>, or adds the columns a newer contract brought (existing columns are never changed)."""
    definitions = [f"{quote_ident(name)} {postgres_type(kind)}" for name, kind in columns]
    if primary_key:
        definitions.append(f"primary key ({quote_ident(primary_key)})")
    cur.execute(f"create table if not exists raw.{quote_ident(table)} ({', '.join(definitions)})")
    cur.execute(
        "select column_name from information_schema.columns where table_schema = 'raw' and table_name = %s", [table]
    )
    present = {row[0] for row in cur.fetchall()}
    for name, kind in columns:
        if name not in present:  # only then: alter table locks out the readers of the table
            cur.execute(f"alter table raw.{quote_ident(table)} add column {quote_ident(name)} {postgres_type(kind)}")


def _new_file_hashes(duck: duckdb.DuckDBPyConnection, cur, source: str) -> list[str]:
    # a transaction-level lock per source: two copies running at once never copy the same file twice
    cur.execute("select pg_advisory_xact_lock(hashtext(%s))", [f"closedloop.raw.{source}"])
    cur.execute("select file_hash from raw._loaded_files where source = %s", [source])
    present = {row[0] for row in cur.fetchall()}
    loaded = duck.execute(
        "select file_hash from raw._loaded_files where source = ? order by loaded_at, file_name", [source]
    ).fetchall()
    return [row[0] for row in loaded if row[0] not in present]


def _copy_rows(duck, cur, table: str, hash_column: str, scratch: Path) -> int:
    columns = _columns(duck, table)
    query = (
        f"select {select_list(columns)} from raw.{quote_ident(table)}"
        f" where {quote_ident(hash_column)} in (select file_hash from _new_files)"
    )
    return copy_query(duck, cur, query, f"raw.{quote_ident(table)}", [name for name, _ in columns], scratch)


def postgres_type(duckdb_type: str) -> str:
    """The PostgreSQL type a DuckDB column is copied as (`select_list` casts the values to match)."""
    if duckdb_type in POSTGRES_TYPES:
        return POSTGRES_TYPES[duckdb_type]
    if duckdb_type.startswith("DECIMAL"):
        return "numeric" + duckdb_type[len("DECIMAL") :]
    if _is_nested(duckdb_type):
        return "jsonb"
    return "text"


def select_list(columns: list[tuple[str, str]]) -> str:
    """DuckDB expressions whose CSV text PostgreSQL reads back as `postgres_type` of each column."""
    expressions = []
    for name, kind in columns:
        if kind in POSTGRES_TYPES or kind.startswith("DECIMAL"):
            expressions.append(quote_ident(name))
        elif _is_nested(kind):  # DuckDB writes lists as [a, b]: JSON keeps strings and nulls apart
            expressions.append(f"cast(to_json({quote_ident(name)}) as varchar) as {quote_ident(name)}")
        else:
            expressions.append(f"cast({quote_ident(name)} as varchar) as {quote_ident(name)}")
    return ", ".join(expressions)


def copy_query(duck, cur, query: str, target: str, columns: list[str], scratch: Path) -> int:
    """DuckDB writes the query's rows to a CSV, Postgres reads it with COPY; returns the rows Postgres read.

    A null is an unquoted empty field and every value is quoted, so an empty string stays an empty string.
    """
    csv_path = scratch / "copy.csv"
    written = duck.execute(
        f"copy ({query}) to {sql_literal(csv_path)} (format csv, header false, force_quote *)"
    ).fetchone()[0]
    names = ", ".join(quote_ident(name) for name in columns)
    try:
        with csv_path.open("r", encoding="utf-8", newline="") as handle:
            cur.copy_expert(f"copy {target} ({names}) from stdin with (format csv)", handle, size=1 << 20)
    finally:
        csv_path.unlink()
    if cur.rowcount != written:
        raise RuntimeError(f"{target}: DuckDB wrote {written} rows, PostgreSQL read {cur.rowcount}")
    return cur.rowcount


def connect(conninfo: dict | str):
    return psycopg2.connect(conninfo) if isinstance(conninfo, str) else psycopg2.connect(**conninfo)


def _is_nested(duckdb_type: str) -> bool:
    return duckdb_type.endswith("]") or duckdb_type.startswith(("STRUCT", "MAP", "UNION"))


# --- tables built on PostgreSQL, read into DuckDB (publishing from the postgres target) ---------------------

# PostgreSQL column type (information_schema data_type) -> the DuckDB type it is read back as
DUCKDB_TYPES = {
    "bigint": "BIGINT",
    "integer": "INTEGER",
    "smallint": "SMALLINT",
    "double precision": "DOUBLE",
    "real": "FLOAT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp without time zone": "TIMESTAMP",
    "timestamp with time zone": "TIMESTAMPTZ",
    "time without time zone": "TIME",
    "uuid": "UUID",
}


def postgres_tables(conninfo: dict | str, schemas: dict[str, tuple[str, ...] | None]) -> list[str]:
    """`schema.table` of the base tables of `schemas` (schema → the tables wanted, None: all), sorted."""
    pg = connect(conninfo)
    try:
        with pg, pg.cursor() as cur:
            found = list_tables(cur, *schemas, base_only=True)
    finally:
        pg.close()
    return [f"{schema}.{table}" for schema, table in found if schemas[schema] is None or table in schemas[schema]]


def copy_postgres_to_duckdb(conninfo: dict | str, duck, catalog: str, names: list[str]) -> dict[str, int]:
    """Copies PostgreSQL tables (`schema.table`) into catalog `catalog` of a DuckDB connection, typed as on the
    server; returns rows per table. Rows stream through a temporary CSV written by PostgreSQL's COPY and read by
    DuckDB's read_csv, so Python never touches a row (DuckDB's postgres extension would be downloaded)."""
    pg = connect(conninfo)
    copied = {}
    try:
        with tempfile.TemporaryDirectory(prefix="closedloop-pgread-") as scratch, pg, pg.cursor() as cur:
            cur.execute(
                "set local datestyle to 'ISO, YMD'; set local timezone to 'UTC'; set local extra_float_digits to 3"
            )
            for name in names:
                copied[name] = _copy_to_duckdb(cur, duck, catalog, name, Path(scratch) / "read.csv")
    finally:
        pg.close()
    return copied


def _copy_to_duckdb(cur, duck, catalog: str, name: str, csv_path: Path) -> int:
    schema, table = name.split(".")
    cur.execute(
        "select column_name, data_type, numeric_precision, numeric_scale from information_schema.columns"
        " where table_schema = %s and table_name = %s order by ordinal_position",
        [schema, table],
    )
    columns = [(column, _duckdb_type(kind, precision, scale)) for column, kind, precision, scale in cur.fetchall()]
    # booleans as true/false, the spelling DuckDB reads back (other types: PostgreSQL's ISO text)
    selected = ", ".join(
        f"cast({quote_ident(c)} as text)" if kind == "BOOLEAN" else quote_ident(c) for c, kind in columns
    )
    with csv_path.open("wb") as handle:
        cur.copy_expert(
            f"copy (select {selected} from {quote_ident(schema)}.{quote_ident(table)}) to stdout with (format csv)",
            handle,
        )
    types = "{" + ", ".join(f"{sql_literal(c)}: '{kind}'" for c, kind in columns) + "}"
    duck.execute(f"create schema if not exists {catalog}.{quote_ident(schema)}")
    target = f"{catalog}.{quote_ident(schema)}.{quote_ident(table)}"
    # a null is an unquoted empty field, an empty string a quoted one
    duck.execute(
        f"create or replace table {target} as select * from read_csv({sql_literal(csv_path)}, columns = {types},"
        " header = false, auto_detect = false, quote = '\"', escape = '\"', allow_quoted_nulls = false)"
    )
    return duck.execute(f"select count(*) from {target}").fetchone()[0]


def _duckdb_type(kind: str, precision: int | None, scale: int | None) -> str:
    if kind == "numeric":  # unconstrained numeric has no DuckDB twin: a double keeps 15 significant digits
        return f"DECIMAL({precision}, {scale})" if precision and precision <= 38 else "DOUBLE"
    return DUCKDB_TYPES.get(kind, "VARCHAR")
