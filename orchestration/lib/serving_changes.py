"""Publishing what changed: last night's serving file, copied, is brought up to tonight's marts table by table.

Writing a table into a DuckDB file (compressing every column) costs ten to twenty times a read that hashes its
rows, so each table is compared before it is written: a table whose rows, columns and key did not change is kept
as it is; a keyed table with few changed rows gets only those (its gone and changed rows deleted by key, its new and
changed rows inserted); any other table is written again whole. The result holds the same rows as a fresh write
(tests/unit/test_publish_changes.py compares the two), and readers still see the old file or the new one
whole, since the copy is renamed over the old file as before.

Rows are compared by DuckDB's 64-bit `hash` of the whole row: two different rows with the same key and the same
hash would be taken as unchanged, a chance of about one in 2^64 per changed row.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration.lib.sql import quote_ident as _ident
from orchestration.lib.sql import sql_literal

# a table with more changed rows than this share of its rows is written again whole: deleting most of a table
# leaves row groups of tombstones that a fresh write would not have
MAX_CHANGED_SHARE = 0.5
# a serving file with more free blocks than this share (space left by tables written again) is not reused, so the
# file does not grow night after night: a fresh write compacts it
MAX_FREE_SHARE = 0.25


def reusable(serving_path: Path, storage_version: str) -> bool:
    """Whether the current serving file can be the start of tonight's: it opens, it is in `storage_version` (a
    file of an older release may not be) and less than MAX_FREE_SHARE of its blocks are free."""
    if not serving_path.exists():
        return False
    try:
        with duckdb.connect() as con:
            con.execute(f"attach {sql_literal(serving_path)} as old (read_only)")
            tags = con.execute("select tags from duckdb_databases() where database_name = 'old'").fetchall()[0][0]
            size = con.execute(
                "select total_blocks, free_blocks from pragma_database_size() where database_name = 'old'"
            )
            total, free = size.fetchall()[0]
    except duckdb.Error:
        return False
    version = (tags or {}).get("storage_version", "")
    return version.rstrip("+") == storage_version and free <= MAX_FREE_SHARE * max(total, 1)


def columns_of(con, relation: str) -> list[tuple[str, str]]:
    """(name, type) of every column of a table or query."""
    return [(row[0], row[1]) for row in con.execute(f"describe {relation}").fetchall()]


def existing_columns(con, target: str) -> list[tuple[str, str]]:
    """The columns of table `target` (`catalog.schema.table`), none if there is no such table."""
    catalog, schema, table = target.split(".")
    return [
        (name, data_type)
        for name, data_type in con.execute(
            "select column_name, data_type from duckdb_columns()"
            " where database_name = ? and schema_name = ? and table_name = ? order by column_index",
            [catalog, schema, table],
        ).fetchall()
    ]


def existing_key(con, target: str) -> tuple[str, tuple[str, ...]] | None:
    """The declared key of table `target`: ("primary key" or "unique", its columns), or None."""
    catalog, schema, table = target.split(".")
    found = con.execute(
        "select constraint_type, constraint_column_names from duckdb_constraints()"
        " where database_name = ? and schema_name = ? and table_name = ?"
        " and constraint_type in ('PRIMARY KEY', 'UNIQUE')",
        [catalog, schema, table],
    ).fetchall()
    return (found[0][0].lower(), tuple(found[0][1])) if len(found) == 1 else None


def fingerprint(con, relation: str) -> tuple[int, int]:
    """Rows and the sum of their hashes: equal for two relations holding the same rows in any order."""
    count, total = con.execute(f"select count(*), sum(hash(r)::hugeint) from {relation} as r").fetchall()[0]
    return count, int(total or 0)


def apply_changes(
    con, target: str, query: str, key: tuple[str, ...], month_column: str | None = None
) -> tuple[int, int] | None:
    """Brings table `target` (unique on `key`) to the rows of `query`: the rows that are gone or changed deleted,
    the new and changed ones inserted. Returns the rows of `query` and the rows changed (deleted + inserted), or
    None, having changed nothing, when more than MAX_CHANGED_SHARE of the table would change (the caller writes it
    again whole). With `month_column`, the two sides are first compared month by month (of that column), and only
    the months that differ are compared row by row: a night that adds a month to a fact of 21 M rows joins the
    keys of that month, not of every month."""
    months = None if month_column is None else _changed_months(con, target, query, month_column)
    if months == []:
        return con.execute(f"select count(*) from {target}").fetchall()[0][0], 0

    def within(alias: str) -> str:  # the rows of the changed months, where the changed rows are
        return "true" if months is None else in_months(alias, month_column, months)

    keys = ", ".join(_ident(column) for column in key)
    # one full join of the two sides' (key, row hash): the keys whose rows differ, and on which side each has one
    con.execute(
        f"create or replace temp table serving_diff as"
        f" with new_rows as (select {keys}, hash(r) as row_hash from ({query}) r where {within('r')}),"
        f" old_rows as (select {keys}, hash(r) as row_hash from {target} r where {within('r')})"
        f" select {', '.join(f'coalesce(a.{_ident(c)}, b.{_ident(c)}) as {_ident(c)}' for c in key)},"
        f" a.row_hash is not null as in_new, b.row_hash is not null as in_old"
        f" from new_rows a full join old_rows b on {_same_key('a', 'b', key)}"
        f" where a.row_hash is distinct from b.row_hash"
    )
    try:
        gone, added = con.execute(
            "select count(*) filter (in_old), count(*) filter (in_new) from serving_diff"
        ).fetchall()[0]
        rows = con.execute(f"select count(*) from {target}").fetchall()[0][0] - gone + added
        if gone + added > MAX_CHANGED_SHARE * max(rows, 1):
            return None
        if gone:
            con.execute(
                f"delete from {target} as a using serving_diff as b"
                f" where b.in_old and {_same_key('a', 'b', key)} and {within('a')}"
            )
        if added:
            con.execute(
                f"insert into {target} select q.* from ({query}) q where {within('q')}"
                f" and exists (select 1 from serving_diff b where b.in_new and {_same_key('q', 'b', key)})"
            )
        return rows, gone + added
    finally:
        con.execute("drop table if exists temp.serving_diff")


def _changed_months(con, target: str, query: str, column: str) -> list:
    """The months (of `column`, None for its nulls) whose rows differ between table `target` and `query`, by each
    month's count and sum of row hashes: a month with the same rows on both sides is left out of the row-by-row
    compare. A row that moved to another month changes both."""

    def per_month(relation: str) -> dict:
        found = con.execute(
            f"select date_trunc('month', r.{_ident(column)}) as month, count(*), sum(hash(r)::hugeint)"
            f" from {relation} as r group by month"
        ).fetchall()
        return {month: (rows, total) for month, rows, total in found}

    new, old = per_month(f"({query})"), per_month(target)
    return [month for month in new.keys() | old.keys() if new.get(month) != old.get(month)]


def in_months(alias: str, column: str, months: list) -> str:
    """The condition that row `alias` is in one of `months` (None: the rows without a time) of `column`: ranges,
    which skip row groups by their statistics. Publishing compares the months that differ; the exports write one
    file per month."""
    value = f"{alias}.{_ident(column)}"
    ranges = [
        f"{value} is null"
        if month is None
        else f"({value} >= {sql_literal(month)} and {value} < {sql_literal(month)}::timestamp + interval 1 month)"
        for month in months
    ]
    return f"({' or '.join(ranges)})"


def _same_key(left: str, right: str, key: tuple[str, ...]) -> str:
    return " and ".join(f"{left}.{_ident(c)} is not distinct from {right}.{_ident(c)}" for c in key)
