"""Publishing the serving file: comments and keys from the docs, a writer in another process, stale logs,
crash leftovers. Real DuckDB files and real second processes."""

import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.publish import Published, PublishError, ServingBusy, publish
from orchestration.lib.serving_docs import TableDoc, docs_from_duckdb
from tests.small_marts import DOCS, write_warehouse


@pytest.fixture
def warehouse(tmp_path) -> Path:
    return write_warehouse(tmp_path / "warehouse.duckdb")


def holder(serving: Path, read_only: bool) -> subprocess.Popen:
    session = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import duckdb, sys
            con = duckdb.connect({str(serving)!r}, read_only={read_only})
            print("ready", flush=True)
            sys.stdin.readline()
        """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert session.stdout.readline().strip() == "ready"
    return session


def test_the_serving_file_carries_comments_and_keys(warehouse, tmp_path):
    serving = tmp_path / "serving.duckdb"
    published = publish(warehouse, serving, "run1", DOCS)
    assert published.tables == {"marts.dim_things": 5, "marts.fct_events": 4, "quality.runs": 0}
    with duckdb.connect(str(serving), read_only=True) as con:
        docs = docs_from_duckdb(con, "serving")
    assert docs["marts.dim_things"] == DOCS["marts.dim_things"]
    assert docs["marts.fct_events"].key == ("event_id", "kind") and not docs["marts.fct_events"].key_not_null
    assert docs["marts.fct_events"].columns == {"kind": "Kind of event."}
    assert "quality.quarantined_keys" not in docs
    # the file header's storage version: 64 is what DuckDB 1.0 writes (DuckDB 1.1 and later read the file whole)
    header = serving.read_bytes()[:20]
    assert header[8:12] == b"DUCK" and int.from_bytes(header[12:20], "little") == 64


def test_a_key_that_is_not_unique_is_not_published(warehouse, tmp_path):
    serving = tmp_path / "serving.duckdb"
    broken = dict(DOCS, **{"marts.fct_events": TableDoc("x", {}, ("kind",), False)})
    with duckdb.connect(str(warehouse)) as con:
        con.execute("insert into marts.fct_events values (9, 'a')")
    with pytest.raises(PublishError, match="fct_events: its key"):
        publish(warehouse, serving, "run1", broken)
    assert not serving.exists() and not list(tmp_path.glob(".serving*"))


def test_a_read_write_session_stops_the_publish_and_is_named(warehouse, tmp_path):
    serving = tmp_path / "serving.duckdb"
    publish(warehouse, serving, "run1", DOCS)
    before = serving.read_bytes()
    session = holder(serving, read_only=False)
    try:
        with pytest.raises(ServingBusy, match=f"process {session.pid}"):
            publish(warehouse, serving, "run2", DOCS)
    finally:
        session.communicate("\n")
    assert serving.read_bytes() == before


def test_read_only_readers_never_stand_in_the_way(warehouse, tmp_path):
    serving = tmp_path / "serving.duckdb"
    publish(warehouse, serving, "run1", DOCS)
    session = holder(serving, read_only=True)
    try:
        publish(warehouse, serving, "run2", DOCS)
    finally:
        session.communicate("\n")


def test_a_stale_log_and_crash_leftovers_are_cleared(warehouse, tmp_path):
    serving = tmp_path / "serving.duckdb"
    publish(warehouse, serving, "run1", DOCS)
    Path(f"{serving}.wal").write_bytes(b"a log of the old file")
    (tmp_path / ".serving.duckdb.dead-run.tmp").write_bytes(b"half")
    (tmp_path / ".serving.duckdb.dead-run.tmp.wal").write_bytes(b"half")
    publish(warehouse, serving, "run2", DOCS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["serving.duckdb", "warehouse.duckdb"]
    with duckdb.connect(str(serving)) as con:  # a read-write open replays no foreign log
        assert con.execute("select count(*) from marts.dim_things").fetchone()[0] == 5


def test_the_publish_summary_names_the_slowest_tables_and_how_each_was_published(tmp_path):
    published = Published(
        tmp_path / "serving.duckdb",
        {"marts.a": 1, "marts.b": 2, "marts.c": 3, "marts.d": 4},
        {"marts.a": "kept", "marts.b": "changed", "marts.c": "written", "marts.d": "written"},
        {"marts.a": 0.1, "marts.b": 2.5, "marts.c": 9.04, "marts.d": 0.2},
    )
    assert published.describe_changes(slowest=2) == (
        "1 kept, 1 changed, 2 written; slowest: c written 9.0 s, b changed 2.5 s"
    )
    assert Published(tmp_path / "s.duckdb", {}).describe_changes() == "0 kept, 0 changed, 0 written"
