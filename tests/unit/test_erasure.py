"""Erasure and the suppression list (docs/privacy.md) on real DuckDB files: the loader's filter, the purge, the
rewrite."""

from __future__ import annotations

import os
import subprocess
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from commands import closedloop as command

from orchestration.lib import suppression
from orchestration.lib.erasure import (
    ErasureError,
    apply_erasure_requests,
    erase,
    parse_request,
    rewrite_database,
)
from orchestration.lib.landing import discover, ensure_raw_tables, load_source
from orchestration.lib.lock import exclusive_lock
from orchestration.lib.privacy import keyed_hash
from orchestration.settings import load_settings

KEY = b"test-key"
LOADED_AT = datetime(2026, 11, 1, 2, 0)
LEAD_COLUMNS = (
    "lead_id,created_at,email,phone,first_name,last_name,source_channel,source_campaign,source_detail,"
    "first_contact_at,product_interest,segment,region,owner,lifecycle_stage"
)
LEAD_TAIL = "paid_search,brand,google,2026-03-01T07:00:00Z,crm,saas,emea,alice,new"
# Zebulon Quixotewright is erased; Ann Lee and Bob Ray stay
LANDING = {
    "leads/leads_1.csv": (
        f"{LEAD_COLUMNS}\n"
        f"L1,2026-03-01T08:00:00Z, Zeb.Quixote+crm@GoogleMail.com,(415) 555-0142,Zebulon,Quixotewright,{LEAD_TAIL}\n"
        f"L2,2026-03-01T09:00:00Z,annlee@acme.io,,Ann,Lee,{LEAD_TAIL}\n"
        f"L3,2026-03-01T10:00:00Z,bob@ray.io,+1 212 555 0199,Bob,Ray,{LEAD_TAIL}\n"
    ),
    "touchpoints/touchpoints_1.csv": (
        "touchpoint_id,occurred_at,anonymous_id,email,phone,touchpoint_type\n"
        "t1,2026-03-01T07:00:00Z,cookie-z,,,page_view\n"  # the cookie, seen alone
        "t2,2026-03-01T07:05:00Z,cookie-z,zebquixote@gmail.com,,form_submit\n"  # ... and with the email
        "t3,2026-03-01T07:10:00Z,,,415-555-0142,chat\n"  # the phone alone
        "t4,2026-03-01T07:15:00Z,cookie-a,annlee@acme.io,,form_submit\n"
        "t5,2026-03-01T07:20:00Z,cookie-b,,,page_view\n"
    ),
    "deals/deals_1.csv": (
        "deal_id,lead_id,created_at,stage,amount,currency,outcome,owner\n"
        "D1,L1,2026-03-05T10:00:00Z,qualification,100,USD,open,alice\n"
        "D2,L2,2026-03-05T10:00:00Z,qualification,200,USD,open,alice\n"
    ),
    "deal_stage_history/history_1.csv": (
        "deal_id,stage,entered_at\nD1,qualification,2026-03-05T10:00:00Z\nD2,qualification,2026-03-05T10:00:00Z\n"
    ),
    "activities/activities_1.csv": (
        "activity_id,lead_id,occurred_at,activity_type,owner\n"
        "A1,L1,2026-03-02T10:00:00Z,call,alice\nA2,L3,2026-03-02T10:00:00Z,call,bob\n"
    ),
    "orders/orders_1.csv": (
        "order_id,ordered_at,email,phone,lead_id,amount,currency\n"
        "O1,2026-04-01T10:00:00Z,,+14155550142,,50,USD\n"
        "O2,2026-04-01T10:00:00Z,bob@ray.io,,L3,70,USD\n"
    ),
}
ERASED_BYTES = (b"Quixotewright", b"Zebulon", b"zeb.quixote", b"zebquixote", b"555-0142", b"5550142", b"cookie-z")


