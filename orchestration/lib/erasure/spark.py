"""Erasure on a Spark build warehouse (the spark dbt target): the raw tables Spark reads from the landing files
(orchestration/lib/spark_landing.py), the bookkeeping it copies from the job's DuckDB file, the models dbt built
there and the identity graph identity resolution wrote there.

- **Finding the person** runs in the job's DuckDB file as on every engine (keys.py), on the raw rows that may be
  theirs: before each pass, `SparkRawFetch` brings from Spark the rows that match the keys found so far (and the
  rows whose email may be a spelling of theirs), never the rest. They leave the file again when the purge is done.
- **Purging**: Parquet tables take no deletes, so a table holding rows of the person is rewritten without them
  (`spark.delete_rows`). The bookkeeping tables the erasure changed are copied from the DuckDB file again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.lib.contract import CONTRACTS
from orchestration.lib.erasure.keys import (
    DOWNSTREAM_SCHEMAS,
    IDENTITY_TABLE,
    KEYS,
    downstream_match,
    email_needles,
    raw_match,
)
from orchestration.lib.spark_landing import spark_loaded
from orchestration.lib.warehouse import spark_sql

NEEDLES = "_erase_needles"
# staging is tables on Spark (views on the other engines, see dbt_project.yml): its rows hold the person until the
# next night's build, so it is purged with the schemas built from it
PURGED_SCHEMAS = ("staging", *DOWNSTREAM_SCHEMAS)


class SparkRawFetch:
    """`fetch` of keys.expand on the spark target (see the module's doc)."""

    def __init__(self, session):
        self.session = session
        self.tables = spark_raw_tables(session)

    def __call__(self, con: duckdb.DuckDBPyConnection) -> None:
        pairs = con.execute(f"select kind, value from {KEYS}").fetchall()  # a few dozen keys of one person
        emails = [v for k, v in pairs if k == "email"]
        with _views(self.session, pairs, email_needles(emails)):
            for name in self.tables:
                columns = self.session.table(name).columns
                wanted = [f"select * from {name} where {spark_sql(match)}"] if (match := raw_match(columns)) else []
                if "email" in columns and emails:
                    wanted.append(
                        f"select t.* from {name} as t left semi join {NEEDLES} as n"
                        " on contains(replace(lower(t.email), '.', ''), n.needle)"
                    )
                if wanted:
                    _add_missing(con, name, self.session.sql(" union ".join(wanted)).toArrow())

    def clear(self, con: duckdb.DuckDBPyConnection) -> None:
        """Takes the fetched rows out of the DuckDB file again (on this target its raw tables of landing sources
        hold nothing else; an older data dir's copies of Spark's rows go too)."""
        for name in self.tables:
            con.execute(f"delete from {name}")


def _add_missing(con, name: str, rows: pa.Table) -> None:
    con.register("_fetched", rows)
    try:
        con.execute(
            f"insert into {name} by name select * from _fetched as f where not exists (select 1 from {name} as r"
            " where r._file_hash = f._file_hash and r._row_number = f._row_number)"
        )
    finally:
        con.unregister("_fetched")


@contextmanager
def _views(session, keys: list[tuple[str, str]], needles: list[str]) -> Iterator[None]:
    """The person's (kind, value) keys and email needles as Spark temp views, for the duration of a `with`."""
    session.createDataFrame(keys, "kind string, value string").createOrReplaceTempView(KEYS)
    session.createDataFrame([(n,) for n in needles], "needle string").createOrReplaceTempView(NEEDLES)
    try:
        yield
    finally:
        session.catalog.dropTempView(KEYS)
        session.catalog.dropTempView(NEEDLES)


def purge_spark(
    session,
    warehouse_path: Path,
    keys: dict[str, set[str]],
    changed_raw: Iterable[str] = (),
    schemas: Iterable[str] = PURGED_SCHEMAS,
) -> dict[str, int]:
    """Deletes the person (`Erasure.keys` of an erase on the DuckDB warehouse) from Spark: the bookkeeping tables
    named in `changed_raw` (the ones the erasure changed in the DuckDB file) are copied from it whole; the rows of
    Spark's raw tables that match the person's keys, and the rows of the staging, intermediate, marts and quality
    tables that point at them by their key columns, are removed. Returns rows removed per Spark table."""
    from orchestration.lib.spark import copy_raw_to_spark, delete_rows, stored_tables

    copy_raw_to_spark(warehouse_path, session, whole=set(changed_raw))
    pairs = sorted((kind, value) for kind, values in keys.items() for value in values)
    removed = {}
    with _views(session, pairs, []):
        for name in spark_raw_tables(session):
            match = raw_match(session.table(name).columns)
            if match is not None:
                removed[name] = delete_rows(session, name, spark_sql(f"coalesce({match}, false)"))
        for schema in schemas:
            for name in stored_tables(session, schema):
                match = downstream_match(name, session.table(name).columns)
                if match is not None:
                    removed[name] = delete_rows(session, name, spark_sql(f"coalesce({match}, false)"))
    return removed


def spark_raw_tables(session) -> list[str]:
    """`raw.<source>` of the landing sources Spark reads itself, as far as Spark has them."""
    from orchestration.lib.spark import stored_tables

    present = set(stored_tables(session, "raw"))
    return [f"raw.{s}" for s in CONTRACTS if spark_loaded(s) and f"raw.{s}" in present]


def spark_identity(session) -> pa.Table | None:
    """identity_people of the Spark build warehouse (identity resolution writes it there), if it has one."""
    from orchestration.lib.spark import stored_tables

    name = ".".join(IDENTITY_TABLE)
    if name not in stored_tables(session, IDENTITY_TABLE[0]):
        return None
    return session.sql(f"select cast(identifier as string) as identifier, person_id from {name}").toArrow()
