"""A DuckDB warehouse holding only what identity resolution reads (the edges, the blocklist seed, quality.results),
and the people it resolves there: the tests run the real SQL on a real DuckDB file."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import duckdb

from orchestration.lib.people import PEOPLE_TABLE, resolve_identity
from orchestration.lib.warehouse import open_warehouse

KEY = b"test-key"


def build_warehouse(path: Path, edges: Iterable[tuple[str | None, str | None]], patterns: Iterable[str]) -> Path:
    """`edges`: (left_identifier, right_identifier) rows, right None for an identifier seen alone."""
    with duckdb.connect(str(path)) as con:
        for schema in ("intermediate", "seeds", "quality"):
            con.execute(f"create schema if not exists {schema}")
        con.execute("create table intermediate.int_identity__edges (left_identifier varchar, right_identifier varchar)")
        rows = list(edges)
        if rows:
            con.executemany("insert into intermediate.int_identity__edges values (?, ?)", rows)
        con.execute("create table seeds.identity_blocklist (pattern varchar)")
        for pattern in patterns:
            con.execute("insert into seeds.identity_blocklist values (?)", [pattern])
        con.execute(
            "create table quality.results (run_id varchar, dataset varchar, rule varchar, expectation varchar,"
            " severity varchar, passed boolean, rows_checked bigint, failing_rows bigint, failing_rate float8,"
            " sample_keys varchar, checked_at timestamp)"
        )
    return path


def replace_edges(path: Path, edges: Iterable[tuple[str | None, str | None]]) -> None:
    """Tonight's edges instead of last night's, as if the edge view now read other records."""
    with duckdb.connect(str(path)) as con:
        con.execute("delete from intermediate.int_identity__edges")
        rows = list(edges)
        if rows:
            con.executemany("insert into intermediate.int_identity__edges values (?, ?)", rows)


def resolve(path: Path, now: datetime | None = None, max_rate: float = 1.0):
    with open_warehouse("duckdb", path) as warehouse:
        return resolve_identity(warehouse, KEY, "run-1", max_rate, now=now)


def people_of(
    pairs: Iterable[tuple[str, str]], singles: Iterable[str] = (), patterns: Iterable[str] = ()
) -> dict[str, str]:
    """identifier → person_id, resolved on a throwaway DuckDB file."""
    edges = [*pairs, *((single, None) for single in singles)]
    with tempfile.TemporaryDirectory() as scratch:
        path = build_warehouse(Path(scratch) / "warehouse.duckdb", edges, patterns)
        resolve(path)
        with duckdb.connect(str(path), read_only=True) as con:
            return dict(con.execute(f"select identifier, person_id from {PEOPLE_TABLE}").fetchall())


def build_split_warehouse(path: Path, record_edges: Iterable[tuple[str, str | None]], patterns: Iterable[str]) -> Path:
    """The warehouse of `build_warehouse` with the edges in their two parts, as the dbt views give them: the leads'
    and orders' edges (`record_edges`) and every touchpoint delivery's (add them with `deliver_touchpoints`), with
    int_identity__edges the union of the first and each touchpoint's newest delivery (the touchpoint edges carry
    the touchpoint's id here, for that view and for the tests that delete a delivery)."""
    build_warehouse(path, [], patterns)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists staging")
        con.execute("drop table intermediate.int_identity__edges")
        con.execute(
            "create table intermediate.int_identity__record_edges (left_identifier varchar, right_identifier varchar)"
        )
        con.execute(
            "create table intermediate.int_identity__touchpoint_edges"
            " (left_identifier varchar, right_identifier varchar, _loaded_at timestamp, touchpoint_id varchar)"
        )
        con.execute(
            "create table staging.stg_web__touchpoints"
            " (touchpoint_id varchar, _loaded_at timestamp, _source_file varchar, _row_number bigint)"
        )
        con.execute(
            "create view intermediate.int_identity__edges as"
            " select left_identifier, right_identifier from intermediate.int_identity__record_edges"
            " union select left_identifier, right_identifier from intermediate.int_identity__touchpoint_edges e"
            " where e._loaded_at = (select max(_loaded_at) from staging.stg_web__touchpoints t"
            "   where t.touchpoint_id = e.touchpoint_id)"
        )
    replace_record_edges(path, record_edges)
    return path


def replace_record_edges(path: Path, edges: Iterable[tuple[str, str | None]]) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("delete from intermediate.int_identity__record_edges")
        rows = list(edges)
        if rows:
            con.executemany("insert into intermediate.int_identity__record_edges values (?, ?)", rows)


def deliver_touchpoints(path: Path, touches: dict[str, list[tuple[str, str | None]]], loaded_at: datetime) -> None:
    """Touchpoint deliveries loaded at `loaded_at`: touchpoint id → its edges."""
    with duckdb.connect(str(path)) as con:
        for row, (touchpoint_id, edges) in enumerate(touches.items()):
            delivery = [touchpoint_id, loaded_at, f"touchpoints_{loaded_at:%Y%m%d%H%M}.csv", row + 1]
            con.execute("insert into staging.stg_web__touchpoints values (?, ?, ?, ?)", delivery)
            for left, right in edges:
                con.execute(
                    "insert into intermediate.int_identity__touchpoint_edges values (?, ?, ?, ?)",
                    [left, right, loaded_at, touchpoint_id],
                )
