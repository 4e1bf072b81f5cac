"""The Parquet exports: descriptions as field metadata, a file kept while its table is unchanged, the long form of
attribution beside the served view. Real DuckDB files written by a real publish."""

from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from orchestration.lib.exports import export_parquet
from orchestration.lib.publish import publish
from orchestration.lib.serving_docs import TableDoc
from tests.small_marts import DOCS, write_warehouse


@pytest.fixture
def warehouse(tmp_path) -> Path:
    return write_warehouse(tmp_path / "warehouse.duckdb")


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


WIDE = (
    "create or replace table marts.fct_attribution_wide as select 'c' || (i // 2) as conversion_id, i % 2 + 1 as"
    " touch_position, timestamp '2026-01-10' + to_months(i // 4) as converted_at, 'paid_search' as channel,"
    " 0.5 as share_linear, 0.25 + (i % 2) * 0.5 as share_markov, 100.0 as value from range(8) r(i)"
)


@pytest.fixture
def attribution(warehouse, tmp_path):
    """A serving file with fct_attribution_wide (and so the fct_attribution view): four conversions of two touches,
    two in January and two in February, a rule-based model and Markov."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute(WIDE)
    serving = tmp_path / "serving.duckdb"
    publish(warehouse, serving, "run1", DOCS)
    return serving


def folder_files(exports: Path) -> dict[str, int]:
    """The files of the long form's current version: name → inode (the same inode: the file was kept)."""
    folder = exports / "fct_attribution.parquet"
    return {path.name: path.stat().st_ino for path in folder.iterdir()}


def exported(exports: Path) -> list:
    with duckdb.connect() as con:  # the folder read as one table, by its name
        return sorted(con.execute(f"select * from read_parquet('{exports / 'fct_attribution.parquet'}')").fetchall())


def served(serving: Path) -> list:
    with duckdb.connect(str(serving), read_only=True) as con:
        return sorted(con.execute("select * from marts.fct_attribution").fetchall())


def test_the_long_form_is_a_folder_with_the_rows_of_the_served_view(attribution, tmp_path):
    exports = tmp_path / "exports"
    assert "fct_attribution.parquet" in [p.name for p in export_parquet(attribution, exports)]
    assert sorted(folder_files(exports)) == [
        "data_driven.parquet",
        "rule_based_2026-01.parquet",
        "rule_based_2026-02.parquet",
    ]
    assert len(exported(exports)) == 16 and exported(exports) == served(attribution)
    rows = pq.read_table(exports / "fct_attribution.parquet").to_pylist()  # pyarrow (and pandas) read the folder
    assert {(r["conversion_id"], r["touch_position"], r["model"]) for r in rows} == {
        (row[0], row[1], row[-3]) for row in served(attribution)
    }
    schema = pq.read_schema(exports / "fct_attribution.parquet" / "data_driven.parquet")
    assert {
        r["model"] for r in pq.read_table(exports / "fct_attribution.parquet" / "data_driven.parquet").to_pylist()
    } == {"markov"}
    assert schema.field("share").metadata == {b"description": b"The touch's share."}
    # the name is a link to the only version folder there is
    assert (exports / "fct_attribution.parquet").is_symlink()
    assert [p.name for p in exports.iterdir() if p.name.startswith(".fct_attribution")] == [
        (exports / "fct_attribution.parquet").readlink().name
    ]


def test_a_night_writes_only_the_long_forms_files_that_changed(attribution, warehouse, tmp_path):
    exports = tmp_path / "exports"
    export_parquet(attribution, exports)
    first = folder_files(exports)
    publish(warehouse, attribution, "run2", DOCS)
    assert "fct_attribution.parquet" not in [p.name for p in export_parquet(attribution, exports)]
    assert folder_files(exports) == first
    with duckdb.connect(str(warehouse)) as con:  # Markov moves, nothing else does
        con.execute("update marts.fct_attribution_wide set share_markov = 1 - share_markov")
    publish(warehouse, attribution, "run3", DOCS)
    assert "fct_attribution.parquet" in [p.name for p in export_parquet(attribution, exports)]
    now = folder_files(exports)
    assert [name for name in first if now[name] != first[name]] == ["data_driven.parquet"]
    assert exported(exports) == served(attribution) and (0.75, 75.0) in [
        (row[-2], row[-1]) for row in exported(exports)
    ]
    with duckdb.connect(str(warehouse)) as con:  # a February conversion goes (an erasure), and a March one comes
        con.execute("delete from marts.fct_attribution_wide where conversion_id = 'c3'")
        con.execute("insert into marts.fct_attribution_wide values ('c9', 1, timestamp '2026-03-02', 'email', 1, 1, 5)")
    publish(warehouse, attribution, "run4", DOCS)
    export_parquet(attribution, exports)
    latest = folder_files(exports)
    assert sorted(latest) == [
        "data_driven.parquet",
        "rule_based_2026-01.parquet",
        "rule_based_2026-02.parquet",
        "rule_based_2026-03.parquet",
    ]
    assert latest["rule_based_2026-01.parquet"] == first["rule_based_2026-01.parquet"]
    assert latest["rule_based_2026-02.parquet"] != first["rule_based_2026-02.parquet"]
    assert exported(exports) == served(attribution) and "c3" not in {row[0] for row in exported(exports)}
    # the old versions are gone: no copy of the erased conversion is left in the folder's past
    versions = [p for p in exports.iterdir() if p.name.startswith(".")]
    assert versions == [(exports / "fct_attribution.parquet").resolve()]


def test_a_single_file_of_an_older_release_and_a_crashed_versions_leftovers_give_way(attribution, tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "fct_attribution.parquet").write_bytes(b"the long form as one file")
    (exports / ".fct_attribution.parquet.123").mkdir()  # a version folder a crashed export left
    (exports / ".fct_attribution.parquet.123" / "data_driven.parquet").write_bytes(b"half")
    export_parquet(attribution, exports)
    assert exported(exports) == served(attribution)
    assert len([p for p in exports.iterdir() if p.name.startswith(".")]) == 1


def test_touchpoints_are_a_folder_of_months_and_a_new_month_is_one_new_file(warehouse, tmp_path):
    serving, exports = tmp_path / "serving.duckdb", tmp_path / "exports"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "create table marts.fct_touchpoints as select 'tp' || i as touchpoint_id,"
            " timestamp '2026-01-31 23:00' + to_hours(i) as occurred_at from range(4) r(i)"
        )
    publish(warehouse, serving, "run1", DOCS)
    export_parquet(serving, exports)
    folder = exports / "fct_touchpoints.parquet"
    first = {path.name: path.stat().st_ino for path in folder.iterdir()}
    assert sorted(first) == ["2026-01.parquet", "2026-02.parquet"]
    assert pq.read_table(folder / "2026-01.parquet").column("touchpoint_id").to_pylist() == ["tp0"]
    with duckdb.connect(str(warehouse)) as con:
        con.execute("insert into marts.fct_touchpoints values ('tp9', timestamp '2026-03-01')")
    publish(warehouse, serving, "run2", DOCS)
    assert [p.name for p in export_parquet(serving, exports)] == ["fct_touchpoints.parquet"]
    now = {path.name: path.stat().st_ino for path in folder.iterdir()}
    assert sorted(now) == ["2026-01.parquet", "2026-02.parquet", "2026-03.parquet"]
    assert {name: now[name] for name in first} == first
    with duckdb.connect() as con:
        assert con.execute(f"select count(*) from '{folder}'").fetchone()[0] == 5
