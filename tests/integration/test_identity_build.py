"""Identity resolution on a real warehouse: dbt staging (with the identity graph's view), the identity asset run by
Dagster, then dbt intermediate + marts — on a fixture with known duplicates and traps
(tests/fixtures/landing_identity)."""

from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dbt_runs import dbt

from orchestration.defs.identity.assets import CHECK, PEOPLE_KEY, identity_people
from orchestration.defs.resources import ClosedloopSettings
from orchestration.lib.contract import CONTRACTS
from orchestration.lib.landing import discover, ensure_raw_tables, load_source
from orchestration.lib.privacy import keyed_hash, pii_key

FIXTURE = Path(__file__).parents[1] / "fixtures" / "landing_identity"
# the pipeline's dbt selections (orchestration/defs/dbt/assets.py), without the quality gate's own views; the
# intermediate and marts phases run as one here (no Python model is under test), dbt unit tests left to test_dbt_build
STAGING = [
    "--select",
    "fqn:staging",
    "resource_type:seed",
    "tag:identity_graph",
    "--exclude",
    "resource_type:unit_test",
]
MARTS = [
    "--select",
    "fqn:intermediate",
    "resource_type:snapshot",
    "fqn:marts",
    "--exclude",
    "tag:identity_graph",
    "resource_type:unit_test",
]


def dbt_build(data: Path, selection: list[str]) -> None:
    result = dbt(["build", *selection], data)
    assert result.success, result.message


def materialize_identity() -> dg.ExecuteInProcessResult:
    result = dg.materialize([identity_people], resources={"settings": ClosedloopSettings()})
    assert result.success
    return result


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    data = tmp_path_factory.mktemp("identity")
    warehouse = data / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        ensure_raw_tables(con)
        for source in CONTRACTS:
            load_source(con, source, discover(FIXTURE, source), run_id="fixture", loaded_at=datetime(2026, 4, 1))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CLOSEDLOOP_DATA_DIR", str(data))
        env.setenv("CLOSEDLOOP_DBT_TARGET", "duckdb")
        env.delenv("CLOSEDLOOP_PII_KEY", raising=False)
        dbt_build(data, STAGING)
        # as the quality gate would: lead L10 is quarantined, so it links nobody
        with duckdb.connect(str(warehouse)) as con:
            con.execute("insert into quality.quarantined_keys values ('leads', 'L10')")
        first = materialize_identity()
        people_before = query(warehouse, "select identifier, person_id from intermediate.identity_people")
        rerun = materialize_identity()
        dbt_build(data, MARTS)
        key = pii_key(data)
    return {"warehouse": warehouse, "first": first, "rerun": rerun, "people_before": people_before, "key": key}


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def person_of(built, kind: str, key: str) -> str | None:
    table, column = {"lead": ("int_lead_people", "lead_id"), "touch": ("int_touchpoint_people", "touchpoint_id")}[kind]
    rows = query(built["warehouse"], f"select person_id from intermediate.{table} where {column} = '{key}'")
    return rows[0][0] if rows else None


def test_known_duplicates_are_one_person(built):
    ann = person_of(built, "lead", "L1")
    # gmail dots, +tag, case and spaces (L2); another email with the same phone in another format (L3)
    assert person_of(built, "lead", "L2") == ann and person_of(built, "lead", "L3") == ann
    # the cookie joins through the form; its earlier and later anonymous visits count for Ann
    assert {person_of(built, "touch", t) for t in ("t1", "t2", "t3")} == {ann}
    # an order by email (case, trailing space) and one through its lead_id with a second email
    bob = person_of(built, "lead", "L4")
    assert query(
        built["warehouse"],
        "select count(distinct person_id) from intermediate.identity_people"
        " where identifier in ('email:bob@corp.io', 'email:bobray@gmail.com', 'lead:L4')",
    ) == [(1,)]
    assert bob != ann
    # a phone-only lead and the cookie of a contact request with the same phone
    assert person_of(built, "touch", "t5") == person_of(built, "touch", "t6") == person_of(built, "lead", "L9")


