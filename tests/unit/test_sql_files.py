"""The shared SQL text helpers (orchestration/lib/sql.py) and whole-file replacement (orchestration/lib/files.py)."""

import duckdb
import pytest

from orchestration.lib.files import atomic_replace, atomic_write_bytes, atomic_write_text
from orchestration.lib.sql import list_tables, qualified, quote_ident, sql_literal, table_exists, table_names


def test_quoting():
    assert quote_ident('we"ird') == '"we""ird"'
    assert qualified("marts.fct_touchpoints") == '"marts"."fct_touchpoints"'
    assert sql_literal("it's") == "'it''s'"
    with duckdb.connect() as con:
        name = quote_ident('a "b')
        con.execute(f"create table {name} as select {sql_literal('x')} as v")
        assert con.execute('select v from "a ""b"').fetchone() == ("x",)


def test_tables_of_the_own_database_or_an_attached_one(tmp_path):
    with duckdb.connect(str(tmp_path / "own.duckdb")) as con:
        con.execute("create schema marts; create table marts.b (x int); create table marts.a (x int)")
        con.execute("create view marts.v as select * from marts.a; create table main.t (x int)")
        con.execute(f"attach {sql_literal(tmp_path / 'other.duckdb')} as other")
        con.execute("create schema other.marts; create table other.marts.z (x int)")
        assert list_tables(con, "marts") == [("marts", "a"), ("marts", "b"), ("marts", "v")]
        assert table_names(con, "marts", base_only=True) == ["a", "b"]
        assert list_tables(con, "main", "marts", base_only=True) == [("main", "t"), ("marts", "a"), ("marts", "b")]
        assert list_tables(con, catalog="other") == [("marts", "z")]
        assert table_exists(con, "marts", "v") and not table_exists(con, "marts", "z")


def test_atomic_replace_writes_whole_or_leaves_the_old_file(tmp_path):
    target = tmp_path / "out.txt"
    atomic_write_text(target, "old")
    assert target.read_text() == "old"

    def broken(temporary):
        temporary.write_text("half")
        raise RuntimeError("writer failed")

    with pytest.raises(RuntimeError):
        atomic_replace(target, broken)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new" and sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]
