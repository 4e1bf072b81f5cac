"""A night with nothing new: what the last published night recorded, against real files and a real DuckDB file."""

import dataclasses
import json
import os
from datetime import datetime

import duckdb
import pytest

from orchestration.lib import landing
from orchestration.lib.landing import ensure_raw_tables, file_hash, load_source
from orchestration.lib.night_state import STATE_FILE, nothing_new, record_published_night, remember_landing_hashes
from orchestration.settings import Settings

HEADER = "deal_id,lead_id,created_at,updated_at,stage,amount,currency,closed_at,outcome,loss_reason,product,owner"
ROW = "D1,L1,2026-03-05T10:00:00Z,,qualification,100,USD,,open,,crm,alice"


@pytest.fixture()
def night(tmp_path):
    """A data dir after a published night: one deals file loaded, a serving file, the state recorded."""
    settings = Settings(landing_dir=tmp_path / "landing", data_dir=tmp_path / "data")
    deals = settings.landing_dir / "deals" / "deals_2026-03.csv"
    deals.parent.mkdir(parents=True)
    deals.write_text(f"{HEADER}\n{ROW}\n")
    settings.data_dir.mkdir()
    with duckdb.connect(str(settings.warehouse_path)) as con:
        ensure_raw_tables(con)
        load_source(con, "deals", [deals], run_id="night-1", loaded_at=datetime(2026, 11, 1))
    with duckdb.connect(str(settings.serving_path)) as con:
        con.execute("create table published as select 1 as x")
    record_published_night(settings, "night-1")
    landing._known_hashes.clear()  # a new process: nothing hashed yet
    return settings, deals


def test_nothing_new_names_the_published_night(night):
    settings, _ = night
    assert nothing_new(settings) == "night-1"


def test_no_recorded_night_runs(tmp_path):
    settings = Settings(landing_dir=tmp_path / "landing", data_dir=tmp_path / "data")
    assert nothing_new(settings) is None


def test_a_file_touched_or_copied_again_is_not_new(night):
    settings, deals = night
    os.utime(deals, ns=(1, 1))
    (deals.parent / "deals_copy.csv").write_bytes(deals.read_bytes())
    assert nothing_new(settings) == "night-1"


def test_a_new_or_changed_file_is_new(night):
    settings, deals = night
    (deals.parent / "deals_2026-04.csv").write_text(f"{HEADER}\n{ROW.replace('D1', 'D2')}\n")
    assert nothing_new(settings) is None
    (deals.parent / "deals_2026-04.csv").unlink()
    deals.write_text(f"{HEADER}\n{ROW.replace('100', '101')}\n")
    assert nothing_new(settings) is None


def test_a_changed_setting_runs(night):
    settings, _ = night
    assert nothing_new(dataclasses.replace(settings, mql_threshold=41)) is None
    # how a run looks is not what it publishes
    assert nothing_new(dataclasses.replace(settings, quiet=True)) == "night-1"
    # a local Spark session's Thrift port is chosen afresh each run (the published night recorded it)
    assert nothing_new(dataclasses.replace(settings, spark_port=41234)) == "night-1"


def test_an_unloaded_file_runs(night):
    settings, _ = night
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("delete from raw._loaded_files")
    assert nothing_new(settings) is None


def test_a_serving_file_replaced_or_written_by_hand_runs(night):
    settings, _ = night
    wal = settings.serving_path.with_name(settings.serving_path.name + ".wal")
    wal.write_bytes(b"left by a read-write session that was killed")
    assert nothing_new(settings) is None
    wal.unlink()
    with duckdb.connect(str(settings.serving_path)) as con:  # a BI tool writing into it
        con.execute("create table mine as select 2 as y")
    assert nothing_new(settings) is None
    record_published_night(settings, "night-2")
    assert nothing_new(settings) == "night-2"
    settings.serving_path.unlink()
    assert nothing_new(settings) is None


def test_the_recorded_hashes_spare_reading_unchanged_files(night):
    settings, deals = night
    state = json.loads((settings.data_dir / STATE_FILE).read_text())
    state["files"]["deals/deals_2026-03.csv"][2] = "recorded"
    (settings.data_dir / STATE_FILE).write_text(json.dumps(state))
    remember_landing_hashes(settings)
    assert file_hash(deals) == "recorded"
    deals.write_text(f"{HEADER}\n{ROW}\n\n")  # changed by size: read again
    assert file_hash(deals) != "recorded"
