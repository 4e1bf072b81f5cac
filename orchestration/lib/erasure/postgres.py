"""Erasure on a PostgreSQL build warehouse (the postgres dbt target): its copy of raw (orchestration/lib/postgres.py)
and the models dbt built there, and the identity graph identity resolution wrote there."""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa

from orchestration.lib import suppression
from orchestration.lib.erasure.keys import DOWNSTREAM_SCHEMAS, IDENTITY_TABLE, KEYS, downstream_match, raw_match
from orchestration.lib.erasure.requests import cleared_request, utcnow
from orchestration.lib.sql import quote_ident, table_exists, table_names
from orchestration.settings import Settings


def purge_postgres(
    conninfo: dict | str, keys: dict[str, set[str]], schemas: Iterable[str] = ("raw", *DOWNSTREAM_SCHEMAS)
) -> dict[str, int]:
    """Deletes the person (`Erasure.keys` of an erase on the DuckDB warehouse) from a PostgreSQL server: raw rows
    by the same rules as in DuckDB (an erasure request keeps its date), and rows of the intermediate, marts and
    quality tables by their key columns; then VACUUM FULL rewrites each table that lost rows, so dead tuples do
    not keep the bytes. Returns rows removed per table."""
    import psycopg2

    pg = psycopg2.connect(conninfo) if isinstance(conninfo, str) else psycopg2.connect(**conninfo)
    removed: dict[str, int] = {}
    try:
        with pg, pg.cursor() as cur:
            cur.execute(f"create temp table {KEYS} (kind text, value text) on commit drop")
            rows = [(kind, value) for kind, values in sorted(keys.items()) for value in sorted(values)]
            cur.executemany(f"insert into {KEYS} values (%s, %s)", rows)
            for schema in schemas:
                for table in table_names(cur, schema, base_only=True):
                    cur.execute(
                        "select column_name from information_schema.columns where table_schema = %s"
                        " and table_name = %s order by ordinal_position",
                        [schema, table],
                    )
                    columns = [row[0] for row in cur.fetchall()]
                    name = f"{quote_ident(schema)}.{quote_ident(table)}"
                    if schema == "raw" and table in suppression.EXEMPT_SOURCES:
                        cur.execute(
                            f"update {name} set {cleared_request('applied', utcnow())}"
                            f" where {raw_match(['email', '_phone_e164'])}"
                        )
                    else:
                        if schema == "raw":
                            match = raw_match(columns)
                        else:
                            match = downstream_match(f"{schema}.{table}", columns)
                        if match is None:
                            continue
                        cur.execute(f"delete from {name} where {match}")
                    removed[f"{schema}.{table}"] = cur.rowcount
        pg.autocommit = True  # VACUUM cannot run inside a transaction
        with pg.cursor() as cur:
            for table, rows in removed.items():
                if rows:
                    schema, name = table.split(".", 1)
                    cur.execute(f"vacuum full {quote_ident(schema)}.{quote_ident(name)}")
    finally:
        pg.close()
    return removed


def server_identity(settings: Settings) -> pa.Table | None:
    """identity_people of the PostgreSQL build warehouse (identity resolution writes it there), if it has one."""
    if settings.dbt_target != "postgres":
        return None
    from orchestration.lib.warehouse import open_warehouse

    with open_warehouse("postgres", settings.warehouse_path) as warehouse:
        if not table_exists(warehouse, *IDENTITY_TABLE):
            return None
        return warehouse.read_text("select identifier, person_id from intermediate.identity_people")
