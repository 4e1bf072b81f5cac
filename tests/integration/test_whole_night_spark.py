"""`closedloop run` on the spark target publishes the same marts as on DuckDB: the whole Dagster job on a local
Spark session (dbt through its Thrift server, the Python steps through DataFrames, tables as Parquet), for a
generated sample over a full night and an incremental one, every published mart compared row by row. (The
attribution fixture is not a whole night: its leads lack fields the gate requires; its dbt build is checked by
test_attribution_build.py on DuckDB.) A refused night keeps the marts and records itself. Several Spark nights
take minutes each: `make test-long`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import duckdb
import pytest
from published import differences, marts, run_night, two_nights

from orchestration.lib.contract import CONTRACTS
from orchestration.lib.generate import generate_landing
from orchestration.lib.spark_landing import spark_loaded

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.long]

ENGINES = ("duckdb", "spark")
PII_KEY = "whole-night-parity"  # one key for every data dir, so the people's hashes compare equal


def run(engine: str, landing: Path, data: Path) -> subprocess.CompletedProcess:
    env = {"CLOSEDLOOP_DBT_TARGET": engine, "CLOSEDLOOP_PII_KEY": PII_KEY}
    return run_night(landing, data, env, timeout=1800)


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    root = tmp_path_factory.mktemp("whole_night_spark")
    generated = root / "generated"
    generate_landing(generated, leads=150, days=60, seed=7)
    published, results = {}, {}
    for engine in ENGINES:
        runs, marts_of = two_nights(generated, root, engine, run)
        results |= {(night, engine): result for night, result in runs.items()}
        published |= {(night, engine): tables for night, tables in marts_of.items()}
    return {"root": root, "published": published, "results": results}


@pytest.mark.parametrize("night", ["full", "incremental"])
def test_every_published_mart_is_the_same_on_spark_and_duckdb(nights, night):
    duck, spark = (nights["published"][night, engine] for engine in ENGINES)
    assert any(table["rows"] for table in duck.values())
    assert differences(duck, spark) == []


def test_the_marts_were_built_by_spark(nights):
    """The serving file of the spark run comes from Spark's Parquet tables, not from a local DuckDB build."""
    data = nights["root"] / "spark"
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        schemas = {
            row[0] for row in con.execute("select distinct table_schema from information_schema.tables").fetchall()
        }
    assert schemas == {"raw"}
    # fct_attribution is a view over fct_attribution_wide on every engine: the wide mart is what Spark stores
    files = str(data / "spark" / "warehouse" / "marts.db" / "fct_attribution_wide" / "*.parquet")
    with duckdb.connect() as con:
        on_spark = con.execute(f"select count(*) from read_parquet('{files}')").fetchone()[0]
    assert on_spark == len(nights["published"]["incremental", "spark"]["fct_attribution_wide"]["rows"]) > 0


def test_spark_read_the_landing_files_itself(nights):
    """Every row of the landing sources is in Spark's raw tables, read by Spark from the files; the job's DuckDB
    file keeps the bookkeeping (which files, how many rows) and none of those rows."""
    data = nights["root"] / "spark"
    sources = [s for s in CONTRACTS if spark_loaded(s)]
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        assert all(con.execute(f"select count(*) from raw.{s}").fetchone()[0] == 0 for s in sources)
        loaded = dict(con.execute("select source, sum(row_count) from raw._loaded_files group by 1").fetchall())
    files = data / "spark" / "warehouse" / "raw.db"
    with duckdb.connect() as con:
        in_spark = {
            source: con.execute(f"select count(*) from read_parquet('{files / source}/*.parquet')").fetchone()[0]
            for source in loaded
            if spark_loaded(source)
        }
    assert in_spark["touchpoints"] > 0
    assert in_spark == {source: rows for source, rows in loaded.items() if spark_loaded(source)}


def test_a_night_with_nothing_new_on_spark_stops_at_once(nights):
    """The published night's record names no setting a run changes by itself (the local session's Thrift port)."""
    again = run("spark", nights["root"] / "landing_spark", nights["root"] / "spark")
    assert again.returncode == 0, again.stderr
    assert "nothing new since the published night" in again.stdout


def test_a_refused_night_on_spark_keeps_the_marts_and_records_itself(nights):
    landing, data = nights["root"] / "landing_spark", nights["root"] / "spark"
    before = marts(data / "serving.duckdb")
    header = next((landing / "leads").glob("*.csv")).read_text().splitlines()[0]
    (landing / "leads" / "leads_ragged.csv").write_text(f"{header}\nL-RAGGED{',' * (header.count(',') + 1)}stray\n")
    refused = run("spark", landing, data)
    assert refused.returncode == 1, refused.stderr
    assert "leads_ragged.csv, line 2" in " ".join(refused.stderr.split())  # the message wraps at spaces
    assert marts(data / "serving.duckdb") == before
    with duckdb.connect(str(data / "serving.duckdb"), read_only=True) as con:
        status, reason = con.execute(
            "select status, blocking_reason from quality.runs order by started_at desc limit 1"
        ).fetchone()
    assert status == "refused" and "leads_ragged.csv, line 2" in reason
