"""The Spark engine's own parts on a real local session (Java, pyspark, its Thrift server): what dbt and the
Python steps connect to, and the raw copy from the DuckDB landing load. The whole night on Spark, compared with
DuckDB mart by mart, is test_whole_night_spark.py (`make test-long`)."""

from __future__ import annotations

import os

import duckdb
import pyarrow as pa
import pytest
from pyhive import hive

from orchestration.lib.spark import copy_raw_to_spark, run_session
from orchestration.lib.warehouse import open_warehouse
from orchestration.settings import load_settings

pytestmark = [pytest.mark.spark]


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    data = tmp_path_factory.mktemp("spark_session")
    settings = load_settings(
        landing_dir=data / "landing", data_dir=data, environ={"CLOSEDLOOP_SPARK_MASTER": "local[1]"}
    )
    with run_session(settings) as session:
        yield {"session": session, "data": data}


def _raw(path, rows_by_file: dict[str, int]) -> None:
    """A DuckDB warehouse whose raw.leads holds `rows` rows for each file hash, and its _loaded_files."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists raw")
        con.execute("create or replace table raw.leads (lead_id varchar, _file_hash varchar, _row_number bigint)")
        con.execute("create or replace table raw._loaded_files (file_hash varchar, source varchar)")
        for file_hash, rows in rows_by_file.items():
            con.execute(f"insert into raw.leads select 'L' || i, '{file_hash}', i from range({rows}) t(i)")
            con.execute(f"insert into raw._loaded_files values ('{file_hash}', 'leads')")


def test_dbt_reaches_the_run_s_session_through_the_thrift_server(spark):
    spark["session"].sql("create database if not exists probe")
    spark["session"].sql("drop table if exists probe.answer")
    spark["session"].sql("create table probe.answer using parquet as select 42 as value")
    connection = hive.connect(host="127.0.0.1", port=int(os.environ["CLOSEDLOOP_SPARK_PORT"]), auth="NOSASL")
    try:
        cursor = connection.cursor()
        cursor.execute("select value from probe.answer")
        assert cursor.fetchall() == [(42,)]
    finally:
        connection.close()


def test_raw_rows_are_copied_once_per_file_and_whole_after_an_erasure(spark):
    session, warehouse = spark["session"], spark["data"] / "warehouse.duckdb"
    _raw(warehouse, {"f1": 3})
    assert copy_raw_to_spark(warehouse, session)["leads"] == 3
    _raw(warehouse, {"f1": 3, "f2": 2})  # a new file: only its rows travel
    assert copy_raw_to_spark(warehouse, session)["leads"] == 2
    assert session.table("raw.leads").count() == 5
    assert copy_raw_to_spark(warehouse, session)["leads"] == 0  # nothing new
    _raw(warehouse, {"f1": 2, "f2": 2})  # an erasure removed a row of f1: the table is copied whole
    assert copy_raw_to_spark(warehouse, session)["leads"] == 4
    assert session.table("raw.leads").count() == 4


def test_the_python_steps_read_duckdb_sql_and_write_tables(spark):
    with open_warehouse("spark", spark["data"] / "warehouse.duckdb") as warehouse:
        warehouse.write(replace={"steps.people": pa.table({"identifier": ["a", "b"], "person_id": ["p1", "p1"]})})
        warehouse.write(append={"steps.people": pa.table({"person_id": ["p2"], "identifier": ["c"]})})
        rows = warehouse.read_text('select "person_id", count(*) as n from steps.people group by 1 order by 1')
    assert rows.to_pylist() == [{"person_id": "p1", "n": "2"}, {"person_id": "p2", "n": "1"}]
