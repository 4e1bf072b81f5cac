"""The Spark engine's own parts on a real local session (Java, pyspark, its Thrift server): what dbt and the
Python steps connect to, and the raw copy from the DuckDB landing load. The whole night on Spark, compared with
DuckDB mart by mart, is test_whole_night_spark.py (`make test-long`)."""

from __future__ import annotations

import contextlib
import os
import re
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
import sqlalchemy
from pyhive import hive

from orchestration.lib.contract import CONTRACTS
from orchestration.lib.erasure import erase, parse_request
from orchestration.lib.erasure.spark import spark_raw_tables
from orchestration.lib.landing import discover, ensure_raw_tables, load_source
from orchestration.lib.people import HASHES_TABLE, PEOPLE_TABLE, resolve_identity
from orchestration.lib.quality import warehouse_url
from orchestration.lib.quality.gate import run_gate
from orchestration.lib.quality.rules import Dataset, Rule
from orchestration.lib.spark import copy_raw_to_spark, copy_spark_to_duckdb
from orchestration.lib.spark_landing import SparkSink, ensure_spark_raw_tables, spark_loaded
from orchestration.lib.warehouse import open_warehouse
from orchestration.settings import load_settings
from tests.identity_graph import KEY, build_warehouse, resolve

pytestmark = [pytest.mark.spark]

LANDING = Path(__file__).parents[1] / "fixtures" / "landing_small"

IDENTITY_EDGES = [
    ("lead:L1", "email:Zed@acme.io"),
    ("lead:L1", "phone:+14155550101"),
    ("lead:L2", "email:ann@acme.io"),
    ("anon:c1", "email:Zed@acme.io"),
    ("anon:c1", "email:ann@acme.io"),
    ("lead:L3", "email:test@test.com"),
    ("lead:L4", "email:test@test.com"),
    ("lead:L5", "phone:+15555555555"),
    ("lead:L6", "email:bob@example.com"),
    ("anon:c2", None),
    ("email:solo@corp.io", None),
]


@pytest.fixture(scope="module")
def spark(spark_session):
    return spark_session


