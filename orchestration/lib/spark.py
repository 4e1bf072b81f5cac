"""Spark as the build warehouse (`CLOSEDLOOP_DBT_TARGET=spark`, docs/engines.md).

A run opens one Spark session for its whole length. dbt reaches it through Spark's Thrift server (the dbt-spark
`thrift` method), the Python steps through the DataFrame API, and both see the same catalog and tables.

- **Local (default):** the session runs in this process (`local[*]`), tables are Parquet under
  `<data dir>/spark/warehouse`, the catalog an embedded Derby metastore under `<data dir>/spark/metastore_db`.
  The run starts a Thrift server on 127.0.0.1 in the same JVM for dbt, on a free port it exports as
  CLOSEDLOOP_SPARK_PORT before dbt runs. Only Java and the Python packages are needed.
- **Cluster:** with CLOSEDLOOP_SPARK_CONNECT_URL (`sc://host:15002`), the Python steps use Spark Connect, and
  dbt the Thrift server named by CLOSEDLOOP_SPARK_HOST / CLOSEDLOOP_SPARK_PORT (see the profile).

Derby allows one JVM at a time on a metastore, which is why everything goes through the run's one session.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from orchestration.lib.spark_landing import LOCAL_TABLES
from orchestration.lib.sql import qualified, quote_ident, table_names
from orchestration.settings import Settings


def session_config(settings: Settings, port: int) -> dict[str, str]:
    """The configuration of a local session whose tables and catalog live under the data dir's `spark` folder."""
    root = (settings.data_dir / "spark").resolve()
    return {
        "spark.master": settings.spark_master,
        "spark.app.name": "closedloop",
        "spark.driver.memory": settings.spark_driver_memory,
        "spark.sql.warehouse.dir": str(root / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={root / 'metastore_db'};create=true",
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={root}",
        "spark.sql.shuffle.partitions": str(settings.spark_shuffle_partitions),
        "spark.sql.session.timeZone": "UTC",
        # `timestamp` is a UTC wall-clock time without zone, as on DuckDB and PostgreSQL
        "spark.sql.timestampType": "TIMESTAMP_NTZ",
        "spark.sql.sources.default": "parquet",
        # `x * 1.0 / y` is decimal arithmetic in Spark; by default a wide quotient is cut to 6 decimals, where
        # DuckDB and PostgreSQL keep (nearly) all digits
        "spark.sql.decimalOperations.allowPrecisionLoss": "false",
        # a build that died mid-write leaves the table's folder behind; the next build writes over it
        "spark.sql.legacy.allowNonEmptyLocationInCTAS": "true",
        "spark.sql.legacy.createHiveTableByDefault": "false",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        # the Thrift server for dbt: loopback only, no authentication (nothing else can reach it)
        "spark.hadoop.hive.server2.thrift.bind.host": "127.0.0.1",
        "spark.hadoop.hive.server2.thrift.port": str(port),
        "spark.hadoop.hive.server2.authentication": "NOSASL",
        "spark.hadoop.hive.server2.transport.mode": "binary",
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_local(settings: Settings):
    """A local session with the Thrift server running; returns (session, port)."""
    from pyspark.sql import SparkSession

    port = settings.spark_port or free_port()
    (settings.data_dir / "spark").mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in session_config(settings, port).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    # a statement dbt expects to fail (`drop … if exists` paths, a failing test) is reported by dbt; the
    # Thrift server's own log of it is a stack trace per statement
    session.sparkContext.setLogLevel(settings.spark_log_level)
    jvm = session._jvm
    jvm.org.apache.spark.sql.hive.thriftserver.HiveThriftServer2.startWithContext(session._jsparkSession.sqlContext())
    return session, port


@contextmanager
def run_session(settings: Settings) -> Iterator:
    """The session of one run: local (with the Thrift server dbt uses, its port exported for the profile), or a
    Spark Connect client of the cluster. Stopped, and the port forgotten, when the run ends."""
    if settings.spark_connect_url:
        from pyspark.sql import SparkSession

        session = SparkSession.builder.remote(settings.spark_connect_url).getOrCreate()
        try:
            yield session
        finally:
            session.stop()
        return
    session, port = start_local(settings)
    # process plumbing, not a setting: the dbt profile reads the port of this run's server
    previous = os.environ.get("CLOSEDLOOP_SPARK_PORT")
    os.environ["CLOSEDLOOP_SPARK_PORT"] = str(port)
    try:
        yield session
    finally:
        session.stop()
        if previous is None:
            os.environ.pop("CLOSEDLOOP_SPARK_PORT", None)
        else:
            os.environ["CLOSEDLOOP_SPARK_PORT"] = previous


@contextmanager
def engine_session(settings: Settings) -> Iterator:
    """On the spark target, the run's session when one is open (a nightly run), else a session opened for the
    caller and stopped after it (`closedloop erase`, `closedloop unload`); None on the other targets."""
    if settings.dbt_target != "spark":
        yield None
        return
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    if session is not None:
        yield session
        return
    with run_session(settings) as session:
        yield session


def active_session():
    """The run's session (see `run_session`); a step outside a Spark run has none."""
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    if session is None:
        raise RuntimeError("no Spark session: the dbt target is spark, but the run did not open one")
    return session


def copy_raw_to_spark(warehouse_path: Path, session, whole: set[str] = frozenset()) -> dict[str, int]:
    """Copies the raw tables the job keeps in the DuckDB file (`spark_landing.LOCAL_TABLES`: the bookkeeping and
    the erasure requests) to Spark: the rows of files Spark's `raw._loaded_files` does not list yet; the tables
    without `_file_hash` whole, and so a table whose rows Spark has but DuckDB no longer does (an erasure), or that
    `whole` names (an erasure changed its rows in place). Returns rows copied per table."""
    import duckdb

    session.sql("create database if not exists raw")
    present = _spark_tables(session, "raw")
    known: set[str] = set()
    if "_loaded_files" in present:
        known = {row[0] for row in session.sql("select file_hash from raw._loaded_files").collect()}
    copied: dict[str, int] = {}
    with duckdb.connect(str(warehouse_path), read_only=True) as duck:
        duck.register("_known", _hash_table(known))
        for name in table_names(duck, "raw"):
            if name not in LOCAL_TABLES:
                continue  # Spark reads those landing files itself (spark_landing.py)
            table = qualified(f"raw.{name}")
            hash_column = "file_hash" if name == "_loaded_files" else "_file_hash"
            new_files = f"{quote_ident(hash_column)} not in (select file_hash from _known)"
            copy_whole = name in whole or name not in present or hash_column not in duck.table(table).columns
            if not copy_whole:
                kept = duck.execute(f"select count(*) from {table} where not ({new_files})").fetchall()[0][0]
                # rows Spark has that DuckDB no longer has (an erasure in between): copy the table whole
                copy_whole = kept != session.table(f"raw.{name}").count()
            rows = duck.sql(f"select * from {table}" + ("" if copy_whole else f" where {new_files}")).to_arrow_table()
            if copy_whole or rows.num_rows:
                save(session, f"raw.{name}", rows, "overwrite" if copy_whole else "append")
            copied[name] = rows.num_rows
    return copied


def delete_rows(session, name: str, condition: str) -> int:
    """Deletes the rows of Parquet table `name` that meet `condition` (Spark SQL); returns how many. Nothing is
    rewritten when no row meets it."""
    hits = session.sql(f"select count(*) from {name} where {condition}").first()[0]
    if hits:
        rewrite_table(session, name, f"select * from {name} where not ({condition})")
    return hits


def rewrite_table(session, name: str, select: str) -> None:
    """Replaces the rows of Parquet table `name` by those of `select` (which may read `name`)."""
    for statement in rewrite_statements(name, select):
        session.sql(statement)


def rewrite_statements(name: str, select: str) -> list[str]:
    """Spark SQL that replaces the rows of `name` by those of `select`. Parquet tables take no deletes or updates:
    the new rows go to a scratch table, which then overwrites the table (Spark does not overwrite a table it is
    reading). The second statement is the one that reads `select`."""
    scratch = f"{name}__rewrite"
    return [
        f"drop table if exists {scratch}",
        f"create table {scratch} using parquet as {select}",
        f"insert overwrite table {name} select * from {scratch}",
        f"drop table {scratch}",
    ]


def _hash_table(hashes: set[str]):
    import pyarrow as pa

    return pa.table({"file_hash": pa.array(sorted(hashes), pa.string())})


def _spark_tables(session, schema: str) -> set[str]:
    if not session.catalog.databaseExists(schema):
        return set()
    return {table.name for table in session.catalog.listTables(schema)}


def save(session, name: str, rows, mode: str) -> None:
    """Writes Arrow `rows` as Parquet table `name` (overwrite: replaced with these columns; append: by name)."""
    frame = session.createDataFrame(rows) if rows.num_rows else session.createDataFrame([], _spark_schema(rows.schema))
    if mode == "append":  # by name; a column the rows lack is null, like DuckDB's `insert … by name`
        from pyspark.sql import functions as F

        columns = [
            (F.col(field.name) if field.name in frame.columns else F.lit(None)).cast(field.dataType).alias(field.name)
            for field in session.table(name).schema.fields
        ]
        frame.select(*columns).write.insertInto(name)
    else:
        frame.write.mode("overwrite").format("parquet").saveAsTable(name)


def _spark_schema(schema):
    """A Spark schema for an empty Arrow table (createDataFrame infers none from zero rows)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema)


def stored_tables(session, schema: str) -> list[str]:
    """`schema.table` of the tables (not views) of a Spark database; none when it does not exist."""
    if not session.catalog.databaseExists(schema):
        return []
    return sorted(
        f"{schema}.{table.name}"
        for table in session.catalog.listTables(schema)
        if not table.isTemporary and table.tableType != "VIEW"
    )


def spark_tables(session, schemas: dict[str, tuple[str, ...] | None]) -> list[str]:
    """`schema.table` of the tables in `schemas` (a tuple limits a schema to those tables, None takes all)."""
    names = []
    for schema, only in schemas.items():
        for table in sorted(_spark_tables(session, schema)):
            if only is None or table in only:
                names.append(f"{schema}.{table}")
    return names


# rows per piece of a table copied to DuckDB: a piece is collected to the driver whole, and Spark refuses results
# above spark.driver.maxResultSize (1 GB by default; fct_touchpoints at 1 M leads is about 1.6 GB)
COPY_PIECE_ROWS = 2_000_000


def copy_spark_to_duckdb(
    session, duck, catalog: str, names: list[str], piece_rows: int = COPY_PIECE_ROWS
) -> dict[str, int]:
    """Copies Spark tables into DuckDB catalog `catalog`, as Arrow through the driver: a large table in pieces of
    about `piece_rows` rows (its rows split by a hash of all their columns), so the driver never holds it whole."""
    from pyspark.sql import functions as F

    counts = {}
    for name in names:
        schema, table = name.split(".")
        target = qualified(f"{catalog}.{schema}.{table}")
        duck.execute(f"create schema if not exists {qualified(f'{catalog}.{schema}')}")
        frame = session.table(name)
        pieces = max(1, -(-frame.count() // piece_rows))
        piece_of = F.pmod(F.hash(*[frame[c] for c in frame.columns]), F.lit(pieces))
        counts[name] = 0
        for piece in range(pieces):
            rows = (frame if pieces == 1 else frame.where(piece_of == piece)).toArrow()
            duck.register("_rows", rows)
            write = f"create or replace table {target} as" if piece == 0 else f"insert into {target}"
            duck.execute(f"{write} select * from _rows")
            duck.unregister("_rows")
            counts[name] += rows.num_rows
    return counts
