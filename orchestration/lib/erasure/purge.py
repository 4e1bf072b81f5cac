"""Suppressing and purging the person in the DuckDB warehouse (steps 2 and 3): their hashed identifiers join
raw._suppressed, their rows leave every raw table and the phone cache, and every table of intermediate, marts and
quality whose personal-data columns (the dbt YAML's `meta: {pii: ...}` tags) point at them, in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

import duckdb
import pyarrow as pa

from orchestration.lib import personal_data, suppression
from orchestration.lib.erasure.keys import (
    DOWNSTREAM_SCHEMAS,
    IDENTITY_TABLE,
    KEYS,
    add_keys,
    columns_of,
    downstream_match,
    expand,
    raw_match,
    raw_tables,
)
from orchestration.lib.erasure.requests import Erasure, cleared_request, utcnow
from orchestration.lib.sql import quote_ident, table_exists, table_names

SUPPRESSED_KINDS = tuple(suppression.COLUMN_KINDS.values())


def purge(
    con: duckdb.DuckDBPyConnection,
    seeds: Iterable[tuple[str, str]],
    key: bytes,
    requested_at: datetime,
    erased_at: datetime,
    identity: pa.Table | None = None,
    fetch: Callable | None = None,
) -> Erasure:
    """Steps 1-3 on an open warehouse connection; leaves the person's keys in the temp table `_erase_keys`.
    `identity`: the rows of identity_people when identity resolution wrote them elsewhere (a PostgreSQL server or
    Spark); `fetch`: brings raw rows that live elsewhere (Spark) into `con` for the search (see keys.expand), and
    `fetch.clear(con)` takes them out again with the purge."""
    con.execute(f"create or replace temp table {KEYS} (kind varchar, value varchar)")
    add_keys(con, seeds)
    if identity is not None:
        con.register("_server_identity", identity)
        con.execute("create or replace temp table _identity_people as select * from _server_identity")
        con.unregister("_server_identity")
    elif table_exists(con, *IDENTITY_TABLE):
        con.execute("create or replace temp view _identity_people as select * from intermediate.identity_people")
    expand(con, fetch)
    keys: dict[str, set[str]] = {}
    for kind, value in con.execute(f"select kind, value from {KEYS}").fetchall():
        keys.setdefault(kind, set()).add(value)
    result = Erasure(identifiers={k: len(v) for k, v in sorted(keys.items()) if k != "raw_email"}, keys=keys)
    hashed = personal_data.hashed_keys(keys, key)  # published cookies and dim_people's hashes hold these
    add_keys(con, hashed)
    for kind, value in hashed:
        keys.setdefault(kind, set()).add(value)
    result.suppressed = suppression.record(
        con, [(kind, value) for kind in SUPPRESSED_KINDS for value in keys.get(kind, ())], key, requested_at, erased_at
    )
    con.execute("begin transaction")
    try:
        result.removed = _delete_raw(con) | _delete_downstream(con)
        if fetch is not None:
            fetch.clear(con)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return result


def _delete_raw(con) -> dict[str, int]:
    removed = {}
    for table in raw_tables(con):
        if table in suppression.EXEMPT_SOURCES:
            continue  # erasure_requests: cleared below, the request itself stays
        match = raw_match(columns_of(con, "raw", table))
        if match is not None:
            removed[f"raw.{table}"] = con.execute(f"delete from raw.{quote_ident(table)} where {match}").fetchone()[0]
    removed["raw._phone_numbers"] = con.execute(
        f"delete from raw._phone_numbers where phone_e164 in (select value from {KEYS} where kind = 'phone')"
    ).fetchone()[0]
    removed["raw.erasure_requests"] = con.execute(
        f"update raw.erasure_requests set {cleared_request('applied', utcnow())}"
        f" where {raw_match(['email', '_phone_e164'])}"
    ).fetchone()[0]
    return removed


def _delete_downstream(con) -> dict[str, int]:
    removed = {}
    for schema in DOWNSTREAM_SCHEMAS:
        for table in table_names(con, schema, base_only=True):
            match = downstream_match(f"{schema}.{table}", columns_of(con, schema, table))
            if match is not None:
                removed[f"{schema}.{table}"] = con.execute(
                    f"delete from {schema}.{quote_ident(table)} where {match}"
                ).fetchone()[0]
    return removed
