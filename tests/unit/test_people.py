"""The identity step around the components: primary hashes, the duplicate-contact rate, the tables it writes, on a
real DuckDB file through the target-agnostic warehouse functions."""

from datetime import datetime

import duckdb
import pyarrow as pa
import pytest

from orchestration.lib.people import HASHES_TABLE, PEOPLE_TABLE
from orchestration.lib.privacy import keyed_hash
from orchestration.lib.warehouse import open_warehouse
from tests.identity_graph import KEY, build_warehouse, resolve

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


@pytest.fixture()
def warehouse(tmp_path):
    """A DuckDB warehouse with the tables dbt would have created: the edges, the blocklist seed, quality.results."""
    return build_warehouse(tmp_path / "warehouse.duckdb", EDGES, ["test@test.com"])


def people_and_hashes(path):
    with duckdb.connect(str(path), read_only=True) as con:
        people = dict(con.execute(f"select identifier, person_id from {PEOPLE_TABLE}").fetchall())
        hashes = {row[0]: row[1:] for row in con.execute(f"select * from {HASHES_TABLE}").fetchall()}
    return people, hashes


def test_primary_email_is_the_first_on_a_lead_and_hashed_without_prefix(warehouse):
    resolve(warehouse)
    people, hashes = people_and_hashes(warehouse)
    assert hashes[people["lead:L1"]] == (keyed_hash("ann@acme.io", KEY), keyed_hash("+14155550101", KEY))
    assert hashes[people["email:solo@corp.io"]] == (keyed_hash("solo@corp.io", KEY), None)
    # L3 (only a blocklisted email) and the anonymous cookie have nothing to hash
    assert len(hashes) == 2


def test_an_edge_without_a_left_identifier_stops_identity_resolution(tmp_path):
    path = build_warehouse(tmp_path / "w.duckdb", [*EDGES, (None, "email:x@corp.io")], [])
    with pytest.raises(ValueError, match="1 edge"):
        resolve(path)
    with duckdb.connect(str(path), read_only=True) as con:
        left = con.execute("select table_name from information_schema.tables where table_schema = 'intermediate'")
        assert [row[0] for row in left.fetchall()] == ["int_identity__edges"], "scratch tables stay behind"


def test_duplicate_contacts_counts_leads_beyond_a_persons_first(warehouse):
    result = resolve(warehouse).duplicates
    assert (result.leads, result.people_with_leads, result.merged_leads) == (3, 2, 1)
    assert result.rate == pytest.approx(1 / 3)
    assert result.sample_lead_ids == ["L1", "L2"]


def test_no_leads_no_rate(tmp_path):
    assert resolve(build_warehouse(tmp_path / "w.duckdb", [("anon:c1", None)], [])).duplicates.rate is None


def test_resolve_identity_writes_people_hashes_and_the_rate(warehouse):
    outcome = resolve(warehouse, now=datetime(2026, 4, 1, 2), max_rate=0.5)
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
    outcome = resolve(warehouse, max_rate=0.05)
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
