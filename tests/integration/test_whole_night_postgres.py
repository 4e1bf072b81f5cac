"""`closedloop run` on the postgres target publishes the same marts as on DuckDB: the whole Dagster job (extract,
the copy of raw to the server, dbt, the gate, identity, attribution, CLV, publishing) on a real server, for a full
night and then an incremental one (the next month's files delivered), every published mart compared row by row.
An erasure then removes the person from the server's warehouse too."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import duckdb
import psycopg2
import pytest
from published import CLOSEDLOOP, differences, marts, run_night, two_nights

from orchestration.lib.generate import generate_landing

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.long]

ENGINES = ("duckdb", "postgres")
PII_KEY = "whole-night-parity"  # one key for both data dirs, so the people's hashes compare equal


def run(engine: str, landing: Path, data: Path, pg_env: dict[str, str]) -> subprocess.CompletedProcess:
    env = {**pg_env, "CLOSEDLOOP_DBT_TARGET": engine, "CLOSEDLOOP_PII_KEY": PII_KEY}
    return run_night(landing, data, env, timeout=900)


@pytest.fixture(scope="module")
def nights(postgres_server, tmp_path_factory):
    root = tmp_path_factory.mktemp("whole_night")
    generated = root / "generated"
    generate_landing(generated, leads=150, days=60, seed=7)
    pg_env = {**postgres_server.dbt_env("whole_night")}
    postgres_server.create_database("whole_night")
    published, results = {}, {}
    # engine by engine: the checkout's dbt manifest is parsed again whenever the target changes
    for engine in ENGINES:
        runs, marts_of = two_nights(generated, root, engine, lambda *night: run(*night, pg_env))
        results |= {(night, engine): result for night, result in runs.items()}
        published |= {(night, engine): tables for night, tables in marts_of.items()}
    return {
        "root": root,
        "landing": root / "landing_postgres",
        "pg_env": pg_env,
        "pg": postgres_server.settings("whole_night"),
        "published": published,
        "results": results,
    }


@pytest.mark.parametrize("night", ["full", "incremental"])
def test_every_published_mart_is_the_same_on_both_engines(nights, night):
    duck, pg = (nights["published"][night, engine] for engine in ENGINES)
    assert any(table["rows"] for table in duck.values())
    assert differences(duck, pg) == []


def test_the_incremental_night_loaded_only_the_new_files(nights):
    for engine in ENGINES:
        incremental = nights["results"]["incremental", engine].stdout
        assert "loaded this run:" in incremental and "every landing file was loaded before" not in incremental
    sizes = {
        night: sum(len(t["rows"]) for t in nights["published"][night, "postgres"].values())
        for night in ("full", "incremental")
    }
    assert sizes["incremental"] > sizes["full"]


def test_the_marts_were_built_on_the_server(nights):
    """The serving file of the postgres run comes from the server's marts, not from a local DuckDB build."""
    with duckdb.connect(str(nights["root"] / "postgres" / "warehouse.duckdb"), read_only=True) as con:
        schemas = {
            row[0] for row in con.execute("select distinct table_schema from information_schema.tables").fetchall()
        }
    assert "marts" not in schemas
    pg = psycopg2.connect(**nights["pg"])
    try:
        with pg.cursor() as cur:
            cur.execute("select count(*) from marts.fct_attribution")
            on_server = cur.fetchone()[0]
    finally:
        pg.close()
    assert on_server == len(nights["published"]["incremental", "postgres"]["fct_attribution"]["rows"]) > 0


def test_erase_on_the_postgres_target_removes_the_person_from_the_server(nights):
    landing = nights["landing"]
    with duckdb.connect() as con:
        lead_id, email = con.execute(
            f"select lead_id, email from read_csv('{landing}/leads/*.csv', all_varchar=true)"
            " where email like '%@%' order by lead_id limit 1"
        ).fetchone()
    pg = psycopg2.connect(**nights["pg"])
    pg.autocommit = True  # holds no lock while the erasure rewrites the tables (VACUUM FULL)
    try:

        def count(table: str) -> int:
            with pg.cursor() as cur:
                cur.execute(f"select count(*) from {table} where lead_id = %s", [lead_id])
                return cur.fetchone()[0]

        assert count("raw.leads") == 1 and count("marts.mart_lead_sla") == 1
        env = {**os.environ, **nights["pg_env"], "CLOSEDLOOP_DBT_TARGET": "postgres", "CLOSEDLOOP_PII_KEY": PII_KEY}
        erased = subprocess.run(
            [CLOSEDLOOP, "erase", "--email", email, "--data-dir", str(nights["root"] / "postgres")],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert erased.returncode == 0, erased.stderr
        assert count("raw.leads") == 0 and count("marts.mart_lead_sla") == 0
    finally:
        pg.close()


def test_a_refused_night_on_the_postgres_target_keeps_the_marts_and_records_itself(nights):
    landing, data = nights["root"] / "landing_postgres", nights["root"] / "postgres"
    before = marts(data / "serving.duckdb")
    header = next((landing / "leads").glob("*.csv")).read_text().splitlines()[0]
    (landing / "leads" / "leads_ragged.csv").write_text(f"{header}\nL-RAGGED{',' * (header.count(',') + 1)}stray\n")
    refused = run("postgres", landing, data, nights["pg_env"])
    assert refused.returncode == 1, refused.stderr
    assert "leads_ragged.csv, line 2" in " ".join(refused.stderr.split())  # the message wraps at spaces
    assert marts(data / "serving.duckdb") == before
    with duckdb.connect(str(data / "serving.duckdb"), read_only=True) as con:
        status, reason = con.execute(
            "select status, blocking_reason from quality.runs order by started_at desc limit 1"
        ).fetchone()
    assert status == "refused" and "leads_ragged.csv, line 2" in reason
    pg = psycopg2.connect(**nights["pg"])
    try:
        with pg.cursor() as cur:
            cur.execute("select status from quality.runs order by started_at desc limit 1")
            assert cur.fetchone()[0] == "refused"
    finally:
        pg.close()