def _raw(path, rows_by_file: dict[str, int]) -> None:
    """A DuckDB warehouse whose raw.erasure_requests holds `rows` rows for each file hash, and its _loaded_files."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists raw")
        con.execute(
            "create or replace table raw.erasure_requests (email varchar, _file_hash varchar, _row_number bigint)"
        )
        con.execute("create or replace table raw._loaded_files (file_hash varchar, source varchar)")
        for file_hash, rows in rows_by_file.items():
            con.execute(f"insert into raw.erasure_requests select 'e' || i, '{file_hash}', i from range({rows}) t(i)")
            con.execute(f"insert into raw._loaded_files values ('{file_hash}', 'erasure_requests')")
        con.execute("create or replace table raw.leads (lead_id varchar, _file_hash varchar)")  # Spark reads these


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


def test_the_job_s_raw_tables_are_copied_once_per_file_and_whole_after_an_erasure(spark):
    """The bookkeeping and the erasure requests live in the job's DuckDB file and are copied to Spark; the landing
    sources' raw tables are Spark's own (test_spark_landing.py) and never copied."""
    session, warehouse = spark["session"], spark["data"] / "warehouse.duckdb"
    _raw(warehouse, {"f1": 3})
    copied = copy_raw_to_spark(warehouse, session)
    assert copied["erasure_requests"] == 3 and "leads" not in copied
    _raw(warehouse, {"f1": 3, "f2": 2})  # a new file: only its rows travel
    assert copy_raw_to_spark(warehouse, session)["erasure_requests"] == 2
    assert session.table("raw.erasure_requests").count() == 5
    assert copy_raw_to_spark(warehouse, session)["erasure_requests"] == 0  # nothing new
    _raw(warehouse, {"f1": 2, "f2": 2})  # an erasure removed a row of f1: the table is copied whole
    assert copy_raw_to_spark(warehouse, session)["erasure_requests"] == 4
    assert session.table("raw.erasure_requests").count() == 4


def test_the_python_steps_read_duckdb_sql_and_write_tables(spark):
    with open_warehouse("spark", spark["data"] / "warehouse.duckdb") as warehouse:
        warehouse.write(replace={"steps.people": pa.table({"identifier": ["a", "b"], "person_id": ["p1", "p1"]})})
        warehouse.write(append={"steps.people": pa.table({"person_id": ["p2"], "identifier": ["c"]})})
        rows = warehouse.read_text('select "person_id", count(*) as n from steps.people group by 1 order by 1')
    assert rows.to_pylist() == [{"person_id": "p1", "n": "2"}, {"person_id": "p2", "n": "1"}]


def test_a_large_table_reaches_duckdb_in_pieces_with_every_row_once(spark):
    """Publishing copies a Spark table through the driver in pieces, never whole (Spark refuses a result above
    spark.driver.maxResultSize); the pieces split the rows, duplicates and nulls included."""
    session = spark["session"]
    session.sql("create schema if not exists steps")
    session.sql("drop table if exists steps.pieces")
    session.sql(
        "create table steps.pieces using parquet as select cast(id % 97 as int) as k, "
        "case when id % 5 = 0 then null else concat('v', id % 13) end as v from range(1000)"
    )
    expected = [tuple(row) for row in session.sql("select k, v from steps.pieces").collect()]
    with duckdb.connect() as duck:
        duck.execute("attach ':memory:' as copied")
        counts = copy_spark_to_duckdb(session, duck, "copied", ["steps.pieces"], piece_rows=150)
        copied = duck.execute("select k, v from copied.steps.pieces").fetchall()
    assert counts == {"steps.pieces": 1000}
    assert sorted(copied, key=repr) == sorted(expected, key=repr)


def test_identity_resolution_runs_inside_spark_with_duckdbs_person_ids(spark, tmp_path):
    """The components are labelled by Spark SQL, blocklist included; every identifier gets DuckDB's person_id."""
    session = spark["session"]
    edges = [*IDENTITY_EDGES, *((f"anon:{i:03d}", f"anon:{i + 1:03d}") for i in range(40))]  # a chain: rounds
    for schema in ("intermediate", "seeds", "quality"):
        session.sql(f"create database if not exists {schema}")
    for table in ("int_identity__edges", "identity_edges", "identity_state", "identity_record_edges"):
        session.sql(f"drop table if exists intermediate.{table}")  # no earlier test's state
    for view in ("int_identity__record_edges", "int_identity__touchpoint_edges"):  # an earlier night's: all edges read
        session.sql(f"drop view if exists intermediate.{view}")
    session.createDataFrame(edges, "left_identifier string, right_identifier string").write.saveAsTable(
        "intermediate.int_identity__edges"
    )
    session.sql("drop table if exists seeds.identity_blocklist")
    session.createDataFrame([("test@test.com",), ("@example.com",)], "pattern string").write.saveAsTable(
        "seeds.identity_blocklist"
    )
    session.sql("drop table if exists quality.results")
    session.sql(
        "create table quality.results (run_id string, dataset string, rule string, expectation string,"
        " severity string, passed boolean, rows_checked bigint, failing_rows bigint, failing_rate double,"
        " sample_keys string, checked_at timestamp) using parquet"
    )
    with open_warehouse("spark", spark["data"] / "warehouse.duckdb") as warehouse:
        outcome = resolve_identity(warehouse, KEY, "run-1", 1.0)
    on_spark = {row[0]: row[1] for row in session.table(PEOPLE_TABLE).collect()}
    hashes_on_spark = sorted(tuple(row) for row in session.table(HASHES_TABLE).collect())

    duck = build_warehouse(tmp_path / "w.duckdb", edges, ["test@test.com", "@example.com"])
    assert resolve(duck).describe() == outcome.describe()
    with duckdb.connect(str(duck), read_only=True) as con:
        assert on_spark == dict(con.execute(f"select identifier, person_id from {PEOPLE_TABLE}").fetchall())
        assert hashes_on_spark == sorted(con.execute(f"select * from {HASHES_TABLE}").fetchall())
    assert "email:test@test.com" not in on_spark and "phone:+15555555555" not in on_spark
    assert len({on_spark[f"anon:{i:03d}"] for i in range(41)}) == 1
    assert not [t for t in session.catalog.listTables("intermediate") if t.name.startswith("identity_work_")]

    # a second night that only adds edges updates the people on Spark as DuckDB solves them whole
    more = [("anon:040", "email:new@acme.io"), ("anon:000", "lead:L1"), ("lead:L9", None)]
    session.createDataFrame(more, "left_identifier string, right_identifier string").write.insertInto(
        "intermediate.int_identity__edges"
    )
    with open_warehouse("spark", spark["data"] / "warehouse.duckdb") as warehouse:
        assert resolve_identity(warehouse, KEY, "run-2", 1.0).added_edges == len(more)
    duck = build_warehouse(tmp_path / "w2.duckdb", edges + more, ["test@test.com", "@example.com"])
    resolve(duck)
    with duckdb.connect(str(duck), read_only=True) as con:
        assert {row[0]: row[1] for row in session.table(PEOPLE_TABLE).collect()} == dict(
            con.execute(f"select identifier, person_id from {PEOPLE_TABLE}").fetchall()
        )
        assert sorted(tuple(row) for row in session.table(HASHES_TABLE).collect()) == sorted(
            con.execute(f"select * from {HASHES_TABLE}").fetchall()
        )


