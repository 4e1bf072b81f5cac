"""Publishing what changed: a night that starts from last night's serving file ends with the same file a fresh write
gives (rows, columns, keys, comments), keeps what did not change and writes only the changed rows of keyed tables.
Real DuckDB files."""

from pathlib import Path

import duckdb
import pytest

from orchestration.lib import serving_changes
from orchestration.lib.publish import PublishError, publish
from orchestration.lib.serving_changes import reusable
from orchestration.lib.serving_docs import TableDoc, docs_from_duckdb

DOCS = {
    "marts.dim_things": TableDoc("One row per thing.", {"thing_id": "The thing.", "size": "Its size."}, ("thing_id",)),
    # a big fact: its key is tested, not declared, and still compares its rows
    "marts.fct_events": TableDoc("One row per event.", {"kind": "Kind."}, ("event_id",), declared=False),
    "marts.mart_totals": TableDoc("Totals, no key.", {}),
}


@pytest.fixture
def warehouse(tmp_path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts; create schema quality")
        con.execute("create table marts.dim_things as select 't' || i as thing_id, i as size from range(100) r(i)")
        con.execute(
            "create table marts.fct_events as select i as event_id, 'k' || (i % 3) as kind from range(1000) r(i)"
        )
        con.execute("create table marts.mart_totals as select 'all' as scope, 1000 as events")
        con.execute("create table marts.mart_old as select 1 as x")
        con.execute("create table quality.runs as select 'run1' as run_id, 'passed' as status")
    return path


def change(warehouse: Path, *statements: str) -> None:
    with duckdb.connect(str(warehouse)) as con:
        for statement in statements:
            con.execute(statement)


def contents(serving: Path) -> dict:
    """Everything a reader can see in the file: per table or view its columns, rows (sorted), comments and key."""
    with duckdb.connect(str(serving), read_only=True) as con:
        docs = docs_from_duckdb(con, con.execute("select current_database()").fetchone()[0])
        found = {}
        for name in docs:
            columns = con.execute(f"describe {name}").fetchall()
            rows = sorted(con.execute(f"select * from {name}").fetchall(), key=repr)
            found[name] = (columns, rows, docs[name])
        return found


def test_a_night_with_nothing_changed_keeps_every_table(warehouse, tmp_path):
    serving = tmp_path / "serving.duckdb"
    first = publish(warehouse, serving, "run1", DOCS)
    assert set(first.how.values()) == {"written"}
    again = publish(warehouse, serving, "run2", DOCS)
    assert set(again.how.values()) == {"kept"} and again.tables == first.tables


def test_changed_rows_reach_the_file_as_a_fresh_write_would(warehouse, tmp_path):
    serving = tmp_path / "serving.duckdb"
    publish(warehouse, serving, "run1", DOCS)
    change(
        warehouse,
        "update marts.dim_things set size = 99 where thing_id = 't3'",  # one changed row
        "delete from marts.dim_things where thing_id = 't4'",  # one gone
        "insert into marts.dim_things values ('t100', 100)",  # one new
        "insert into marts.fct_events select i, 'k9' from range(1000, 1100) r(i)",  # a new month of a fact
        "update marts.mart_totals set events = 1100",  # no key: written again
        "drop table marts.mart_old",
        "create table marts.mart_new as select 2 as y",
        "alter table quality.runs add column rows_checked integer",  # columns changed: written again
    )
    docs = {**DOCS, "marts.dim_things": TableDoc("Things, described anew.", {"thing_id": "The thing."}, ("thing_id",))}
    night = publish(warehouse, serving, "run2", docs)
    assert night.how == {
        "marts.dim_things": "changed",
        "marts.fct_events": "changed",
        "marts.mart_new": "written",
        "marts.mart_totals": "written",
        "quality.runs": "written",
    }
    fresh = tmp_path / "fresh.duckdb"
    publish(warehouse, fresh, "fresh", docs)
    assert contents(serving) == contents(fresh)
    assert contents(serving)["marts.dim_things"][2].columns == {"thing_id": "The thing."}  # the old comment is gone


def test_a_schema_no_longer_published_leaves_the_file(warehouse, tmp_path):
    serving = tmp_path / "serving.duckdb"
    publish(warehouse, serving, "run1", DOCS)
    change(warehouse, "drop table quality.runs")
    publish(warehouse, serving, "run2", DOCS)
    with duckdb.connect(str(serving), read_only=True) as con:
        schemas = con.execute("select schema_name from duckdb_schemas() where not internal").fetchall()
    assert schemas == [("marts",)]


def test_a_table_where_most_rows_changed_is_written_whole(warehouse, tmp_path):
    serving = tmp_path / "serving.duckdb"
    publish(warehouse, serving, "run1", DOCS)
    change(warehouse, "update marts.fct_events set kind = 'x' where event_id < 600")
    night = publish(warehouse, serving, "run2", DOCS)
    assert night.how["marts.fct_events"] == "written"
    fresh = tmp_path / "fresh.duckdb"
    publish(warehouse, fresh, "fresh", DOCS)
    assert contents(serving) == contents(fresh)


def test_a_changed_key_is_written_whole(warehouse, tmp_path):
    serving = tmp_path / "serving.duckdb"
    publish(warehouse, serving, "run1", DOCS)
    docs = {**DOCS, "marts.dim_things": TableDoc("One row per thing.", {}, ("thing_id", "size"))}
    night = publish(warehouse, serving, "run2", docs)
    assert night.how["marts.dim_things"] == "written"
    assert contents(serving)["marts.dim_things"][2].key == ("thing_id", "size")


def test_a_duplicate_key_among_changed_rows_is_refused_and_the_old_file_stays(warehouse, tmp_path):
    serving = tmp_path / "serving.duckdb"
    publish(warehouse, serving, "run1", DOCS)
    before = contents(serving)
    change(warehouse, "insert into marts.dim_things values ('t1', 7)")
    with pytest.raises(PublishError, match="dim_things: its key"):
        publish(warehouse, serving, "run2", DOCS)
    assert contents(serving) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["serving.duckdb", "warehouse.duckdb"]


def test_a_file_in_another_storage_version_or_mostly_free_is_written_afresh(warehouse, tmp_path, monkeypatch):
    other = tmp_path / "other.duckdb"
    with duckdb.connect(str(other)) as con:  # the client's newest storage format
        con.execute("create table t as select 1 as x")
    assert not reusable(other, "v1.0.0")
    assert not reusable(tmp_path / "missing.duckdb", "v1.0.0")
    serving = tmp_path / "serving.duckdb"
    publish(warehouse, serving, "run1", DOCS)
    assert reusable(serving, "v1.0.0")
    monkeypatch.setattr(serving_changes, "MAX_FREE_SHARE", -1.0)  # as if every night had left free blocks
    assert not reusable(serving, "v1.0.0")
    assert set(publish(warehouse, serving, "run2", DOCS).how.values()) == {"written"}


def test_the_file_does_not_grow_when_a_big_table_is_written_again_every_night(warehouse, tmp_path):
    serving = tmp_path / "serving.duckdb"
    change(
        warehouse,
        "create or replace table marts.fct_events as select i as event_id, md5(i::varchar) as kind"
        " from range(300000) r(i)",
    )
    publish(warehouse, serving, "run0", DOCS)
    first = serving.stat().st_size
    sizes = []
    for night in range(1, 7):
        # every row moves, to values of the same size
        change(warehouse, f"update marts.fct_events set kind = md5((event_id + {night})::varchar)")
        done = publish(warehouse, serving, f"run{night}", DOCS)
        assert done.how["marts.fct_events"] == "written" and done.how["marts.dim_things"] == "kept"  # reused
        with duckdb.connect(str(serving), read_only=True) as con:
            sizes.append(con.execute("select total_blocks, free_blocks from pragma_database_size()").fetchone())
    # Usually the rewritten table lands exactly in the blocks its old copy left (26 of 26), but DuckDB sometimes
    # places a few row groups in new blocks (34 of 26 once in CI); a file with more than MAX_FREE_SHARE free is
    # then written afresh, so the file stays within a bound instead of growing by the table every night (6 x).
    assert max(total for total, _ in sizes) * 256 * 1024 <= 1.5 * first, sizes


def test_a_fact_compared_month_by_month_reaches_the_file_as_a_fresh_write_would(warehouse, tmp_path):
    # fct_touchpoints is compared by the months of occurred_at first: only the months that differ are joined by key
    change(
        warehouse,
        "create table marts.fct_touchpoints as select 'tp' || i as touchpoint_id,"
        " case when i < 5 then null else timestamp '2026-01-01' + i * interval 1 day end as occurred_at,"
        " 'web' as channel from range(400) r(i)",
    )
    docs = {**DOCS, "marts.fct_touchpoints": TableDoc("Touches.", {}, ("touchpoint_id",), declared=False)}
    serving = tmp_path / "serving.duckdb"
    publish(warehouse, serving, "run1", docs)
    assert publish(warehouse, serving, "run2", docs).how["marts.fct_touchpoints"] == "kept"
    change(
        warehouse,
        "insert into marts.fct_touchpoints select 'tp' || i, timestamp '2027-03-01', 'email' from range(400, 420) r(i)",
        "update marts.fct_touchpoints set channel = 'paid' where touchpoint_id = 'tp1'",  # a touch without a time
        "update marts.fct_touchpoints set occurred_at = timestamp '2026-08-15' where touchpoint_id = 'tp40'",  # moved
        "delete from marts.fct_touchpoints where touchpoint_id = 'tp200'",
    )
    night = publish(warehouse, serving, "run3", docs)
    assert night.how["marts.fct_touchpoints"] == "changed" and night.tables["marts.fct_touchpoints"] == 419
    fresh = tmp_path / "fresh.duckdb"
    publish(warehouse, fresh, "fresh", docs)
    assert contents(serving) == contents(fresh)


def test_only_the_months_that_differ_are_compared_row_by_row(tmp_path):
    with duckdb.connect() as con:
        con.execute(
            "create table served as select i as id, date '2026-01-01' + cast(i as integer) as day from range(90) r(i)"
        )
        con.execute(
            "create table tonight as select id, case when id = 70 then date '2026-01-05' else day end as day"
            " from served"
        )
        # id 70 moved from March to January: both months differ, February does not
        months = serving_changes._changed_months(con, "served", "select * from tonight", "day")
        assert sorted(str(m)[:7] for m in months) == ["2026-01", "2026-03"]
        assert serving_changes.apply_changes(con, "served", "select * from tonight", ("id",), "day") == (90, 2)
        assert con.execute("select day from served where id = 70").fetchone()[0].isoformat() == "2026-01-05"
