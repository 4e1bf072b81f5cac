"""Reading and writing whole tables on the warehouse dbt builds, whichever engine it is (docs/engines.md): the DuckDB
file (default) or the PostgreSQL server (`CLOSEDLOOP_DBT_TARGET=postgres`, the CLOSEDLOOP_PG_* settings).

For the Python steps that sit between dbt selections (identity resolution, Markov/Shapley, CLV): they read a model,
compute, and write tables that dbt declares as sources, or have the engine compute a table from a query
(`create_table_as`). Rows move as Arrow tables; on PostgreSQL through COPY in CSV, so Python never touches a row.
Every `write` is one transaction: the readers see all of its tables new, or all old.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import ClassVar

import duckdb
import psycopg2
import pyarrow as pa
import pyarrow.csv as pa_csv

from orchestration.lib.postgres import postgres_settings_from_env
from orchestration.lib.sql import qualified as _qualified
from orchestration.lib.sql import quote_ident as _quote

_TABLE_EXISTS = "select count(*) from information_schema.tables where table_schema = ? and table_name = ?"


class DuckDBWarehouse:
    """One connection per read or write: closing it hands DuckDB's working memory back before the caller computes
    (on 100k leads the edges query holds ~600 MB until its connection closes). A step that runs many statements in
    a row, and computes little between them, holds one connection for all of them (`hold`)."""

    engine = "duckdb"
    updates_rows = True  # offers `change`

    def __init__(self, path: Path):
        self.path = Path(path)
        self._held = None

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Every statement inside the block runs on one connection (closed at its end)."""
        with duckdb.connect(str(self.path)) as con:
            self._held = con
            try:
                yield
            finally:
                self._held = None

    @contextmanager
    def _connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if self._held is not None:
            yield self._held
        else:
            with duckdb.connect(str(self.path)) as con:
                yield con

    def create_table_as(self, name: str, select: str) -> None:
        """Replaces table `name` with the rows of query `select`, computed by the engine."""
        with self._connection() as con:
            self._create(con, name, select)

    def drop_table(self, name: str) -> None:
        with self._connection() as con:
            con.execute(f"drop table if exists {_qualified(name)}")

    def has_table(self, name: str) -> bool:
        with self._connection() as con:
            return bool(con.execute(_TABLE_EXISTS, name.split(".")).fetchall()[0][0])

    @staticmethod
    def _create(con, name: str, select: str) -> None:
        con.execute(f"create schema if not exists {_quote(name.split('.')[0])}")
        con.execute(f"create or replace table {_qualified(name)} as {select}")

    def read_text(self, sql: str) -> pa.Table:
        """The query's rows, every column as text (the same on every engine)."""
        with self._connection() as con:
            table = con.sql(sql).to_arrow_table()
        return table.cast(pa.schema([pa.field(name, pa.string()) for name in table.column_names]))

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection inside one transaction: committed at the end of the block, rolled back on any error."""
        with self._connection() as con:
            con.execute("begin")
            try:
                yield con
                con.execute("commit")
            except BaseException:
                con.execute("rollback")
                raise

    def change(self, statements: Sequence[str]) -> None:
        """Runs `statements` (updates, inserts, deletes) in one transaction."""
        with self._transaction() as con:
            for statement in statements:
                con.execute(statement)

    def write(
        self,
        replace: Mapping[str, pa.Table] = {},
        append: Mapping[str, pa.Table] = {},
        replace_with: Mapping[str, str] = {},
        append_with: Mapping[str, str] = {},
    ) -> None:
        """Replaces the `replace` tables (schema.table → rows), appends to the existing `append` tables,
        replaces the `replace_with` tables by the rows of their queries (schema.table → select) and appends the rows
        of their queries to the `append_with` tables."""
        with self._transaction() as con:
            for name, select in replace_with.items():
                self._create(con, name, select)
            for name, select in append_with.items():
                con.execute(f"insert into {_qualified(name)} {select}")
            for name, rows in replace.items():
                con.register("_rows", rows)
                self._create(con, name, "select * from _rows")
                con.unregister("_rows")
            for name, rows in append.items():
                con.register("_rows", rows)
                con.execute(f"insert into {_qualified(name)} by name select * from _rows")
                con.unregister("_rows")

    def close(self) -> None:
        pass


class PostgresWarehouse:
    # Arrow type -> PostgreSQL column type of a replaced table
    TYPES: ClassVar[dict[pa.DataType, str]] = {
        pa.string(): "text",
        pa.large_string(): "text",
        pa.bool_(): "boolean",
        pa.int64(): "bigint",
        pa.int32(): "integer",
        pa.float64(): "double precision",
        pa.timestamp("us"): "timestamp",
    }

    engine = "postgres"
    updates_rows = True
    hold = staticmethod(nullcontext)  # one connection already

    def __init__(self, conninfo: Mapping[str, str | int]):
        self.con = psycopg2.connect(**conninfo)

    def create_table_as(self, name: str, select: str) -> None:
        with self.con, self.con.cursor() as cur:
            self._create(cur, name, select)

    def drop_table(self, name: str) -> None:
        with self.con, self.con.cursor() as cur:
            cur.execute(f"drop table if exists {_qualified(name)}")

    def has_table(self, name: str) -> bool:
        with self.con, self.con.cursor() as cur:
            cur.execute(_TABLE_EXISTS.replace("?", "%s"), name.split("."))
            return bool(cur.fetchone()[0])

    @staticmethod
    def _create(cur, name: str, select: str) -> None:
        cur.execute(f"create schema if not exists {_quote(name.split('.')[0])}")
        cur.execute(f"drop table if exists {_qualified(name)}")
        cur.execute(f"create table {_qualified(name)} as {select}")
        cur.execute(f"analyze {_qualified(name)}")  # for the next plan (macros/postgres_planning.sql)

    def read_text(self, sql: str) -> pa.Table:
        """The query's rows, every column as text: COPY to CSV, read by Arrow (a quoted "" stays an empty string)."""
        buffer = io.BytesIO()
        with self.con, self.con.cursor() as cur:
            cur.copy_expert(f"copy ({sql}) to stdout with (format csv, header true)", buffer)
        buffer.seek(0)
        columns = next(csv.reader([buffer.readline().decode()]))
        if buffer.tell() == len(buffer.getbuffer()):  # no rows: Arrow refuses an empty file
            return pa.table({name: pa.array([], pa.string()) for name in columns})
        options = pa_csv.ConvertOptions(
            column_types={name: pa.string() for name in columns},
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        )
        return pa_csv.read_csv(buffer, pa_csv.ReadOptions(column_names=columns), convert_options=options)

    def change(self, statements: Sequence[str]) -> None:
        with self.con, self.con.cursor() as cur:  # one transaction, rolled back on any error
            for statement in statements:
                cur.execute(statement)

    def write(
        self,
        replace: Mapping[str, pa.Table] = {},
        append: Mapping[str, pa.Table] = {},
        replace_with: Mapping[str, str] = {},
        append_with: Mapping[str, str] = {},
    ) -> None:
        with self.con, self.con.cursor() as cur:  # one transaction, rolled back on any error
            for name, select in replace_with.items():
                self._create(cur, name, select)
            for name, select in append_with.items():
                cur.execute(f"insert into {_qualified(name)} {select}")
                cur.execute(f"analyze {_qualified(name)}")
            for name, rows in replace.items():
                columns = ", ".join(f"{_quote(field.name)} {self._type(field.type)}" for field in rows.schema)
                cur.execute(f"create schema if not exists {_quote(name.split('.')[0])}")
                cur.execute(f"drop table if exists {_qualified(name)}")
                cur.execute(f"create table {_qualified(name)} ({columns})")
                self._copy(cur, name, rows)
            for name, rows in append.items():
                self._copy(cur, name, rows)
            for name in [*replace, *append]:
                cur.execute(f"analyze {_qualified(name)}")

    def _copy(self, cur, name: str, rows: pa.Table) -> None:
        buffer = io.BytesIO()
        pa_csv.write_csv(rows, buffer, pa_csv.WriteOptions(include_header=False))
        buffer.seek(0)
        columns = ", ".join(_quote(column) for column in rows.column_names)
        cur.copy_expert(f"copy {_qualified(name)} ({columns}) from stdin with (format csv)", buffer)

    def _type(self, arrow_type: pa.DataType) -> str:
        if pa.types.is_timestamp(arrow_type):
            return "timestamp"
        return self.TYPES.get(arrow_type, "text")

    def close(self) -> None:
        self.con.close()