def test_erase_removes_the_person_from_spark_at_once(spark):
    """`closedloop erase` on the spark target: Spark's raw copy and the tables built there lose the person now,
    not at the next night; the identity graph Spark holds is what finds the person's other keys."""
    session = spark["session"]
    settings = load_settings(
        LANDING, spark["data"] / "erase", {"CLOSEDLOOP_DBT_TARGET": "spark", "CLOSEDLOOP_PII_KEY": "test-key"}
    )
    settings.data_dir.mkdir()
    ensure_spark_raw_tables(session)
    for name in spark_raw_tables(session):
        session.sql(f"truncate table {name}")
    with duckdb.connect(str(settings.warehouse_path)) as con:
        ensure_raw_tables(con)
        for source in CONTRACTS:
            sink = SparkSink(session) if spark_loaded(source) else None
            load_source(con, source, discover(LANDING, source), "night1", datetime(2026, 3, 31, 2), sink=sink)
    copy_raw_to_spark(settings.warehouse_path, session)
    for database in ("staging", "intermediate", "marts"):
        session.sql(f"create database if not exists {database}")
    for table in ("staging.stg_crm__leads", "intermediate.identity_people", "marts.fct_conversions"):
        session.sql(f"drop table if exists {table}")  # the identity test's, and Parquet tables take no `replace`
    # staging is tables on Spark (views elsewhere): her normalised email there is hers too
    session.sql(
        "create table staging.stg_crm__leads using parquet as select * from values"
        " ('L1', 'annlee@gmail.com'), ('L2', 'bob@acme.io') as t(lead_id, email)"
    )
    # L9 is known to Spark's identity graph only: it is hers because identity resolution said so
    session.sql(
        "create table intermediate.identity_people using parquet as select * from values"
        " ('email:annlee@gmail.com', 'p_ann'), ('lead:L9', 'p_ann'), ('lead:L2', 'p_bob') as t(identifier, person_id)"
    )
    session.sql(
        "create table marts.fct_conversions using parquet as select * from values"
        " ('D1', 'L1'), ('D2', 'L2'), ('D9', 'L9') as t(deal_id, lead_id)"
    )

    result = erase(settings, parse_request("Ann.Lee@gmail.com", None))

    def column(sql: str) -> list:
        return sorted(row[0] for row in session.sql(sql).collect())

    assert result.removed["spark: marts.fct_conversions"] == 2
    assert column("select lead_id from marts.fct_conversions") == ["L2"]
    assert column("select identifier from intermediate.identity_people") == ["lead:L2"]
    assert column("select lead_id from staging.stg_crm__leads") == ["L2"]
    assert column("select lead_id from raw.leads") == ["L2", "L3"]  # Spark's raw rows
    assert "t1" not in column("select touchpoint_id from raw.touchpoints")  # the cookie seen with her email
    assert result.removed["spark: raw.leads"] == 1
    assert column("show tables in marts like '*__rewrite'") == []  # the scratch tables are gone
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:  # what the search fetched is gone
        assert con.execute("select count(*) from raw.leads").fetchone()[0] == 0


