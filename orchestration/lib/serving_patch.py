"""Publishing what changed (docs/serving.md#what-a-night-rewrites): a night's new serving file starts as a copy of
the last one, and each large table whose definition did not change keeps its rows and gets only the difference:
the rows that are gone are deleted, the new or changed rows inserted. Rows are compared whole, by two 64-bit hashes
of all their columns in opposite orders (a 128-bit fingerprint); a table with duplicate rows, or whose counts do not
add up, is written whole instead.

A copied file keeps the bytes of deleted rows in blocks DuckDB reuses later, so an erasure never patches: it writes
a fresh file (orchestration/lib/erasure/rewrite.py), which the next night then starts from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from orchestration.lib.sql import quote_ident, sql_literal

# DuckDB's storage number of the v1.0.0 format, in the file header at bytes 12–20 after the magic "DUCK" at 8–12
STORAGE_NUMBER = 64
# below this many rows a table is written whole: comparing would cost more than writing
WHOLE_BELOW = 20_000


@dataclass(frozen=True)
class Definition:
    columns: tuple[tuple[str, str], ...]  # (name, type)
    key_kind: str | None  # "PRIMARY KEY", "UNIQUE" or None
    key: tuple[str, ...]


def can_start_from(path: Path) -> bool:
    """Whether the serving file at `path` can be copied to start the next one: it exists and is in the v1.0.0
    storage format (a copy keeps its format)."""
    try:
        with open(path, "rb") as handle:
            header = handle.read(20)
    except FileNotFoundError:
        return False
    return header[8:12] == b"DUCK" and int.from_bytes(header[12:20], "little") == STORAGE_NUMBER


def existing_definition(con, target: str, schema: str, table: str) -> Definition | None:
    """The definition of the table `target` (`serving.<schema>.<table>`) in the copied file, or None."""
    found = con.execute(
        "select count(*) from duckdb_tables() where database_name = 'serving' and schema_name = ? and table_name = ?",
        [schema, table],
    ).fetchall()[0][0]
    if not found:
        return None
    columns = tuple((row[0], row[1]) for row in con.execute(f"describe {target}").fetchall())
    keys = con.execute(
        "select constraint_type, constraint_column_names from duckdb_constraints()"
        " where database_name = 'serving' and schema_name = ? and table_name = ?"
        " and constraint_type in ('PRIMARY KEY', 'UNIQUE')",
        [schema, table],
    ).fetchall()
    kind, key = (keys[0][0], tuple(keys[0][1])) if keys else (None, ())
    return Definition(columns, kind, key)


def patch_rows(con, target: str, query: str, columns: list[str]) -> tuple[int, int] | None:
    """Makes the table `target` hold the rows of `query` by deleting the rows that are gone and inserting the new
    ones; (rows now, rows inserted), or None when the table is small or the result would not hold exactly the rows
    of `query` (then the caller writes it whole; the table may be half patched)."""
    if con.execute(f"select count(*) from {target}").fetchall()[0][0] < WHOLE_BELOW:
        return None
    hashes = _row_hashes(columns)
    con.execute(f"create or replace temp table _new_rows as select {hashes} from ({query})")
    con.execute(f"create or replace temp table _old_rows as select rowid as row_id, {hashes} from {target}")
    # rows are matched on the first hash; the second checks the result (a collision, or duplicate rows, shows
    # as a count or a sum that differs from the new rows')
    con.execute(
        "create or replace temp table _changed as select _old_rows.row_id, _new_rows._h1 as added,"
        " coalesce(_old_rows._h2, _new_rows._h2) as _h2 from _old_rows full join _new_rows using (_h1)"
        " where _old_rows._h1 is null or _new_rows._h1 is null"
    )
    try:
        con.execute(f"delete from {target} where rowid in (select row_id from _changed where added is null)")
        listed = ", ".join(quote_ident(c) for c in columns)
        inserted = con.execute(
            f"insert into {target} select {listed} from (select *, {hashes} from ({query}))"
            " semi join (select added as _h1 from _changed where added is not null) using (_h1)"
        ).fetchall()[0][0]
        expected, found, added = con.execute(
            f"select ({_COUNT_AND_SUM} from _new_rows),"
            f" ({_COUNT_AND_SUM} from (select _h2 from _old_rows anti join _changed using (row_id)"
            " union all select _h2 from _changed where added is not null)),"
            " (select count(*) from _changed where added is not null)"
        ).fetchall()[0]
        return (int(expected[0]), inserted) if expected == found and inserted == added else None
    finally:
        for table in ("_new_rows", "_old_rows", "_changed"):
            con.execute(f"drop table if exists {table}")


def drop_unpublished(con, published: list[str]) -> None:
    """Drops the copied file's tables that tonight does not publish (a mart removed from the project)."""
    wanted = set(published)
    for schema, table in con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = 'serving'"
    ).fetchall():
        if f"{schema}.{table}" not in wanted:
            con.execute(f"drop table serving.{quote_ident(schema)}.{quote_ident(table)}")


_COUNT_AND_SUM = "select [count(*)::hugeint, coalesce(sum(_h2::hugeint), 0)]"


def _row_hashes(columns: list[str]) -> str:
    listed = [quote_ident(c) for c in columns]
    return f"hash({', '.join(listed)}) as _h1, hash({', '.join(reversed(listed))}, {sql_literal('row')}) as _h2"
