"""On the spark target Spark reads the landing files itself: the same raw rows as DuckDB's loader, row by row, for
the edge-case fixture and for files in every format and shape users deliver (a real local Spark session)."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.lib.contract import CONTRACTS
from orchestration.lib.landing import LandingError, discover, ensure_raw_tables, load_source
from orchestration.lib.spark_landing import SparkSink, ensure_spark_raw_tables, spark_loaded
from orchestration.lib.unload import unload

pytestmark = [pytest.mark.spark]

EDGE_CASES = Path(__file__).parents[1] / "fixtures" / "landing_edge_cases"
LOADED_AT = datetime(2026, 11, 1, 2, 0, 0, 123456)
HEADER = (
    "Lead_ID,Created_At,Email,Phone,first_name,source_channel,crm_score,source_campaign,source_detail,"
    "first_contact_at,product_interest,segment,region,owner,lifecycle_stage"
)
REST = ",camp,det,2026-03-01,prod,seg,reg,own,lead"  # the other required columns
REST_JSON = (
    ', "source_channel": "Email", "source_campaign": "camp", "source_detail": "det", "first_contact_at": "2026-03-01",'
    ' "product_interest": "prod", "segment": "seg", "region": "reg", "owner": "own", "lifecycle_stage": "lead"'
)


@pytest.fixture(scope="module")
def session(spark_session):
    ensure_spark_raw_tables(spark_session["session"])
    return spark_session["session"]


def _shapes(landing: Path) -> Path:
    """Leads in every shape: a BOM, CRLF line ends, a quoted line break, empty and quoted-empty fields, blank
    lines, a column the contract does not know, spaces kept; JSON lines; Parquet; a Latin-1 export."""
    leads = landing / "leads"
    leads.mkdir(parents=True)
    (leads / "a_bom_crlf.csv").write_bytes(
        (
            "\ufeff" + HEADER + "\r\n"
            'S1,2026-03-01T08:00:00Z,Ann@Example.com,(415) 555-0101,"Ann\r\nMarie",Paid_Search,87' + REST + "\r\n"
            '\r\nS2,2026-03-02T08:00:00Z,"",,"  spaced  ",,' + REST + "\r\n"
            'S3,2026-03-03T08:00:00Z,bob@example.org,+1 415 555 0102,"quote ""x""",Email,' + REST + "\r\n"
        ).encode("utf-8")
    )
    (leads / "b.jsonl").write_text(
        '{"lead_id": "J1", "created_at": "2026-03-04T08:00:00Z", "email": "j@x.io", "crm_score": "5"'
        + REST_JSON
        + "}\n"
        '{"lead_id": "J2", "created_at": "2026-03-05T08:00:00Z", "phone": "415-555-0103", "first_name": null}\n'
    )
    pq.write_table(
        pa.table(
            {
                "lead_id": ["P1", "P2"],
                "created_at": ["2026-03-06T08:00:00Z", None],
                "email": ["p@x.io", "q@x.io"],
                "crm_score": pa.array([3, None], pa.int64()),
                "source_channel": ["Email", None],
                **{column: ["x", "y"] for column in HEADER.split(",")[7:]},
            }
        ),
        leads / "c.parquet",
    )
    (leads / "d_latin1.csv").write_bytes(
        (HEADER + "\nL1,2026-03-07T08:00:00Z,zoe@x.io,,Zoë,Events," + REST + "\n").encode("latin-1")
    )
    return landing


def _load_both(session, landing: Path, tmp: Path, sources, encoding: str = "utf-8") -> tuple:
    """Loads `landing` into a DuckDB file with DuckDB's loader and into Spark with Spark's; returns both
    connections' rows per raw table, sorted."""
    for source in sources:  # the worker's one session: other modules' rows may be there
        session.sql(f"truncate table raw.{source}")
    duck = duckdb.connect(str(tmp / "duckdb.duckdb"))
    spark_check = duckdb.connect(str(tmp / "spark_check.duckdb"))
    for con in (duck, spark_check):
        ensure_raw_tables(con)
    for source in sources:
        files = discover(landing, source)
        for con, sink in ((duck, None), (spark_check, SparkSink(session))):
            load_source(con, source, files, "r1", LOADED_AT, encoding=encoding, sink=sink)
    compared = {}
    for source in sources:
        columns = [row[0] for row in duck.execute(f"describe raw.{source}").fetchall()]
        select = ", ".join(f"cast({c} as varchar)" for c in columns)
        on_duckdb = sorted(duck.execute(f"select {select} from raw.{source}").fetchall(), key=repr)
        on_spark = sorted(
            (
                tuple(row)
                for row in session.sql(f"select {select.replace('varchar', 'string')} from raw.{source}").collect()
            ),
            key=repr,
        )
        compared[source] = (on_duckdb, on_spark)
        # the job's own file keeps the bookkeeping, not the rows Spark read
        assert spark_check.execute(f"select count(*) from raw.{source}").fetchone()[0] == 0
    duck.close()
    spark_check.close()
    return compared


