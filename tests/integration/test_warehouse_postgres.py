"""The target-agnostic warehouse functions on a real PostgreSQL server: text round-trips through COPY unchanged
(nulls, empty strings, quotes, commas, newlines, non-ASCII), an empty result reads as an empty table, and a write
is one transaction."""

from datetime import datetime

import psycopg2
import pyarrow as pa
import pytest

from orchestration.lib.warehouse import open_warehouse

pytestmark = pytest.mark.postgres

TRICKY = ["plain", "", None, 'quote " and, comma', "line\nbreak", "José — ünïcode", "\\N"]


@pytest.fixture()
def pg(postgres_server):
    settings = postgres_server.create_database("warehouse_io")
    return settings, postgres_server.dbt_env("warehouse_io")


def test_text_round_trips_through_copy(pg, tmp_path):
    _, env = pg
    rows = pa.table({"identifier": pa.array(TRICKY, pa.string()), "n": pa.array(range(len(TRICKY)), pa.int64())})
    with open_warehouse("postgres", tmp_path / "unused.duckdb", environ=env) as warehouse:
        warehouse.write(replace={"intermediate.io_test": rows})
        back = warehouse.read_text("select identifier, n from intermediate.io_test order by n")
        assert back.column("identifier").to_pylist() == TRICKY
        assert back.column("n").to_pylist() == [str(i) for i in range(len(TRICKY))]
        empty = warehouse.read_text("select identifier from intermediate.io_test where false")
        assert empty.num_rows == 0 and empty.column_names == ["identifier"]


def test_a_failed_write_changes_nothing(pg, tmp_path):
    settings, env = pg
    con = psycopg2.connect(**settings)
    with con, con.cursor() as cur:
        cur.execute("create schema quality; create table quality.results (run_id text, checked_at timestamp)")
    con.close()
    with open_warehouse("postgres", tmp_path / "unused.duckdb", environ=env) as warehouse:
        warehouse.write(
            append={
                "quality.results": pa.table(
                    {"run_id": ["r1"], "checked_at": pa.array([datetime(2026, 4, 1, 2)], pa.timestamp("us"))}
                )
            }
        )
        with pytest.raises(psycopg2.Error):
            warehouse.write(
                replace={"intermediate.people_test": pa.table({"identifier": ["a"]})},
                append={"quality.results": pa.table({"no_such_column": ["x"]})},
            )
        assert warehouse.read_text("select run_id, checked_at from quality.results").to_pylist() == [
            {"run_id": "r1", "checked_at": "2026-04-01 02:00:00"}
        ]
        tables = warehouse.read_text(
            "select table_name from information_schema.tables where table_name = 'people_test'"
        )
        assert tables.num_rows == 0
