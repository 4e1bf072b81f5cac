"""PostgreSQL serving on a real server: the serving file's rows, comments and keys arrive whole; readers never see
a missing or half-filled table while a publish swaps schemas; grants survive; a server that cannot be reached fails
with its address and never the password. The last test publishes from a real `closedloop run`, then erases a person."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import psycopg2
import pytest
from postgres_server import free_port

from orchestration.lib import serving_postgres
from orchestration.lib.generate import generate_landing
from orchestration.lib.serving_postgres import (
    NotOurSchema,
    ServingUnreachable,
    publish_quality_to_postgres,
    publish_to_postgres,
    serving_tables,
)

pytestmark = pytest.mark.postgres

CLOSEDLOOP = str(Path(sys.executable).parent / "closedloop")
TRICKY = ["plain", "", None, 'quote " and, comma', "line\nbreak", "José — ünïcode", "\\N", "NULL"]


def url_of(settings: dict, password: str | None = None) -> str:
    secret = settings["password"] if password is None else password
    return f"postgresql://{settings['user']}:{secret}@{settings['host']}:{settings['port']}/{settings['dbname']}"


@pytest.fixture()
def pg(postgres_server, request):
    name = "serving_" + request.node.name.removeprefix("test_")[:40]
    return postgres_server.create_database(name)


def make_serving(path: Path, leads: int, extra_table: bool = False) -> Path:
    """A small serving file shaped like the published one: commented tables and columns, a primary key, and the
    values a CSV round trip can get wrong (null vs '', NaN and infinities, decimals, time zones, lists)."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts; create schema quality")
        con.execute(
            "create table marts.dim_leads (lead_id bigint primary key, name varchar, score double,"
            " revenue decimal(18, 2), is_won boolean, created_date date, created_at timestamp,"
            " synced_at timestamptz, tags varchar[])"
        )
        con.execute(
            "insert into marts.dim_leads select i, list_extract(?::varchar[], 1 + i % ?),"
            " case i % 5 when 0 then 'nan'::double"
            " when 1 then 'inf'::double when 2 then '-inf'::double when 3 then null else i / 7 end,"
            " i * 1.25, i % 2 = 0, date '2026-01-01' + (i % 300)::int, timestamp '2026-01-01 02:00' + to_seconds(i),"
            " timestamptz '2026-01-01 02:00:00+02' + to_minutes(i),"
            " case when i % 4 = 0 then null else ['a,b', '', null, 'x' || i] end"
            " from range(?) t(i)",
            [TRICKY, len(TRICKY), leads],
        )
        con.execute("comment on table marts.dim_leads is 'One row per lead. It''s the grain.'")
        con.execute("comment on column marts.dim_leads.lead_id is 'The lead''s key'")
        con.execute("comment on column marts.dim_leads.score is 'Score, 100% made up'")
        con.execute(
            "create table marts.mart_channel_roi as select 'ch' || i as channel, i * 2 as spend from range(7) t(i)"
        )
        con.execute("comment on table marts.mart_channel_roi is 'One row per channel'")
        if extra_table:
            con.execute("create table marts.mart_new_tonight as select 1 as new_id")
        con.execute("create table quality.runs (run_id varchar primary key, status varchar, rows_checked bigint)")
        con.execute("insert into quality.runs values (?, 'passed', ?)", [f"run-{leads}", leads])
        con.execute("create table quality.results as select 'rule_' || i as rule, i as failed from range(3) t(i)")
        con.execute("create table quality.quarantine (dataset varchar, row_key varchar)")
    return path


def comparable(value):
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    if isinstance(value, list):
        return tuple(value)
    return value


def duck_rows(path: Path, table: str) -> Counter:
    with duckdb.connect(str(path), read_only=True) as con:
        return Counter(tuple(map(comparable, row)) for row in con.execute(f"select * from {table}").fetchall())


def pg_rows(settings: dict, table: str) -> Counter:
    with psycopg2.connect(**settings) as con, con.cursor() as cur:
        cur.execute(f"select * from {table}")
        return Counter(tuple(map(comparable, row)) for row in cur.fetchall())


