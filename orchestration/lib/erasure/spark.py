"""Erasure on a Spark build warehouse (the spark dbt target): its copy of raw (orchestration/lib/spark.py), the
models dbt built there and the identity graph identity resolution wrote there.

Parquet tables take no deletes: a table holding rows of the person is rewritten without them (through a scratch
table: Spark does not overwrite a table it is reading). The raw tables are copied again from the DuckDB file,
which has lost the person by then."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa

from orchestration.lib.erasure.keys import DOWNSTREAM_SCHEMAS, IDENTITY_TABLE, KEYS, downstream_match
from orchestration.lib.warehouse import spark_sql

SCRATCH_SUFFIX = "__erasure"


def purge_spark(
    session,
    warehouse_path: Path,
    keys: dict[str, set[str]],
    changed_raw: Iterable[str] = (),
    schemas: Iterable[str] = DOWNSTREAM_SCHEMAS,
) -> dict[str, int]:
    """Deletes the person (`Erasure.keys` of an erase on the DuckDB warehouse) from Spark: the raw tables named in
    `changed_raw` (the ones the erasure changed in the DuckDB file) are copied from it whole, and the rows of the
    intermediate, marts and quality tables that point at the person, by their key columns, are removed. Returns
    rows removed per downstream table."""
    from orchestration.lib.spark import copy_raw_to_spark

    copy_raw_to_spark(warehouse_path, session, whole=set(changed_raw))
    pairs = sorted((kind, value) for kind, values in keys.items() for value in values)
    session.createDataFrame(
        pa.table({"kind": [k for k, _ in pairs], "value": [v for _, v in pairs]}, schema=_KEY_SCHEMA)
    ).createOrReplaceTempView(KEYS)
    removed = {}
    try:
        for schema in schemas:
            for name in stored_tables(session, schema):
                match = downstream_match(name, session.table(name).columns)
                if match is not None:
                    removed[name] = _delete(session, name, spark_sql(f"coalesce({match}, false)"))
    finally:
        session.catalog.dropTempView(KEYS)
    return removed


_KEY_SCHEMA = pa.schema([("kind", pa.string()), ("value", pa.string())])


def _delete(session, name: str, match: str) -> int:
    hits = session.sql(f"select count(*) from {name} where {match}").first()[0]
    if hits:
        scratch = name + SCRATCH_SUFFIX
        session.sql(f"drop table if exists {scratch}")
        session.sql(f"create table {scratch} using parquet as select * from {name} where not ({match})")
        session.sql(f"insert overwrite table {name} select * from {scratch}")
        session.sql(f"drop table {scratch}")
    return hits


def stored_tables(session, schema: str) -> list[str]:
    """`schema.table` of the tables (not views) of a Spark database; none when it does not exist."""
    if not session.catalog.databaseExists(schema):
        return []
    return sorted(
        f"{schema}.{table.name}"
        for table in session.catalog.listTables(schema)
        if not table.isTemporary and table.tableType != "VIEW"
    )


def spark_identity(session) -> pa.Table | None:
    """identity_people of the Spark build warehouse (identity resolution writes it there), if it has one."""
    name = ".".join(IDENTITY_TABLE)
    if name not in stored_tables(session, IDENTITY_TABLE[0]):
        return None
    return session.sql(f"select cast(identifier as string) as identifier, person_id from {name}").toArrow()
