"""Publishes the serving file to a PostgreSQL database for BI servers: schemas `marts` and `quality`, swapped in whole.

The source is the published serving.duckdb (what DuckDB readers see), never the build warehouse: its tables, column
types, table and column comments and primary keys. Each schema is built under a fresh name (`marts__incoming`),
then ONE transaction renames the live schema away (`marts__previous_<time>`) and the new one in. A query already
running keeps the old tables (it holds their locks; renaming a schema takes none of them) and finishes on them; the
next query resolves `marts.<table>` to the new table. The old schema is dropped afterwards in its own transaction,
so a long reader delays only that drop, never the swap; a drop that cannot get its locks in time is retried at the
next publish. Grants other roles held on the live schema and its tables are given again on the new ones first.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psycopg2
from psycopg2 import errors
from psycopg2.extensions import parse_dsn

from orchestration.lib.postgres import copy_query, postgres_type, select_list
from orchestration.lib.publish import PUBLISHED
from orchestration.lib.sql import quote_ident

INCOMING = "__incoming"
# every schema a publish creates carries this comment; a schema without it is someone else's and is never replaced
MARKER = "Published by closedloop from serving.duckdb"
RETIRED = "__previous_"
# how long dropping a retired schema waits for readers still on it before leaving it to the next publish
DROP_LOCK_TIMEOUT = "30s"
CONNECT_TIMEOUT_SECONDS = "15"

log = logging.getLogger(__name__)


class ServingUnreachable(Exception):
    pass


class NotOurSchema(Exception):
    pass


@dataclass
class ServingTable:
    name: str
    comment: str | None
    columns: list[tuple[str, str, str | None]]  # name, DuckDB type, comment
    primary_key: list[str]


def publish_to_postgres(serving_path: Path, url: str) -> dict[str, int]:
    """Every published schema (marts and quality) of the serving file into the database at `url`; rows per table."""
    return _publish(serving_path, url, tuple(PUBLISHED))


def publish_quality_to_postgres(serving_path: Path, url: str) -> dict[str, int]:
    """Only schema `quality`, the same atomic way; the marts in PostgreSQL stay as they are."""
    return _publish(serving_path, url, ("quality",))


def describe_url(url: str) -> str:
    """user@host:port/database: what logs and messages name, never the password."""
    try:
        parts = parse_dsn(url)
    except psycopg2.ProgrammingError:
        return "an unparsable CLOSEDLOOP_SERVING_URL"
    host, port = parts.get("host", "localhost"), parts.get("port", "5432")
    return f"{parts.get('user', '')}@{host}:{port}/{parts.get('dbname', '')}"


def _publish(serving_path: Path, url: str, schemas: tuple[str, ...]) -> dict[str, int]:
    pg = _connect(url)
    try:
        with pg, pg.cursor() as cur:  # one publisher at a time per database; released when the session ends
            cur.execute("select pg_advisory_lock(hashtext('closedloop.serving'))")
            _refuse_foreign_schemas(cur, schemas, describe_url(url))
        counts = {}
        with (
            duckdb.connect(str(serving_path), read_only=True) as duck,
            tempfile.TemporaryDirectory(prefix="closedloop-serving-") as scratch,
        ):
            for schema in schemas:
                counts |= _build(duck, pg, schema, Path(scratch))
        _swap(pg, schemas)
        _drop_retired(pg, schemas)
    finally:
        pg.close()
    return counts


def _connect(url: str):
    try:
        params = parse_dsn(url)
    except psycopg2.ProgrammingError:  # libpq's message quotes the string, which may hold the password
        raise ServingUnreachable(
            "CLOSEDLOOP_SERVING_URL is not a postgresql://user:password@host:port/db URL"
        ) from None
    params.setdefault("connect_timeout", CONNECT_TIMEOUT_SECONDS)
    try:
        return psycopg2.connect(**params)
    except psycopg2.OperationalError as exc:
        reason = (str(exc).strip().splitlines() or ["no reason given"])[0]  # libpq's first line says it
        if params.get("password"):
            reason = reason.replace(params["password"], "***")
        raise ServingUnreachable(
            f"serving.duckdb was published, but the PostgreSQL serving database {describe_url(url)} cannot be"
            f" reached ({reason}); it still holds the previous publish"
        ) from None


def _refuse_foreign_schemas(cur, schemas: tuple[str, ...], database: str) -> None:
    """A live schema a publish did not create (dbt's `marts`, say) is left alone: the publish stops instead."""
    cur.execute(
        "select nspname from pg_namespace where nspname = any(%s)"
        " and coalesce(starts_with(obj_description(oid, 'pg_namespace'), %s), false) = false",
        [list(schemas), MARKER],
    )
    foreign = [row[0] for row in cur.fetchall()]
    if foreign:
        raise NotOurSchema(
            f"schema(s) {', '.join(foreign)} in {database} were not created by a closedloop publish; nothing was"
            " replaced there (point CLOSEDLOOP_SERVING_URL at a database of its own, or drop or rename them)"
        )


def _build(duck, pg, schema: str, scratch: Path) -> dict[str, int]:
    """schema__incoming: every table of `schema` in the serving file, with rows, keys, comments and grants."""
    incoming = schema + INCOMING
    counts = {}
    with pg, pg.cursor() as cur:
        cur.execute(f"drop schema if exists {quote_ident(incoming)} cascade")  # left by an interrupted publish
        cur.execute(f"create schema {quote_ident(incoming)}")
        stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        cur.execute(f"comment on schema {quote_ident(incoming)} is %s", [f"{MARKER}, {stamp}"])
        for table in serving_tables(duck, schema):
            counts[f"{schema}.{table.name}"] = _copy_table(duck, cur, schema, table, scratch)
        _carry_grants(cur, schema, incoming)
    return counts


def serving_tables(duck, schema: str) -> list[ServingTable]:
    """The tables of one schema of the serving file, as its catalog declares them; its views too, which become
    tables on the server (a BI server gets fct_attribution's rows to index and plan on, not an unpivot per query)."""
    tables = duck.execute(
        "select table_name, comment from duckdb_tables()"
        " where database_name = current_database() and schema_name = ? union all"
        " select view_name, comment from duckdb_views()"
        " where database_name = current_database() and schema_name = ? and not internal order by 1",
        [schema, schema],
    ).fetchall()
    return [ServingTable(name, comment, *_columns_and_key(duck, schema, name)) for name, comment in tables]


def _columns_and_key(duck, schema: str, table: str) -> tuple[list, list[str]]:
    where = " where database_name = current_database() and schema_name = ? and table_name = ?"
    columns = duck.execute(
        "select column_name, data_type, comment from duckdb_columns()" + where + " order by column_index",
        [schema, table],
    ).fetchall()
    keys = duck.execute(
        "select constraint_column_names from duckdb_constraints()" + where + " and constraint_type = 'PRIMARY KEY'",
        [schema, table],
    ).fetchall()
    return columns, (keys[0][0] if keys else [])


def _copy_table(duck, cur, schema: str, table: ServingTable, scratch: Path) -> int:
    target = f"{quote_ident(schema + INCOMING)}.{quote_ident(table.name)}"
    columns = [(name, kind) for name, kind, _ in table.columns]
    cur.execute(f"create table {target} ({', '.join(f'{quote_ident(n)} {postgres_type(k)}' for n, k in columns)})")
    query = f"select {select_list(columns)} from {quote_ident(schema)}.{quote_ident(table.name)}"
    rows = copy_query(duck, cur, query, target, [name for name, _ in columns], scratch)
    if table.primary_key:  # after the load: one index build instead of one insert per row into it
        cur.execute(f"alter table {target} add primary key ({', '.join(quote_ident(c) for c in table.primary_key)})")
    if table.comment:
        cur.execute(f"comment on table {target} is %s", [table.comment])
    for name, _, comment in table.columns:
        if comment:
            cur.execute(f"comment on column {target}.{quote_ident(name)} is %s", [comment])
    cur.execute(f"analyze {target}")  # BI queries get a planner that knows the new rows
    return rows


def _carry_grants(cur, live: str, incoming: str) -> None:
    """USAGE on the live schema and SELECT on its tables, given again on the incoming ones.

    A table new tonight gets SELECT for the roles that could read every table of the live schema (what
    `grant select on all tables in schema` gave them)."""
    cur.execute(
        "select a.is_grantable, " + _GRANTEE + " from pg_namespace n,"
        " aclexplode(n.nspacl) a where n.nspname = %s and a.grantee <> n.nspowner and a.privilege_type = 'USAGE'",
        [live],
    )
    for grantable, grantee in cur.fetchall():
        cur.execute(f"grant usage on schema {quote_ident(incoming)} to {grantee}{_WITH_GRANT[grantable]}")
    readers = _table_readers(cur, live)
    everywhere = set.intersection(*readers.values()) if readers else set()
    cur.execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = %s and c.relkind = 'r'",
        [incoming],
    )
    for (table,) in cur.fetchall():
        for grantee, grantable in readers.get(table, everywhere):
            cur.execute(
                f"grant select on {quote_ident(incoming)}.{quote_ident(table)} to {grantee}{_WITH_GRANT[grantable]}"
            )