def test_the_quality_gate_runs_on_spark_through_its_thrift_server(spark, tmp_path):
    """Great Expectations counts and the quarantine selects in Spark (only counts and sample keys come back); a
    second night replaces the quarantined keys rather than adding to them (a delete is a rewrite on Spark)."""
    session = spark["session"]
    ensure_spark_raw_tables(session)
    for table in ("quarantined_keys", "quarantine", "runs", "results"):  # the identity test's results table
        session.sql(f"drop table if exists quality.{table}")
    for statement in hook_statements(_quality_ddl()):
        session.sql(statement)
    session.sql("drop table if exists quality.qa_demo")
    session.sql(
        "create table quality.qa_demo using parquet as select * from values"
        " ('r1', 'a', 1), ('r2', null, 1), ('r3', 'c', 3), ('r4', 'd', 2) as t(record_key, k, v)"
    )
    demo = Dataset(
        "demo",
        "record_key",
        (Rule("k_required", "not_null", "k"), Rule("v_range", "between", "v", minimum=0, maximum=2)),
    )
    settings = load_settings(tmp_path / "landing", spark["data"], {"CLOSEDLOOP_DBT_TARGET": "spark"})

    with statements_sent() as sent:
        for night in ("gate-1", "gate-2"):
            outcome = run_gate(warehouse_url(settings), tmp_path / "quality", night, 0.9, (demo,))
    # every query of the dataset counts, aggregates or stops at a few rows: none brings it whole to the driver
    reads = [s for s in sent if "qa_demo" in s and not s.startswith(("insert ", "create "))]
    assert reads and not [s for s in reads if not re.search(r"\blimit\b|\bcount\(|\bsum\(|^describe\b", s)]

    [verdict] = outcome.datasets
    assert (verdict.rows_checked, verdict.quarantined, outcome.passed) == (4, 2, True)
    assert {f.rule: (f.failing_rows, f.sample_keys) for f in verdict.findings} == {
        "k_required": (1, ["r2"]),
        "v_range": (1, ["r3"]),
    }

    def rows(sql: str) -> list[tuple]:
        return sorted(tuple(row) for row in session.sql(sql).collect())

    assert rows("select dataset, record_key from quality.quarantined_keys") == [("demo", "r2"), ("demo", "r3")]
    assert rows("select run_id, count(*) from quality.quarantine group by 1") == [("gate-1", 2), ("gate-2", 2)]
    assert rows("select run_id, status, rows_quarantined from quality.runs") == [
        ("gate-1", "passed", 2),
        ("gate-2", "passed", 2),
    ]
    assert rows("show tables in quality like '*__rewrite'") == []


@contextlib.contextmanager
def statements_sent():
    """The SQL statements this process sends through SQLAlchemy while the block runs, lowercased."""
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        sent.append(" ".join(statement.split()).lower())

    sqlalchemy.event.listen(sqlalchemy.engine.Engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        sqlalchemy.event.remove(sqlalchemy.engine.Engine, "before_cursor_execute", record)


def hook_statements(sql: str) -> list[str]:
    return [statement.strip() for statement in sql.split(";") if statement.strip()]


def _quality_ddl() -> str:
    """The quality tables as dbt's on-run-start hook creates them (dbt_project/macros/quality.sql), for Spark."""
    macro = (Path(__file__).parents[2] / "dbt_project" / "macros" / "quality.sql").read_text()
    body = macro.split("{% macro create_quality_tables() %}")[1].split("{% endmacro %}")[0]
    return body.replace("{{ type_double() }}", "double").replace("create schema", "create database")
