"""The identity step around resolve_people: primary hashes, the duplicate-contact rate, the tables it writes, on a
real DuckDB file through the target-agnostic warehouse functions."""

from datetime import datetime

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from orchestration.lib.people import (
    HASHES_TABLE,
    PEOPLE_TABLE,
    duplicate_contacts,
    edges_frame,
    people_from_edges,
    primary_hashes,
    resolve_identity,
)
from orchestration.lib.privacy import keyed_hash
from orchestration.lib.warehouse import open_warehouse

KEY = b"test-key"
EDGES = [
    ("lead:L1", "email:zed@acme.io"),
    ("lead:L1", "phone:+14155550101"),
    ("lead:L2", "email:ann@acme.io"),  # same person as L1 through the touch below
    ("anon:c1", "email:zed@acme.io"),
    ("anon:c1", "email:aaa@acme.io"),  # only on a touch: not the primary while a lead's email exists
    ("anon:c1", "email:ann@acme.io"),
    ("lead:L3", "email:test@test.com"),
    ("anon:c2", None),
    ("email:solo@corp.io", None),
]


def edges(rows=EDGES) -> pd.DataFrame:
    return edges_frame(
        pa.table(
            {
                "left_identifier": pa.array([r[0] for r in rows], pa.string()),
                "right_identifier": pa.array([r[1] for r in rows], pa.string()),
            }
        )
    )


def test_primary_email_is_the_first_on_a_lead_and_hashed_without_prefix():
    people = people_from_edges(edges(), ["test@test.com"])
    hashes = primary_hashes(people, edges(), KEY).set_index("person_id")
    person = people.set_index("identifier").loc["lead:L1", "person_id"]
    assert hashes.loc[person, "email_hash"] == keyed_hash("ann@acme.io", KEY)
    assert hashes.loc[person, "phone_hash"] == keyed_hash("+14155550101", KEY)
    solo = people.set_index("identifier").loc["email:solo@corp.io", "person_id"]
    assert hashes.loc[solo, "email_hash"] == keyed_hash("solo@corp.io", KEY) and pd.isna(hashes.loc[solo, "phone_hash"])
    # L3 (only a blocklisted email) and the anonymous cookie have nothing to hash
    assert len(hashes) == 2


def test_an_edge_without_a_left_identifier_stops_identity_resolution():
    with pytest.raises(ValueError, match="1 edge"):
        edges([*EDGES, (None, "email:x@corp.io")])


def test_duplicate_contacts_counts_leads_beyond_a_persons_first():
    result = duplicate_contacts(people_from_edges(edges(), ["test@test.com"]))
    assert (result.leads, result.people_with_leads, result.merged_leads) == (3, 2, 1)
    assert result.rate == pytest.approx(1 / 3)
    assert result.sample_lead_ids == ["L1", "L2"]
    assert duplicate_contacts(people_from_edges(edges([("anon:c1", None)]), [])).rate is None


@pytest.fixture()
def warehouse(tmp_path):
    """A DuckDB warehouse with the tables dbt would have created: the edges, the blocklist seed, quality.results."""
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        for schema in ("intermediate", "seeds", "quality"):
            con.execute(f"create schema {schema}")
        con.execute("create table intermediate.int_identity__edges (left_identifier varchar, right_identifier varchar)")
        con.executemany("insert into intermediate.int_identity__edges values (?, ?)", EDGES)
        con.execute("create table seeds.identity_blocklist as select 'test@test.com' as pattern")
        con.execute(
            "create table quality.results (run_id varchar, dataset varchar, rule varchar, expectation varchar,"
            " severity varchar, passed boolean, rows_checked bigint, failing_rows bigint, failing_rate float8,"
            " sample_keys varchar, checked_at timestamp)"
        )
    return path


def test_resolve_identity_writes_people_hashes_and_the_rate(warehouse):
    with open_warehouse("duckdb", warehouse) as target:
        outcome = resolve_identity(target, KEY, "run-1", 0.5, now=datetime(2026, 4, 1, 2))
    assert (outcome.people, outcome.identifiers, outcome.anonymous_people, outcome.hashed_people) == (4, 10, 1, 2)
    assert outcome.passed and "1 of 3 leads" in outcome.describe()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(f"select count(*), count(distinct person_id) from {PEOPLE_TABLE}").fetchone() == (10, 4)
        assert con.execute(f"select count(*) from {HASHES_TABLE}").fetchone() == (2,)
        assert con.execute("select * from quality.results").fetchall() == [
            (
                "run-1",
                "leads",
                "duplicate_contact_rate",
                "(leads - people with leads) / leads <= 0.5",
                "warning",
                True,
                3,
                1,
                pytest.approx(1 / 3),
                "L1, L2",
                datetime(2026, 4, 1, 2),
            )
        ]


def test_a_run_without_leads_fails_the_check(warehouse):
    with duckdb.connect(str(warehouse)) as con:
        con.execute("delete from intermediate.int_identity__edges where left_identifier like 'lead:%'")
    with open_warehouse("duckdb", warehouse) as target:
        outcome = resolve_identity(target, KEY, "run-1", 0.05)
    assert not outcome.passed and "no leads" in outcome.describe()


def test_warehouse_reads_text_and_replaces_tables_in_one_transaction(warehouse):
    with open_warehouse("duckdb", warehouse) as target:
        assert target.read_text("select 1 as n, null as x").to_pylist() == [{"n": "1", "x": None}]
        bad = pa.table({"no_such_column": ["x"]})
        with pytest.raises(duckdb.Error):
            target.write(
                replace={PEOPLE_TABLE: pa.table({"identifier": ["a"], "person_id": ["p"]})},
                append={"quality.results": bad},
            )
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
    assert "identity_people" not in tables, "a failed write left a table behind"


def test_unknown_target_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown dbt target"), open_warehouse("sparkle", tmp_path / "w.duckdb"):
        pass
