"""The Parquet exports: descriptions as field metadata, a file kept while its table is unchanged, the long form of
attribution beside the served view. Real DuckDB files written by a real publish."""

from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from orchestration.lib.exports import export_parquet
from orchestration.lib.publish import publish
from orchestration.lib.serving_docs import TableDoc

DOCS = {
    "marts.dim_things": TableDoc(
        "One row per thing (key `thing_id`).", {"thing_id": "The thing.", "size": "Its size."}, ("thing_id",), True
    ),
    "marts.fct_events": TableDoc("One row per event × kind.", {"kind": "Kind of event."}, ("event_id", "kind"), False),
}


@pytest.fixture
def warehouse(tmp_path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts; create schema quality")
        con.execute("create table marts.dim_things as select 't' || i as thing_id, i as size from range(5) r(i)")
        con.execute(
            "create table marts.fct_events as select i as event_id, case when i % 2 = 0 then 'a' end as kind"
            " from range(4) r(i)"
        )
        con.execute("create table quality.runs (run_id varchar, status varchar)")
        con.execute("create table quality.quarantined_keys (dataset varchar)")  # working state: not published
    return path


def test_parquet_exports_carry_the_descriptions(warehouse, tmp_path):
    serving = tmp_path / "serving.duckdb"
    publish(warehouse, serving, "run1", DOCS)
    written = export_parquet(serving, tmp_path / "exports")
    assert sorted(p.name for p in written) == ["dim_things.parquet", "fct_events.parquet", "quality_runs.parquet"]
    schema = pq.read_schema(tmp_path / "exports" / "dim_things.parquet")
    assert schema.metadata[b"description"] == b"One row per thing (key `thing_id`)."
    assert schema.field("size").metadata == {b"description": b"Its size."}
    assert pq.read_table(tmp_path / "exports" / "dim_things.parquet").num_rows == 5
    # bounds where they can skip row groups, none for text ids
    chunks = pq.ParquetFile(tmp_path / "exports" / "dim_things.parquet").metadata.row_group(0)
    bounds = {chunks.column(i).path_in_schema: chunks.column(i).statistics for i in range(chunks.num_columns)}
    assert bounds["thing_id"] is None and bounds["size"].max == 4


def test_unchanged_parquet_exports_are_not_written_again(warehouse, tmp_path):
    serving, exports = tmp_path / "serving.duckdb", tmp_path / "exports"
    publish(warehouse, serving, "run1", DOCS)
    export_parquet(serving, exports)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("insert into marts.dim_things values ('t9', 9)")
    publish(warehouse, serving, "run2", DOCS)
    assert [p.name for p in export_parquet(serving, exports)] == ["dim_things.parquet"]
    assert pq.read_table(exports / "dim_things.parquet").num_rows == 6
    changed = dict(DOCS, **{"marts.fct_events": TableDoc("Now described otherwise.", {}, ("event_id", "kind"), False)})
    publish(warehouse, serving, "run3", changed)
    assert [p.name for p in export_parquet(serving, exports)] == ["fct_events.parquet"]


def test_the_attribution_view_is_exported_again_exactly_when_its_table_changes(warehouse, tmp_path):
    serving, exports = tmp_path / "serving.duckdb", tmp_path / "exports"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "create table marts.fct_attribution_wide as select 'c' || (i // 2) as conversion_id, i % 2 + 1 as"
            " touch_position, 'paid_search' as channel, 0.5 as share_linear, 0.25 + (i % 2) * 0.5 as share_markov,"
            " 100.0 as value from range(6) r(i)"
        )

    def exported() -> list:
        with duckdb.connect() as con:
            return sorted(
                con.execute(f"select * from read_parquet('{exports / 'fct_attribution.parquet'}')").fetchall()
            )

    def served() -> list:
        with duckdb.connect(str(serving), read_only=True) as con:
            return sorted(con.execute("select * from marts.fct_attribution").fetchall())

    publish(warehouse, serving, "run1", DOCS)
    assert "fct_attribution.parquet" in [p.name for p in export_parquet(serving, exports)]
    assert len(exported()) == 12 and exported() == served()
    publish(warehouse, serving, "run2", DOCS)
    assert "fct_attribution.parquet" not in [p.name for p in export_parquet(serving, exports)]
    with duckdb.connect(str(warehouse)) as con:  # Markov moves, nothing else does
        con.execute("update marts.fct_attribution_wide set share_markov = 1 - share_markov")
    publish(warehouse, serving, "run3", DOCS)
    assert "fct_attribution.parquet" in [p.name for p in export_parquet(serving, exports)]
    assert exported() == served() and (0.75, 75.0) in [(row[-2], row[-1]) for row in exported()]