def test_spark_reads_the_edge_cases_as_duckdb_does(session, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(EDGE_CASES, landing)
    sources = [s for s in CONTRACTS if spark_loaded(s) and discover(landing, s)]
    compared = _load_both(session, landing, tmp_path, sources)
    assert sum(len(duck) for duck, _ in compared.values()) > 0
    for source, (on_duckdb, on_spark) in compared.items():
        assert on_spark == on_duckdb, source


def test_spark_reads_every_format_and_shape_as_duckdb_does(session, tmp_path):
    landing = _shapes(tmp_path / "landing")
    (landing / "leads" / "d_latin1.csv").unlink()  # one encoding per run; Latin-1 below
    for table in ("leads",):
        session.sql(f"truncate table raw.{table}")
    on_duckdb, on_spark = _load_both(session, landing, tmp_path, ["leads"])["leads"]
    assert len(on_duckdb) == 7
    assert on_spark == on_duckdb


def test_a_latin1_export_reads_the_same_with_the_encoding_set(session, tmp_path):
    landing = _shapes(tmp_path / "landing")
    for name in ("a_bom_crlf.csv", "b.jsonl", "c.parquet"):
        (landing / "leads" / name).unlink()
    session.sql("truncate table raw.leads")
    on_duckdb, on_spark = _load_both(session, landing, tmp_path, ["leads"], encoding="latin-1")["leads"]
    assert [row[5] for row in on_duckdb] == ["Zoë"]  # first_name
    assert on_spark == on_duckdb


def test_a_refused_file_leaves_nothing_in_spark(session, tmp_path):
    leads = tmp_path / "landing" / "leads"
    leads.mkdir(parents=True)
    (leads / "ragged.csv").write_text(f"{HEADER}\nR1,2026-03-01T08:00:00Z,r@x.io,,R,Email,1{REST}\nR2,x{REST},y,z\n")
    session.sql("truncate table raw.leads")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        ensure_raw_tables(con)
        with pytest.raises(LandingError, match=r"ragged.csv, line 3: expected 15 fields, found 12"):
            load_source(con, "leads", [leads / "ragged.csv"], "r1", LOADED_AT, sink=SparkSink(session))
        assert con.execute("select count(*) from raw._loaded_files").fetchone()[0] == 0
    assert session.sql("select count(*) from raw.leads").first()[0] == 0


def test_unload_takes_a_file_out_of_spark_and_releases_its_touchpoints(session, tmp_path):
    """`closedloop unload` on the spark target: the delivery's rows leave Spark's raw table, the touchpoint ids it
    carried leave the quarantine, and their other deliveries count as loaded now, so the next run checks them."""
    touchpoints = tmp_path / "landing" / "touchpoints"
    touchpoints.mkdir(parents=True)
    fixture = next((Path(__file__).parents[1] / "fixtures" / "landing_small" / "touchpoints").glob("*.csv"))
    first, second = touchpoints / "first.csv", touchpoints / "second.csv"
    shutil.copy(fixture, first)
    lines = fixture.read_text(encoding="utf-8-sig").splitlines()
    second.write_text(f"{lines[0]}\n{lines[1]}\n")  # t1 again, in a later delivery
    session.sql("truncate table raw.touchpoints")
    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        ensure_raw_tables(con)
        load_source(con, "touchpoints", [first, second], "r1", LOADED_AT, sink=SparkSink(session))
    session.sql("create database if not exists quality")
    session.sql("drop table if exists quality.quarantined_keys")
    session.sql(
        "create table quality.quarantined_keys using parquet as select * from values"
        " ('touchpoints', 't1'), ('touchpoints', 'zz'), ('leads', 't1') as t(dataset, record_key)"
    )
    first.unlink()  # the operator moves the bad delivery out of the landing zone

    now = datetime(2026, 11, 2, 3, 0)
    result = unload(warehouse, tmp_path / "landing", "touchpoints/first.csv", now, spark=session)

    assert result.rows == len(lines) - 1 and result.keys_released == len(lines) - 1
    left = session.sql("select touchpoint_id, _source_file, _loaded_at from raw.touchpoints").collect()
    assert [tuple(row) for row in left] == [("t1", "second.csv", now)]
    quarantined = session.sql("select dataset, record_key from quality.quarantined_keys").collect()
    assert sorted(tuple(row) for row in quarantined) == [("leads", "t1"), ("touchpoints", "zz")]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select file_name from raw._loaded_files").fetchall() == [("second.csv",)]
