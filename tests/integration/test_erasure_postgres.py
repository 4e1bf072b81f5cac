"""Erasure reaches the PostgreSQL copy of raw (and the models built there), on a real server."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import psycopg2
import pytest

from orchestration.lib.contract import CONTRACTS
from orchestration.lib.erasure import erase, parse_request, purge_postgres
from orchestration.lib.landing import discover, ensure_raw_tables, load_source
from orchestration.lib.postgres import copy_raw_to_postgres
from orchestration.settings import load_settings

pytestmark = pytest.mark.postgres

LANDING = Path(__file__).parents[1] / "fixtures" / "landing_small"
LOADED_AT = datetime(2026, 3, 31, 2, 0)


def rows(cursor, sql: str) -> list[tuple]:
    cursor.execute(sql)
    return sorted(cursor.fetchall())


def test_purge_postgres_removes_the_person_and_their_bytes(postgres_server, tmp_path, monkeypatch):
    monkeypatch.setenv("CLOSEDLOOP_PII_KEY", "test-key")
    settings = load_settings(LANDING, tmp_path / "data")
    settings.data_dir.mkdir()
    requests = tmp_path / "requests"
    (requests / "erasure_requests").mkdir(parents=True)
    (requests / "erasure_requests" / "r.csv").write_text("requested_at,email,phone\n2026-03-30,annlee@gmail.com,\n")
    with duckdb.connect(str(settings.warehouse_path)) as con:
        ensure_raw_tables(con)
        for source in CONTRACTS:
            load_source(con, source, discover(LANDING, source), "night1", LOADED_AT)
        load_source(con, "erasure_requests", discover(requests, "erasure_requests"), "night1", LOADED_AT)
    pg_settings = postgres_server.create_database("erasure")
    copy_raw_to_postgres(settings.warehouse_path, pg_settings)
    pg = psycopg2.connect(**pg_settings)
    try:
        with pg, pg.cursor() as cur:  # a mart dbt would have built on the server
            cur.execute("create schema marts")
            cur.execute(
                "create table marts.fct_conversions as"
                " select * from (values ('D1', 'L1'), ('D2', 'L2')) as t(deal_id, lead_id)"
            )

        result = erase(settings, parse_request("Ann.Lee@gmail.com", None))
        removed = purge_postgres(pg_settings, result.keys)

        assert removed["raw.leads"] == 1 and removed["raw.touchpoints"] == 2 and removed["marts.fct_conversions"] == 1
        with pg.cursor() as cur:
            assert rows(cur, "select lead_id from raw.leads") == [("L2",), ("L3",)]
            assert ("t1",) not in rows(
                cur, "select touchpoint_id from raw.touchpoints"
            )  # the cookie seen with her email
            assert rows(cur, "select deal_id from raw.deals") == [("D2",), ("D3",)]
            assert rows(cur, "select lead_id from marts.fct_conversions") == [("L2",)]
            assert rows(cur, "select requested_at, email, phone from raw.erasure_requests") == [
                ("2026-03-30", None, None)
            ]
            # VACUUM FULL rewrote the table: her lead's bytes are not in its file, the others' are
            cur.execute("checkpoint")
            cur.execute("select pg_relation_filepath('raw.leads')")
            data = (postgres_server.data_dir / cur.fetchone()[0]).read_bytes()
        assert b"annlee@gmail.com" not in data and b"carol@corp.com" in data
        # the next copy brings nothing back: DuckDB no longer has her rows, and files are copied once
        assert set(copy_raw_to_postgres(settings.warehouse_path, pg_settings).values()) == {0}
    finally:
        pg.close()