def _table_readers(cur, schema: str) -> dict[str, set[tuple[str, bool]]]:
    """table -> the (role, with grant option) pairs holding SELECT on it, for every table of the schema."""
    cur.execute(
        "select c.relname, a.is_grantable, " + _GRANTEE + " from pg_class c"
        " join pg_namespace n on n.oid = c.relnamespace"
        " left join lateral aclexplode(c.relacl) a on a.grantee <> c.relowner and a.privilege_type = 'SELECT'"
        " where n.nspname = %s and c.relkind = 'r'",
        [schema],
    )
    readers: dict[str, set[tuple[str, bool]]] = {}
    for table, grantable, grantee in cur.fetchall():
        readers.setdefault(table, set())
        if grantee is not None:
            readers[table].add((grantee, grantable))
    return readers


# the role a privilege was granted to, ready for a GRANT statement (0 is PUBLIC)
_GRANTEE = "case when a.grantee = 0 then 'public' else quote_ident(pg_get_userbyid(a.grantee)) end"
_WITH_GRANT = {True: " with grant option", False: "", None: ""}


def _swap(pg, schemas: tuple[str, ...]) -> None:
    """One transaction: every live schema renamed away, every incoming schema renamed in."""
    retired_suffix = RETIRED + time.strftime("%Y%m%d%H%M%S", time.gmtime())
    with pg, pg.cursor() as cur:
        for schema in schemas:
            cur.execute("select 1 from pg_namespace where nspname = %s", [schema])
            if cur.fetchone():
                cur.execute(f"alter schema {quote_ident(schema)} rename to {quote_ident(schema + retired_suffix)}")
            cur.execute(f"alter schema {quote_ident(schema + INCOMING)} rename to {quote_ident(schema)}")


def _drop_retired(pg, schemas: tuple[str, ...]) -> None:
    """Drops the schemas swapped out (tonight's and any a reader kept last time), each in its own transaction."""
    with pg, pg.cursor() as cur:
        cur.execute(
            "select nspname from pg_namespace where " + " or ".join(["starts_with(nspname, %s)"] * len(schemas)),
            [schema + RETIRED for schema in schemas],
        )
        retired = [row[0] for row in cur.fetchall()]
    for name in retired:
        try:
            with pg, pg.cursor() as cur:
                cur.execute(f"set local lock_timeout = '{DROP_LOCK_TIMEOUT}'")
                cur.execute(f"drop schema {quote_ident(name)} cascade")
        except (errors.LockNotAvailable, errors.DeadlockDetected):
            log.warning("schema %s is still being read; it is dropped at the next publish", name)
