"""Publishing what changed: a night's serving file starts from the last one and large tables get only their new and
changed rows, yet hold exactly the warehouse's rows. Real DuckDB files."""

from pathlib import Path

import duckdb
import pytest

from orchestration.lib.publish import publish
from orchestration.lib.serving_docs import TableDoc, docs_from_duckdb
from orchestration.lib.serving_patch import WHOLE_BELOW

ROWS = WHOLE_BELOW * 2
DOCS = {"marts.fct_events": TableDoc("One row per event.", {"event_id": "The event."}, ("event_id",), True)}


@pytest.fixture
def warehouse(tmp_path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts; create schema quality")
        con.execute(
            f"create table marts.fct_events as select i as event_id, 'kind ' || (i % 7) as kind, i * 0.5 as value"
            f" from range({ROWS}) r(i)"
        )
        con.execute("create table marts.dim_small as select i as id from range(10) r(i)")
        con.execute("create table quality.runs (run_id varchar, status varchar)")
    return path


def change(warehouse: Path, *statements: str) -> None:
    with duckdb.connect(str(warehouse)) as con:
        for statement in statements:
            con.execute(statement)


def assert_same_rows(warehouse: Path, serving: Path, table: str) -> None:
    with duckdb.connect() as con:
        con.execute(f"attach '{warehouse}' as w (read_only); attach '{serving}' as s (read_only)")
        for left, right in (("w", "s"), ("s", "w")):
            extra = con.execute(f"select count(*) from (from {left}.{table} except all from {right}.{table})")
            assert extra.fetchone()[0] == 0, f"{table}: rows of {left} missing from {right}"


def storage_number(path: Path) -> int:
    return int.from_bytes(path.read_bytes()[12:20], "little")


def test_a_second_night_writes_only_the_rows_that_changed(warehouse, tmp_path):
    serving = tmp_path / "serving.duckdb"
    first = publish(warehouse, serving, "run1", DOCS)
    assert first.written["marts.fct_events"] == ROWS
    change(
        warehouse,
        "delete from marts.fct_events where event_id < 100",
        "update marts.fct_events set value = -1 where event_id between 1000 and 1049",
        f"insert into marts.fct_events select i, 'new', 0 from range({ROWS}, {ROWS} + 25) r(i)",
    )
    second = publish(warehouse, serving, "run2", DOCS)
    assert second.tables["marts.fct_events"] == ROWS - 100 + 25
    assert second.written["marts.fct_events"] == 50 + 25  # the changed and the new rows
    assert second.written["marts.dim_small"] == 10  # small tables are written whole
    assert_same_rows(warehouse, serving, "marts.fct_events")
    assert storage_number(serving) == 64  # still readable by DuckDB 1.0
    with duckdb.connect(str(serving), read_only=True) as con:
        assert docs_from_duckdb(con, "serving")["marts.fct_events"] == DOCS["marts.fct_events"]
    assert publish(warehouse, serving, "run3", DOCS).written["marts.fct_events"] == 0


def test_duplicate_rows_are_written_whole_and_exactly(warehouse, tmp_path):
    serving = tmp_path / "serving.duckdb"
    publish(warehouse, serving, "run1")
    # two copies of one row become one, one row becomes two copies: counts match, rows do not
    change(
        warehouse,
        "insert into marts.fct_events select * from marts.fct_events where event_id = 5",
    )
    publish(warehouse, serving, "run2")
    change(
        warehouse,
        "delete from marts.fct_events where event_id = 5",
        "insert into marts.fct_events select 5, 'kind 5', 2.5",
        "insert into marts.fct_events select * from marts.fct_events where event_id = 6",
    )
    third = publish(warehouse, serving, "run3")
    assert third.written["marts.fct_events"] == ROWS + 1
    assert_same_rows(warehouse, serving, "marts.fct_events")


def test_a_changed_definition_or_a_removed_mart_is_not_kept(warehouse, tmp_path):
    serving = tmp_path / "serving.duckdb"
    publish(warehouse, serving, "run1", DOCS)
    change(
        warehouse,
        "alter table marts.fct_events alter value type double",
        "drop table marts.dim_small",
    )
    second = publish(warehouse, serving, "run2", DOCS)
    assert second.written["marts.fct_events"] == ROWS
    assert_same_rows(warehouse, serving, "marts.fct_events")
    with duckdb.connect(str(serving), read_only=True) as con:
        assert dict(con.execute("describe marts.fct_events").fetchall()[i][:2] for i in range(3))["value"] == "DOUBLE"
        assert con.execute("select count(*) from duckdb_tables() where table_name = 'dim_small'").fetchone()[0] == 0
    # a key declared tonight is a new definition too: the table is written whole, with the key
    keyed = {"marts.fct_events": TableDoc("x", {}, ("event_id", "kind"), True)}
    assert publish(warehouse, serving, "run3", keyed).written["marts.fct_events"] == ROWS


def test_a_serving_file_in_another_storage_format_is_not_copied(warehouse, tmp_path):
    serving = tmp_path / "serving.duckdb"
    with duckdb.connect(str(serving)) as con:  # the newest format, as an older closedloop could have left it
        con.execute("create table t as select 1 as x")
    assert storage_number(serving) != 64
    published = publish(warehouse, serving, "run1")
    assert published.written["marts.fct_events"] == ROWS
    assert storage_number(serving) == 64  # a copy would have kept the newer format