def write_landing(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def load_all(con, landing: Path, key: bytes | None = KEY, run_id: str = "r1") -> dict:
    ensure_raw_tables(con)
    return {
        source: load_source(con, source, discover(landing, source), run_id, LOADED_AT, pii_key=key)
        for source in (
            "touchpoints",
            "leads",
            "deals",
            "deal_stage_history",
            "activities",
            "orders",
            "erasure_requests",
        )
    }


def ids(con, table: str, column: str) -> list[str]:
    return sorted(r[0] for r in con.execute(f"select {column} from {table}").fetchall())


@pytest.fixture(scope="module", autouse=True)
def manifest():
    """Erasure reads which columns hold personal data from the dbt manifest."""
    from orchestration.lib.prepare import prepare_dbt_manifest

    prepare_dbt_manifest()


@pytest.fixture()
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("CLOSEDLOOP_PII_KEY", KEY.decode())
    landing = write_landing(tmp_path / "landing", LANDING)
    settings = load_settings(landing, tmp_path / "data")
    settings.data_dir.mkdir()
    with duckdb.connect(str(settings.warehouse_path)) as con:
        load_all(con, landing)
        # what dbt and identity resolution leave downstream, keyed like the real models
        con.execute("create schema intermediate; create schema marts")
        con.execute("create table intermediate.identity_people (identifier varchar, person_id varchar)")
        con.execute(
            "insert into intermediate.identity_people values ('email:zebquixote@gmail.com', 'p_z'),"
            " ('phone:+14155550142', 'p_z'), ('anon:cookie-z', 'p_z'), ('lead:L1', 'p_z'),"
            " ('email:zq@work.example', 'p_z'), ('email:annlee@acme.io', 'p_a'), ('lead:L2', 'p_a')"
        )
        con.execute(
            "create table marts.fct_conversions as select * from (values ('c1', 'D1', 'L1', 100),"
            " ('c2', 'D2', 'L2', 200)) as t(conversion_id, deal_id, lead_id, value)"
        )
        con.execute(
            "create table marts.dim_people as"
            " select * from (values ('p_z', 'h1'), ('p_a', 'h2')) as t(person_id, email_hash)"
        )
        con.execute(
            "create table intermediate.int_touchpoints_classified as select trim(touchpoint_id) as touchpoint_id,"
            " anonymous_id, email, _phone_e164 as phone from raw.touchpoints"
        )
        con.execute("create table marts.dim_campaigns as select 'x' as campaign_id")  # no person column: untouched
        con.execute("create schema staging; create view staging.stg_crm__leads as select * from raw.leads")
    return settings


# --- the suppression filter of the loader ---------------------------------------------------------------------


def test_a_suppressed_cookie_is_left_out_in_another_case(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        ensure_raw_tables(con)
        now = datetime(2026, 5, 1)
        suppression.record(con, [("anon", suppression.canonical("anon", "Cookie-Z"))], KEY, now, now)
        landing = write_landing(
            tmp_path / "landing",
            {
                "touchpoints/t.csv": (
                    "touchpoint_id,occurred_at,anonymous_id,email,phone,touchpoint_type\n"
                    "t1,2026-03-01T07:00:00Z,COOKIE-Z,,,page_view\n"
                    "t2,2026-03-01T07:05:00Z, cookie-z ,,,page_view\n"
                    "t3,2026-03-01T07:10:00Z,cookie-a,,,page_view\n"
                )
            },
        )
        load = load_source(con, "touchpoints", discover(landing, "touchpoints"), "r1", LOADED_AT, pii_key=KEY)
        assert ids(con, "raw.touchpoints", "touchpoint_id") == ["t3"] and load.rows_suppressed == 2


def test_suppressed_rows_are_left_out_of_a_new_file_in_any_spelling(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        ensure_raw_tables(con)
        now = datetime(2026, 5, 1)
        suppression.record(
            con,
            [("email", "zebquixote@gmail.com"), ("phone", "+14155550142"), ("anon", "cookie-z"), ("lead", "L1")],
            KEY,
            now,
            now,
        )
        landing = write_landing(tmp_path / "landing", LANDING)
        loads = load_all(con, landing)
        assert ids(con, "raw.touchpoints", "touchpoint_id") == ["t4", "t5"]
        assert (loads["touchpoints"].rows, loads["touchpoints"].rows_suppressed) == (2, 3)
        assert ids(con, "raw.leads", "lead_id") == ["L2", "L3"] and loads["leads"].rows_suppressed == 1
        assert ids(con, "raw.deals", "deal_id") == ["D2"] and ids(con, "raw.activities", "activity_id") == ["A2"]
        assert ids(con, "raw.orders", "order_id") == ["O2"]
        # the erased phone never enters the phone cache; the others do
        assert ids(con, "raw._phone_numbers", "phone_e164") == ["+12125550199"]
        # lineage is the file's own line numbers
        assert con.execute("select _row_number from raw.touchpoints where touchpoint_id = 't4'").fetchone()[0] == 4
        assert (
            con.execute("select sum(row_count) from raw._loaded_files where source = 'touchpoints'").fetchone()[0] == 2
        )


def test_a_file_of_only_erased_people_is_loaded_not_refused(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        ensure_raw_tables(con)
        suppression.record(con, [("lead", "L9")], KEY, LOADED_AT, LOADED_AT)
        path = write_landing(
            tmp_path / "l",
            {"activities/a.csv": "activity_id,lead_id,occurred_at,activity_type,owner\nA9,L9,2026-03-02,call,x\n"},
        )
        load = load_source(con, "activities", discover(path, "activities"), "r", LOADED_AT, pii_key=KEY)
        assert (load.rows, load.rows_suppressed, load.files_loaded) == (0, 1, ["a.csv"])


def test_the_list_holds_hashes_only_and_needs_the_key_to_be_applied(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        ensure_raw_tables(con)
        assert suppression.record(con, [("email", "zebquixote@gmail.com")], KEY, LOADED_AT, LOADED_AT) == 1
        assert suppression.record(con, [("email", "zebquixote@gmail.com")], KEY, LOADED_AT, LOADED_AT) == 0
        assert con.execute("select identifier_hash, kind from raw._suppressed").fetchall() == [
            (keyed_hash("zebquixote@gmail.com", KEY), "email")
        ]
        landing = write_landing(tmp_path / "l", LANDING)
        with pytest.raises(Exception, match="PII key"):
            load_source(con, "leads", discover(landing, "leads"), "r", LOADED_AT)
        # sources without an identifier column of a suppressed kind load without the key
        assert load_source(con, "deals", discover(landing, "deals"), "r", LOADED_AT).rows == 2


def test_erasure_requests_are_never_filtered(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        ensure_raw_tables(con)
        suppression.record(con, [("email", "zebquixote@gmail.com")], KEY, LOADED_AT, LOADED_AT)
        path = write_landing(
            tmp_path / "l", {"erasure_requests/e.csv": "requested_at,email,phone\n2026-05-01,zebquixote@gmail.com,\n"}
        )
        assert (
            load_source(con, "erasure_requests", discover(path, "erasure_requests"), "r", LOADED_AT, pii_key=KEY).rows
            == 1
        )


# --- requests ---------------------------------------------------------------------------------------------------


def test_parse_request_normalises_and_refuses_nonsense():
    assert parse_request(" Zeb.Quixote+x@GoogleMail.com", None) == [("email", "zebquixote@gmail.com")]
    assert parse_request(None, "(415) 555-0142") == [("phone", "+14155550142")]
    assert parse_request(None, "020 7946 0958", "GB") == [("phone", "+442079460958")]
    assert parse_request("zeb@quixote.io", "12") == [("email", "zeb@quixote.io")]  # the usable part of a request
    for email, phone in (("not-an-email", None), (None, "12"), (None, None), ("", " "), ("nope", "12")):
        with pytest.raises(ErasureError):
            parse_request(email, phone)


# --- the purge ----------------------------------------------------------------------------------------------------


def test_erase_removes_the_person_everywhere_and_only_them(settings):
    result = erase(settings, parse_request("ZEBQUIXOTE@gmail.com", None), requested_at=datetime(2026, 5, 1))
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert ids(con, "raw.leads", "lead_id") == ["L2", "L3"]
        # t1: the cookie seen with the email; t3: the phone on the lead record
        assert ids(con, "raw.touchpoints", "touchpoint_id") == ["t4", "t5"]
        assert ids(con, "raw.deals", "deal_id") == ["D2"] and ids(con, "raw.deal_stage_history", "deal_id") == ["D2"]
        assert ids(con, "raw.activities", "activity_id") == ["A2"] and ids(con, "raw.orders", "order_id") == ["O2"]
        assert ids(con, "raw._phone_numbers", "phone_e164") == ["+12125550199"]
        assert ids(con, "intermediate.identity_people", "identifier") == ["email:annlee@acme.io", "lead:L2"]
        assert ids(con, "intermediate.int_touchpoints_classified", "touchpoint_id") == ["t4", "t5"]
        assert ids(con, "marts.fct_conversions", "lead_id") == ["L2"] and ids(con, "marts.dim_people", "person_id") == [
            "p_a"
        ]
        assert con.execute("select count(*) from marts.dim_campaigns").fetchone()[0] == 1
        assert (
            con.execute("select count(*) from staging.stg_crm__leads").fetchone()[0] == 2
        )  # views survive the rewrite
        kinds = dict(con.execute("select kind, count(*) from raw._suppressed group by 1").fetchall())
        # zq@work.example comes from identity resolution: suppressed although no raw row carried it
        assert kinds == {"email": 2, "phone": 1, "anon": 1, "lead": 1, "deal": 1}
        assert con.execute("select min(requested_at) from raw._suppressed").fetchone()[0] == datetime(2026, 5, 1)
    assert result.removed["raw.touchpoints"] == 3 and result.removed["marts.fct_conversions"] == 1
    assert result.rewritten == [settings.warehouse_path]
    data = settings.warehouse_path.read_bytes()
    assert [b for b in ERASED_BYTES if b in data] == []
    assert b"Bob" in data and b"annlee@acme.io" in data  # the bytes test can see what is still there


def test_without_the_identity_table_direct_matches_are_erased(settings):
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("drop table intermediate.identity_people")
    erase(settings, parse_request(None, "+1 415 555 0142"))
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        # the phone's lead record names the email, the email's touch names the cookie
        assert ids(con, "raw.touchpoints", "touchpoint_id") == ["t4", "t5"]
        assert ids(con, "raw.leads", "lead_id") == ["L2", "L3"] and ids(con, "raw.orders", "order_id") == ["O2"]


def test_deleted_rows_do_not_survive_in_free_pages(tmp_path):
    """The reason for the rewrite: DuckDB keeps a deleted row's bytes in its old blocks."""
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create table t as select md5(cast(i as varchar)) as name from range(50000) as r(i)")
        con.execute("insert into t values ('Quixotewright')")
        con.execute("create view v as select count(*) as n from t")
    with duckdb.connect(str(path)) as con:
        con.execute("delete from t where name = 'Quixotewright'")
        con.execute("checkpoint")
    assert b"Quixotewright" in path.read_bytes()
    rewrite_database(path)
    assert b"Quixotewright" not in path.read_bytes()
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("select n from v").fetchone()[0] == 50000
    assert not list(tmp_path.glob(".*tmp*"))


def test_the_serving_file_is_rebuilt_without_the_person(settings):
    from orchestration.lib.publish import publish

    publish(settings.warehouse_path, settings.serving_path, "run1")
    reader = duckdb.connect(str(settings.serving_path), read_only=True)
    try:
        result = erase(settings, parse_request("zebquixote@gmail.com", None))
        # a BI reader of the old file keeps reading it whole, like after a publish
        assert reader.execute("select count(*) from marts.fct_conversions").fetchone()[0] == 2
    finally:
        reader.close()
    with duckdb.connect(str(settings.serving_path), read_only=True) as con:
        assert ids(con, "marts.fct_conversions", "lead_id") == ["L2"]
        assert ids(con, "marts.dim_people", "person_id") == ["p_a"]
        assert con.execute("select count(*) from marts.dim_campaigns").fetchone()[0] == 1
    assert result.removed["serving: marts.fct_conversions"] == 1
    assert settings.serving_path in result.rewritten


def test_erase_before_any_run_records_the_suppression(tmp_path, monkeypatch):
    monkeypatch.setenv("CLOSEDLOOP_PII_KEY", KEY.decode())
    settings = load_settings(tmp_path / "landing", tmp_path / "data")
    result = erase(settings, parse_request(None, "415 555 0142"))
    assert (result.rows_removed, result.suppressed, result.rewritten) == (0, 1, [])
    landing = write_landing(tmp_path / "landing", LANDING)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        assert con.execute("select kind from raw._suppressed").fetchall() == [("phone",)]
        loads = load_all(con, landing)
        assert ids(con, "raw.touchpoints", "touchpoint_id") == ["t1", "t2", "t4", "t5"]
        assert loads["leads"].rows_suppressed == 1 and loads["orders"].rows_suppressed == 1


# --- delivered requests -----------------------------------------------------------------------------------------


def test_delivered_requests_are_applied_once_and_cleared(settings):
    requests = write_landing(
        settings.landing_dir,
        {
            "erasure_requests/r.csv": (
                "requested_at,email,phone,ticket\n"
                "2026-05-02T10:00:00+02:00,Zeb.Quixote@gmail.com,,T-1\n2026-05-02,nobody-at-all,,T-2\n"
            )
        },
    )
    with duckdb.connect(str(settings.warehouse_path)) as con:
        load_source(con, "erasure_requests", discover(requests, "erasure_requests"), "r2", LOADED_AT, pii_key=KEY)
    result = apply_erasure_requests(settings)
    assert (result.requests, result.unusable) == (1, 1)
    assert result.removed["raw.leads"] == 1 and result.removed["raw.erasure_requests"] == 2
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert ids(con, "raw.leads", "lead_id") == ["L2", "L3"]
        rows = con.execute(
            "select requested_at, email, phone, _phone_e164, json_extract_string(_extra, '$.erasure'),"
            " _extra like '%T-%' from raw.erasure_requests order by 1"
        ).fetchall()
        assert rows == [
            ("2026-05-02", None, None, None, "unusable", False),
            ("2026-05-02T10:00:00+02:00", None, None, None, "applied", False),
        ]
        assert con.execute("select min(requested_at) from raw._suppressed").fetchone()[0] == datetime(2026, 5, 2, 8)
    assert b"nobody-at-all" not in settings.warehouse_path.read_bytes()
    again = apply_erasure_requests(settings)
    assert (again.requests, again.rows_removed, again.rewritten) == (0, 0, [])


# --- the command --------------------------------------------------------------------------------------------------


def closedloop(*args: str) -> subprocess.CompletedProcess:
    return command(*args, env={**os.environ, "CLOSEDLOOP_PII_KEY": KEY.decode()}, timeout=120)


def test_command_exit_codes(settings, tmp_path):
    data = str(settings.data_dir)
    assert closedloop("erase", "--data-dir", data).returncode == 2
    assert closedloop("erase", "--email", "a@b.io", "--phone", "4155550142", "--data-dir", data).returncode == 2
    bad = closedloop("erase", "--email", "not an email", "--data-dir", data)
    assert bad.returncode == 2 and "not a valid email" in bad.stderr
    assert closedloop("erase", "--phone", "12", "--data-dir", data).returncode == 2
    with exclusive_lock(settings.data_dir / ".closedloop.lock"):
        busy = closedloop("erase", "--email", "zebquixote@gmail.com", "--data-dir", data)
    assert busy.returncode == 2 and "one writer at a time" in busy.stderr
    done = closedloop("erase", "--email", "Zeb.Quixote@gmail.com", "--data-dir", data)
    assert done.returncode == 0, done.stderr
    assert "raw.leads" in done.stdout and "marts.fct_conversions" in done.stdout and "raw._suppressed" in done.stdout
    fresh = closedloop("erase", "--phone", "+44 20 7946 0958", "--data-dir", str(tmp_path / "fresh"))
    assert fresh.returncode == 0 and "none" in fresh.stdout
