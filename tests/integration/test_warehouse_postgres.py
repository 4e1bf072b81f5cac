"""The target-agnostic warehouse functions on a real PostgreSQL server: text round-trips through COPY unchanged
(nulls, empty strings, quotes, commas, newlines, non-ASCII), an empty result reads as an empty table, and a write
is one transaction; identity resolution on a server that sorts text by language."""

import hashlib
from datetime import datetime

import duckdb
import psycopg2
import pyarrow as pa
import pytest

from orchestration.lib.people import PEOPLE_TABLE, resolve_identity
from orchestration.lib.privacy import keyed_hash
from orchestration.lib.warehouse import open_warehouse
from tests.identity_graph import KEY, build_warehouse, resolve

pytestmark = pytest.mark.postgres

TRICKY = ["plain", "", None, 'quote " and, comma', "line\nbreak", "José — ünïcode", "\\N"]


# what identity resolution reads, as dbt and the gate would have created it
IDENTITY_INPUTS = (
    "create schema intermediate; create schema seeds; create schema quality;"
    " create table intermediate.int_identity__edges (left_identifier text, right_identifier text);"
    " create table seeds.identity_blocklist (pattern text);"
    " create table quality.results (run_id text, dataset text, rule text, expectation text, severity text,"
    " passed boolean, rows_checked bigint, failing_rows bigint, failing_rate float8, sample_keys text,"
    " checked_at timestamp)"
)


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


def test_identity_resolution_on_a_server_sorting_by_language_keeps_duckdbs_person_ids(postgres_server, tmp_path):
    """A server whose collation puts `ann` before `Zed` still keys people by the byte-wise smallest identifier, and
    picks the byte-wise first email as the primary."""
    settings = postgres_server.create_database("identity_icu", icu_locale="en-US")
    edges = [("lead:L1", "email:ann@acme.io"), ("lead:L1", "email:Zed@acme.io"), ("lead:L2", "email:bob@acme.io")]
    con = psycopg2.connect(**settings)
    with con, con.cursor() as cur:
        cur.execute("select 'ann' < 'Zed'")
        assert cur.fetchone() == (True,), "the database does not sort by language"
        cur.execute(IDENTITY_INPUTS)
        cur.executemany("insert into intermediate.int_identity__edges values (%s, %s)", edges)
    with open_warehouse("postgres", tmp_path / "unused.duckdb", postgres_server.dbt_env("identity_icu")) as warehouse:
        resolve_identity(warehouse, KEY, "run-1", 1.0)
    with con, con.cursor() as cur:
        cur.execute(f"select identifier, person_id from {PEOPLE_TABLE}")
        on_server = dict(cur.fetchall())
        cur.execute(
            "select count(*) from information_schema.columns where table_name = 'identity_people'"
            " and collation_name is not null"
        )
        assert cur.fetchone() == (0,), "the published people compare by the database's collation"
        cur.execute("select count(*) from information_schema.tables where table_name like 'identity_work_%'")
        assert cur.fetchone() == (0,)
        cur.execute("select email_hash from intermediate.identity_hashes where person_id = %s", [on_server["lead:L1"]])
        assert cur.fetchone() == (keyed_hash("Zed@acme.io", KEY),)
    con.close()
    duck = build_warehouse(tmp_path / "w.duckdb", edges, [])
    resolve(duck)
    with duckdb.connect(str(duck), read_only=True) as duck_con:
        assert on_server == dict(duck_con.execute(f"select identifier, person_id from {PEOPLE_TABLE}").fetchall())
    assert on_server["lead:L1"] == "p_" + hashlib.md5(b"email:Zed@acme.io").hexdigest()[:16]


def test_a_night_of_added_edges_updates_the_people_on_the_server_as_duckdb_solves_them(postgres_server, tmp_path):
    """Last night's people updated with tonight's new edges, on a server that sorts by language: the same people
    as a whole solve of tonight's edges in DuckDB (the merged person keyed by its byte-wise smallest identifier)."""
    settings = postgres_server.create_database("identity_update", icu_locale="en-US")
    first = [("lead:L1", "email:ann@acme.io"), ("lead:L2", "email:Zed@acme.io"), ("anon:c1", None)]
    more = [("lead:L1", "email:Zed@acme.io"), ("anon:c1", "email:bob@acme.io"), ("lead:L3", "email:bob@acme.io")]
    con = psycopg2.connect(**settings)
    with con, con.cursor() as cur:
        cur.execute(IDENTITY_INPUTS)
        cur.executemany("insert into intermediate.int_identity__edges values (%s, %s)", first)
    env = postgres_server.dbt_env("identity_update")
    with open_warehouse("postgres", tmp_path / "unused.duckdb", env) as warehouse:
        assert resolve_identity(warehouse, KEY, "run-1", 1.0).added_edges is None
    with con, con.cursor() as cur:
        cur.executemany("insert into intermediate.int_identity__edges values (%s, %s)", more)
    with open_warehouse("postgres", tmp_path / "unused.duckdb", env) as warehouse:
        assert resolve_identity(warehouse, KEY, "run-2", 1.0).added_edges == 3
    with con, con.cursor() as cur:
        cur.execute(f"select identifier, person_id from {PEOPLE_TABLE}")
        on_server = dict(cur.fetchall())
    con.close()
    duck = build_warehouse(tmp_path / "w.duckdb", first + more, [])
    resolve(duck)
    with duckdb.connect(str(duck), read_only=True) as duck_con:
        assert on_server == dict(duck_con.execute(f"select identifier, person_id from {PEOPLE_TABLE}").fetchall())
    assert on_server["lead:L1"] == on_server["lead:L2"] == "p_" + hashlib.md5(b"email:Zed@acme.io").hexdigest()[:16]
    assert on_server["lead:L3"] == on_server["anon:c1"] != on_server["lead:L1"]