def test_blocklisted_values_never_merge_people(built):
    junk = {person_of(built, "lead", "L5"), person_of(built, "lead", "L6"), person_of(built, "touch", "t4")}
    assert len(junk) == 3, "test@test.com merged people"
    assert person_of(built, "lead", "L7") != person_of(built, "lead", "L8"), "+1 888-888-8888 merged people"
    assert query(
        built["warehouse"],
        "select count(*) from intermediate.identity_people where identifier in"
        " ('email:test@test.com', 'phone:+18888888888')",
    ) == [(0,)]


def test_quarantined_lead_has_no_person(built):
    assert person_of(built, "lead", "L10") is None
    gina = person_of(built, "touch", "t9")  # her form fill still links her cookie and email
    row = query(built["warehouse"], f"select lead_count, is_anonymous from marts.dim_people where person_id = '{gina}'")
    assert row == [(0, False)]


def test_dim_people_merges_and_hashes(built):
    ann = person_of(built, "lead", "L1")
    columns = [
        r[0]
        for r in query(
            built["warehouse"],
            "select column_name from information_schema.columns"
            " where table_schema = 'marts' and table_name = 'dim_people'",
        )
    ]
    assert not {"email", "phone", "first_name", "last_name", "identifier"} & set(columns)
    row = query(
        built["warehouse"],
        f"""
        select original_source_channel, latest_source_channel, owner, lifecycle_stage, has_marketing_consent,
            consent_at, first_contact_at, lead_count, is_anonymous, email_hash, phone_hash
        from marts.dim_people where person_id = '{ann}'""",
    )[0]
    assert row[:9] == (
        "paid_search",
        "events",
        "carl",
        "opportunity",
        True,
        datetime(2026, 3, 15, 9),
        datetime(2026, 2, 20, 10),
        3,
        False,
    )
    # primary email: the alphabetically first of those on her leads; primary phone: her only one
    assert row[9:] == (keyed_hash("ann@leeco.io", built["key"]), keyed_hash("+14155550101", built["key"]))
    stages = dict(
        query(
            built["warehouse"],
            "select i.lead_id, p.lifecycle_stage from intermediate.int_lead_people i"
            " join marts.dim_people p using (person_id) where i.lead_id in ('L6', 'L7')",
        )
    )
    assert stages == {"L6": "disqualified", "L7": "recycled"}
    totals = query(built["warehouse"], "select count(*), count(*) filter (where is_anonymous) from marts.dim_people")
    # Ann, Bob, L5, L6, L7, L8, Frank, Gina; the cookies c-junk and c-lonely are anonymous visitors
    assert totals == [(10, 2)]


def test_lead_created_once_per_person(built):
    rows = query(
        built["warehouse"],
        "select lead_id, person_id from marts.fct_conversions where conversion_type = 'lead_created' order by lead_id",
    )
    assert [lead for lead, _ in rows] == ["L1", "L4", "L5", "L6", "L7", "L8", "L9"]
    merged = query(
        built["warehouse"], "select lead_id from intermediate.int_lead_people where is_merged_duplicate order by 1"
    )
    assert merged == [("L2",), ("L3",)]
    deal_person = query(built["warehouse"], "select person_id from marts.fct_conversions where deal_id = 'D2'")
    assert deal_person == [(person_of(built, "lead", "L1"),)]


def test_duplicate_contact_rate_is_a_warning(built):
    check = built["first"].get_asset_check_evaluations()[0]
    assert (check.check_name, check.passed, check.severity) == (CHECK, False, dg.AssetCheckSeverity.WARN)
    assert check.asset_key == PEOPLE_KEY
    metadata = built["first"].asset_materializations_for_node("identity_people")[0].metadata
    assert (metadata["people"].value, metadata["merged_leads"].value, metadata["leads"].value) == (10, 2, 9)
    rows = query(
        built["warehouse"],
        "select dataset, severity, passed, rows_checked, failing_rows,"
        " round(failing_rate, 4), sample_keys from quality.results where rule = 'duplicate_contact_rate'",
    )
    assert rows == [("leads", "warning", False, 9, 2, 0.2222, "L1, L2, L3")] * 2  # one row per run


def test_person_ids_are_stable_across_runs(built):
    again = query(built["warehouse"], "select identifier, person_id from intermediate.identity_people")
    assert sorted(again) == sorted(built["people_before"])