def pg_query(settings: dict, sql: str, params=None) -> list[tuple]:
    con = psycopg2.connect(**settings)
    try:
        with con.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        con.close()


def published_tables(path: Path) -> list[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        return [f"{schema}.{t.name}" for schema in ("marts", "quality") for t in serving_tables(con, schema)]


def test_every_table_arrives_with_the_same_rows_comments_and_keys(pg, tmp_path):
    serving = make_serving(tmp_path / "serving.duckdb", leads=500)
    counts = publish_to_postgres(serving, url_of(pg))
    tables = published_tables(serving)
    assert sorted(counts) == sorted(tables) and counts["marts.dim_leads"] == 500
    for table in tables:
        assert pg_rows(pg, table) == duck_rows(serving, table), table
    # '' and null stay apart, NaN and the infinities survive
    empty, null = (sum(1 for i in range(500) if TRICKY[i % len(TRICKY)] == value) for value in ("", None))
    assert pg_query(
        pg,
        "select count(*) filter (where name = ''), count(*) filter (where name is null),"
        " count(*) filter (where score = 'NaN'), count(*) filter (where score = '-Infinity')"
        " from marts.dim_leads",
    ) == [(empty, null, 100, 100)]
    assert pg_query(
        pg,
        "select obj_description('marts.dim_leads'::regclass, 'pg_class'),"
        " col_description('marts.dim_leads'::regclass, 1), col_description('marts.dim_leads'::regclass, 3),"
        " col_description('marts.dim_leads'::regclass, 2)",
    ) == [("One row per lead. It's the grain.", "The lead's key", "Score, 100% made up", None)]
    keys = pg_query(
        pg,
        "select tc.table_schema || '.' || tc.table_name, kcu.column_name"
        " from information_schema.table_constraints tc join information_schema.key_column_usage kcu"
        " using (constraint_schema, constraint_name) where tc.constraint_type = 'PRIMARY KEY'"
        " and tc.table_schema in ('marts', 'quality') order by 1",
    )
    assert keys == [("marts.dim_leads", "lead_id"), ("quality.runs", "run_id")]
    types = dict(
        pg_query(
            pg,
            "select column_name, data_type from information_schema.columns"
            " where table_schema = 'marts' and table_name = 'dim_leads'",
        )
    )
    assert types["revenue"] == "numeric" and types["tags"] == "jsonb" and types["synced_at"].endswith("with time zone")
    schemas = pg_query(pg, "select nspname from pg_namespace where nspname like 'marts%' or nspname like 'quality%'")
    assert sorted(schemas) == [("marts",), ("quality",)]


def test_grants_to_a_read_only_role_survive_two_publishes(pg, tmp_path):
    url = url_of(pg)
    publish_to_postgres(make_serving(tmp_path / "night1.duckdb", leads=50), url)
    admin = psycopg2.connect(**pg)
    admin.autocommit = True
    with admin.cursor() as cur:  # what docs/serving.md tells an admin to run once
        cur.execute("drop role if exists bi_reader")
        cur.execute("create role bi_reader login password 'bi-secret'")
        cur.execute(f"grant connect on database {pg['dbname']} to bi_reader")
        cur.execute("grant usage on schema marts, quality to bi_reader")
        cur.execute("grant select on all tables in schema marts, quality to bi_reader")
    admin.close()
    night2 = make_serving(tmp_path / "night2.duckdb", leads=60, extra_table=True)
    publish_to_postgres(night2, url)
    publish_to_postgres(night2, url)
    reader = {**pg, "user": "bi_reader", "password": "bi-secret"}
    for table in published_tables(night2):  # the table new on night 2 included
        assert pg_rows(reader, table) == duck_rows(night2, table), table
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        pg_query(reader, "create table marts.mine (x int)")
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        pg_query(reader, "delete from marts.dim_leads")


def test_quality_alone_is_republished_and_the_marts_stay_untouched(pg, tmp_path):
    url = url_of(pg)
    publish_to_postgres(make_serving(tmp_path / "good.duckdb", leads=40), url)
    marts_before = pg_query(pg, "select oid from pg_namespace where nspname = 'marts'")
    refused = make_serving(tmp_path / "refused.duckdb", leads=90)
    counts = publish_quality_to_postgres(refused, url)
    assert sorted(counts) == ["quality.quarantine", "quality.results", "quality.runs"]
    assert pg_query(pg, "select run_id from quality.runs") == [("run-90",)]
    assert pg_query(pg, "select oid from pg_namespace where nspname = 'marts'") == marts_before
    assert pg_query(pg, "select count(*) from marts.dim_leads") == [(40,)]


def test_a_reader_during_publishes_sees_the_old_or_the_new_table_never_a_missing_or_partial_one(pg, tmp_path):
    url = url_of(pg)
    small, large = 20_000, 60_000
    nights = [make_serving(tmp_path / f"n{leads}.duckdb", leads=leads) for leads in (small, large)]
    publish_to_postgres(nights[0], url)
    seen, errors = [], []
    done = threading.Event()

    def read_in_a_loop():
        con = psycopg2.connect(**pg)
        con.autocommit = True  # each query is its own transaction, as a BI tool's are
        deadline = time.monotonic() + 300
        try:
            with con.cursor() as cur:
                while not done.is_set() and time.monotonic() < deadline:
                    try:
                        cur.execute(
                            "select (select count(*) from marts.dim_leads),"
                            " (select max(rows_checked) from quality.runs)"
                        )
                        seen.append(cur.fetchone())
                    except psycopg2.Error as exc:
                        errors.append(str(exc))
        finally:
            con.close()

    reader = threading.Thread(target=read_in_a_loop)
    reader.start()
    try:
        for night in (nights[1], nights[0], nights[1]):
            publish_to_postgres(night, url)
    finally:
        done.set()
        reader.join(timeout=60)
    assert not errors, errors[:3]
    assert set(seen) <= {(small, small), (large, large)}, Counter(seen)
    # the reader was there before, during and after the swaps: it saw both nights
    assert Counter(seen)[(small, small)] > 0 and Counter(seen)[(large, large)] > 0 and len(seen) > 20


def test_a_long_reader_does_not_stall_the_swap_and_its_old_schema_goes_later(pg, tmp_path, monkeypatch):
    url = url_of(pg)
    publish_to_postgres(make_serving(tmp_path / "old.duckdb", leads=30), url)
    new = make_serving(tmp_path / "new.duckdb", leads=70)
    long_reader = psycopg2.connect(**pg)  # a transaction still open on the old table: it holds its lock
    with long_reader.cursor() as cur:
        cur.execute("select count(*) from marts.dim_leads")
        assert cur.fetchone() == (30,)
    monkeypatch.setattr(serving_postgres, "DROP_LOCK_TIMEOUT", "1s")
    publish_to_postgres(new, url)  # returns: the swap did not wait for the reader, the drop gave up
    assert pg_query(pg, "select count(*) from marts.dim_leads") == [(70,)]
    retired = pg_query(pg, "select nspname from pg_namespace where nspname like 'marts\\_\\_previous\\_%'")
    assert len(retired) == 1
    with long_reader.cursor() as cur:  # the old rows are still whole for the reader who holds them
        cur.execute(f'select count(*) from "{retired[0][0]}".dim_leads')
        assert cur.fetchone() == (30,)
    long_reader.close()
    publish_to_postgres(new, url)
    assert pg_query(pg, "select nspname from pg_namespace where nspname like '%\\_\\_previous\\_%'") == []


def test_an_unreachable_server_is_named_without_its_password(pg, tmp_path):
    serving = make_serving(tmp_path / "serving.duckdb", leads=5)
    closed = {**pg, "port": free_port()}
    with pytest.raises(ServingUnreachable) as refused:
        publish_to_postgres(serving, url_of(closed, password="s3cret-never-shown"))
    message = str(refused.value)
    assert f"127.0.0.1:{closed['port']}/{pg['dbname']}" in message and "serving.duckdb was published" in message
    assert "s3cret-never-shown" not in message
    with pytest.raises(ServingUnreachable) as wrong:
        publish_to_postgres(serving, url_of(pg, password="wrong-s3cret"))
    assert "password authentication failed" in str(wrong.value) and "wrong-s3cret" not in str(wrong.value)


def test_a_marts_schema_someone_else_made_is_never_replaced(pg, tmp_path):
    admin = psycopg2.connect(**pg)
    with admin, admin.cursor() as cur:  # e.g. the postgres dbt target's marts, in the same database by mistake
        cur.execute("create schema marts; create table marts.fct_theirs as select 1 as id")
    admin.close()
    with pytest.raises(NotOurSchema, match=f"marts in closedloop@127.0.0.1:{pg['port']}/{pg['dbname']}"):
        publish_to_postgres(make_serving(tmp_path / "serving.duckdb", leads=5), url_of(pg))
    assert pg_query(pg, "select id from marts.fct_theirs") == [(1,)]
    assert pg_query(pg, "select nspname from pg_namespace where nspname like '%\\_\\_%'") == []


@pytest.mark.slow
@pytest.mark.long
def test_a_real_run_publishes_its_serving_file_to_postgres(pg, tmp_path):
    landing, data = tmp_path / "landing", tmp_path / "data"
    generate_landing(landing, leads=300, days=90, seed=5)
    args = [CLOSEDLOOP, "run", "--landing", str(landing), "--data-dir", str(data)]
    env = {**os.environ, "CLOSEDLOOP_SERVING_URL": url_of(pg)}
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    serving = data / "serving.duckdb"
    tables = published_tables(serving)
    assert "marts.fct_attribution" in tables and "quality.runs" in tables
    for table in tables:
        assert pg_rows(pg, table) == duck_rows(serving, table), table
    assert pg_query(
        pg, "select count(*) from information_schema.tables where table_schema in ('marts', 'quality')"
    ) == [(len(tables),)]
    # an erasure rewrites serving.duckdb and the PostgreSQL copy with it
    with duckdb.connect() as con:
        lead_id, email = con.execute(
            f"select lead_id, email from read_csv('{landing}/leads/*.csv', all_varchar=true)"
            " where email like '%@%' order by lead_id limit 1"
        ).fetchone()
    assert pg_query(pg, "select count(*) from marts.mart_lead_sla where lead_id = %s", [lead_id]) == [(1,)]
    erased = subprocess.run(
        [CLOSEDLOOP, "erase", "--email", email, "--data-dir", str(data)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert erased.returncode == 0, erased.stderr
    assert pg_query(pg, "select count(*) from marts.mart_lead_sla where lead_id = %s", [lead_id]) == [(0,)]
    for table in tables:
        assert pg_rows(pg, table) == duck_rows(serving, table), table
    # a server that is down fails the run, names it, and says the DuckDB file was published
    env["CLOSEDLOOP_SERVING_URL"] = url_of({**pg, "port": free_port()}, password="s3cret-never-shown")
    failed = subprocess.run(args, env=env, capture_output=True, text=True, timeout=900)
    assert failed.returncode != 0 and "s3cret-never-shown" not in failed.stdout + failed.stderr
    assert "serving.duckdb was published" in failed.stderr and f"/{pg['dbname']}" in failed.stderr
    assert serving.exists()
    # a refused night keeps the PostgreSQL marts and records itself in their quality tables
    env["CLOSEDLOOP_SERVING_URL"] = url_of(pg)
    marts_before = {t: pg_rows(pg, t) for t in tables if t.startswith("marts.")}
    header = next((landing / "leads").glob("*.csv")).read_text().splitlines()[0]
    (landing / "leads" / "leads_ragged.csv").write_text(f"{header}\nL-RAGGED{',' * (header.count(',') + 1)}stray\n")
    refused = subprocess.run(args, env=env, capture_output=True, text=True, timeout=900)
    assert refused.returncode == 1, refused.stderr
    assert {t: pg_rows(pg, t) for t in marts_before} == marts_before
    last = pg_query(pg, "select status, blocking_reason from quality.runs order by started_at desc limit 1")
    assert last[0][0] == "refused" and "leads_ragged.csv, line 2" in last[0][1]
