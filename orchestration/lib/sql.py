"""SQL text built in Python, the same on DuckDB and PostgreSQL: quoted identifiers and string literals, and the
tables of a database as information_schema lists them (both engines have it)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def quote_ident(name: str) -> str:
    """An identifier in double quotes (double quotes inside doubled): any name, any case, as it is spelled."""
    return '"' + name.replace('"', '""') + '"'


def qualified(name: str) -> str:
    """A dotted name (`schema.table`, `catalog.schema.table`) with every part quoted."""
    return ".".join(quote_ident(part) for part in name.split("."))


def sql_literal(value: object) -> str:
    """A SQL string literal (single quotes doubled), for paths, comments and values written into a statement."""
    return "'" + str(value).replace("'", "''") + "'"


def tables_query(
    schemas: Iterable[str] = (), table: str | None = None, catalog: str | None = None, base_only: bool = False
) -> str:
    """The query listing (table_schema, table_name) of information_schema.tables, sorted: of the connection's own
    database (`catalog`: an attached DuckDB database instead), of `schemas` (none: every schema), `table` only,
    base tables only (no views) when `base_only`."""
    conditions = [f"table_catalog = {'current_database()' if catalog is None else sql_literal(catalog)}"]
    schemas = list(schemas)
    if schemas:
        conditions.append(f"table_schema in ({', '.join(sql_literal(s) for s in schemas)})")
    if table is not None:
        conditions.append(f"table_name = {sql_literal(table)}")
    if base_only:
        conditions.append("table_type = 'BASE TABLE'")
    return (
        "select table_schema, table_name from information_schema.tables"
        f" where {' and '.join(conditions)} order by table_schema, table_name"
    )


def list_tables(
    con: Any, *schemas: str, table: str | None = None, catalog: str | None = None, base_only: bool = False
) -> list[tuple[str, str]]:
    """(schema, table) of the tables of `schemas` (none: every schema), sorted; see tables_query. `con`: a DuckDB
    connection, a DB-API cursor (psycopg2) or a warehouse of orchestration/lib/warehouse.py."""
    sql = tables_query(schemas, table, catalog, base_only)
    if hasattr(con, "read_text"):  # a warehouse: the rows come back as an Arrow table of text
        found = con.read_text(sql)
        return list(zip(found.column(0).to_pylist(), found.column(1).to_pylist(), strict=True))
    result = con.execute(sql)  # DuckDB returns the connection, a DB-API cursor None
    return [(schema, name) for schema, name in (con if result is None else result).fetchall()]


def table_names(con: Any, schema: str, catalog: str | None = None, base_only: bool = False) -> list[str]:
    """The names of the tables of one schema, sorted (see list_tables)."""
    return [name for _, name in list_tables(con, schema, catalog=catalog, base_only=base_only)]


def table_exists(con: Any, schema: str, table: str) -> bool:
    """Whether `schema.table` (a table or a view) exists in the connection's database (see list_tables)."""
    return bool(list_tables(con, schema, table=table))