class SparkWarehouse:
    """The run's Spark session (orchestration/lib/spark.py). Queries are written for DuckDB and PostgreSQL
    (double-quoted identifiers), so they are translated to Spark SQL first. Each table is replaced or appended
    on its own: Parquet tables have no multi-table transaction."""

    engine = "spark"
    updates_rows = False  # Parquet tables: replaced, never changed row by row
    hold = staticmethod(nullcontext)  # one session already

    def __init__(self):
        from orchestration.lib.spark import active_session

        self.session = active_session()

    def read_text(self, sql: str) -> pa.Table:
        table = self.session.sql(spark_sql(sql)).toArrow()
        return table.cast(pa.schema([pa.field(name, pa.string()) for name in table.column_names]))

    def create_table_as(self, name: str, select: str) -> None:
        self.session.sql(f"create database if not exists {name.split('.')[0]}")
        self.session.sql(f"drop table if exists {name}")
        self.session.sql(f"create table {name} using parquet as {spark_sql(select)}")

    def drop_table(self, name: str) -> None:
        self.session.sql(f"drop table if exists {name}")

    def has_table(self, name: str) -> bool:
        return self.session.catalog.tableExists(name)

    def write(
        self,
        replace: Mapping[str, pa.Table] = {},
        append: Mapping[str, pa.Table] = {},
        replace_with: Mapping[str, str] = {},
        append_with: Mapping[str, str] = {},
    ) -> None:
        from orchestration.lib.spark import save

        for name, select in replace_with.items():
            self.create_table_as(name, select)
        for name, select in append_with.items():
            self.session.sql(f"insert into {name} {spark_sql(select)}")
        for name, rows in replace.items():
            self.session.sql(f"create database if not exists {name.split('.')[0]}")
            save(self.session, name, rows, "overwrite")
        for name, rows in append.items():
            save(self.session, name, rows, "append")

    def close(self) -> None:
        pass


def spark_sql(sql: str) -> str:
    """A query written for DuckDB and PostgreSQL, in Spark SQL."""
    import sqlglot

    return sqlglot.transpile(sql, read="duckdb", write="spark")[0]


@contextmanager
def open_warehouse(target: str, duckdb_path: Path, environ: Mapping[str, str] | None = None) -> Iterator:
    """The warehouse of dbt target `target` ("duckdb": the file at `duckdb_path`; "postgres": the server of the
    CLOSEDLOOP_PG_* settings in `environ`, default the process environment; "spark": the run's session)."""
    if target == "duckdb":
        warehouse = DuckDBWarehouse(duckdb_path)
    elif target == "postgres":
        warehouse = PostgresWarehouse(postgres_settings_from_env(None if environ is None else dict(environ)))
    elif target == "spark":
        warehouse = SparkWarehouse()
    else:
        raise ValueError(f"unknown dbt target {target!r}: duckdb, postgres or spark")
    try:
        yield warehouse
    finally:
        warehouse.close()
