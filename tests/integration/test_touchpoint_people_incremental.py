"""int_touchpoint_people follows identity's update: on a night whose people update last night's, it assigns only the
touches loaded since and moves the touches of the people merged tonight, and the table equals a rebuild (real dbt,
identity run by Dagster, a real DuckDB file; the fixture tests/fixtures/landing_identity, then a second night)."""

import shutil
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dbt_runs import dbt

from orchestration.defs.identity.assets import identity_people
from orchestration.defs.resources import ClosedloopSettings
from orchestration.lib.contract import CONTRACTS
from orchestration.lib.landing import discover, ensure_raw_tables, load_source

FIXTURE = Path(__file__).parents[1] / "fixtures" / "landing_identity"
# the second night: c-lonely's cookie fills a form with Gina's email (her person and the lonely visitor's merge), a
# new cookie alone, and Ann's email without a cookie
NIGHT_2 = """touchpoint_id,occurred_at,anonymous_id,email,phone,touchpoint_type,page_url
t10,2026-04-02T10:00:00Z,c-lonely,gina@corp.io,,form_submit,https://www.acme.io/demo
t11,2026-04-03T10:00:00Z,c-new,,,page_view,https://www.acme.io/
t12,2026-04-04T10:00:00Z,,ann.lee@gmail.com,,form_submit,https://www.acme.io/demo
"""
GRAPH = ["--select", "+tag:identity_graph", "resource_type:seed"]
GRAPH += ["--exclude", "resource_type:test", "resource_type:unit_test"]
TOUCH_PEOPLE = ["--select", "+int_touchpoint_people", "--exclude", "tag:identity_graph"]
COMPILED_SQL = Path("target/compiled/closedloop/dbt_project/models/intermediate/identity/int_touchpoint_people.sql")
COLUMNS = "touchpoint_id, person_id, occurred_at, touch_loaded_at"


def night(data: Path, landing: Path, loaded_at: datetime) -> str:
    """Loads `landing`'s new files, builds the graph, resolves people and builds int_touchpoint_people; returns
    the SQL dbt compiled for it."""
    with duckdb.connect(str(data / "warehouse.duckdb")) as con:
        ensure_raw_tables(con)
        for source in CONTRACTS:
            load_source(con, source, discover(landing, source), run_id="test", loaded_at=loaded_at)
    assert dbt(["build", *GRAPH], data).success
    assert dg.materialize([identity_people], resources={"settings": ClosedloopSettings()}).success
    built = dbt(["run", *TOUCH_PEOPLE], data)
    assert built.success, built.message
    return (data / COMPILED_SQL).read_text()


def rows(data: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    data = tmp_path_factory.mktemp("touch_people")
    landing = tmp_path_factory.mktemp("landing")
    shutil.copytree(FIXTURE, landing, dirs_exist_ok=True)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CLOSEDLOOP_DATA_DIR", str(data))
        env.setenv("CLOSEDLOOP_DBT_TARGET", "duckdb")
        env.delenv("CLOSEDLOOP_PII_KEY", raising=False)
        first_sql = night(data, landing, datetime(2026, 4, 1))
        first = dict(rows(data, "select touchpoint_id, person_since from intermediate.int_touchpoint_people"))
        (landing / "touchpoints" / "touchpoints_2026-04.csv").write_text(NIGHT_2)
        second_sql = night(data, landing, datetime(2026, 4, 5))
        incremental = rows(data, f"select {COLUMNS}, person_since from intermediate.int_touchpoint_people")
        moves = rows(data, "select person_id, person_id_now from intermediate.identity_moves")
        rebuilt = dbt(["run", "--full-refresh", "--select", "int_touchpoint_people"], data)
        assert rebuilt.success, rebuilt.message
        rebuild = rows(data, f"select {COLUMNS} from intermediate.int_touchpoint_people")
    return {
        "first_sql": first_sql,
        "second_sql": second_sql,
        "first": first,
        "incremental": {row[0]: row for row in incremental},
        "moves": moves,
        "rebuild": sorted(rebuild),
    }


def test_the_second_night_reads_the_new_touches_and_moves_the_merged_people(nights):
    # the first build reads every touch; the second the touches loaded since, and the merged people's
    assert "moved as" not in nights["first_sql"] and "(select touches_through" not in nights["first_sql"]
    assert "moved as" in nights["second_sql"] and "(select touches_through" in nights["second_sql"]
    assert len(nights["moves"]) == 1  # the lonely visitor's person, merged into Gina's
    old, now = nights["moves"][0]
    touches = nights["incremental"]
    assert touches["t7"][1] == touches["t8"][1] == touches["t10"][1] == touches["t9"][1] == now != old


def test_it_equals_a_rebuild(nights):
    assert sorted(row[:4] for row in nights["incremental"].values()) == nights["rebuild"]
    assert {"t10", "t11", "t12"} <= set(nights["incremental"])
    assert len(nights["rebuild"]) == len(nights["first"]) + 3


def test_person_since_moves_only_with_the_person(nights):
    touches, first = nights["incremental"], nights["first"]
    assert touches["t7"][4] > first["t7"] and touches["t8"][4] > first["t8"]  # moved tonight
    assert all(touches[t][4] == first[t] for t in ("t1", "t2", "t3", "t5", "t6", "t9"))
