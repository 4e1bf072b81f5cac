"""A night whose only new records are touchpoints not delivered before reads the edges of those touchpoints and the
leads' and orders' edges, not every touchpoint's; anything else reads every edge. Either way the people are those a
whole solve of tonight's edges gives (a real DuckDB file, random graphs)."""

from datetime import datetime, timedelta

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestration.lib.people import PEOPLE_TABLE
from tests.identity_graph import (
    build_split_warehouse,
    build_warehouse,
    deliver_touchpoints,
    replace_record_edges,
    resolve,
)

NIGHT = datetime(2026, 3, 1, 2, 0)
COOKIES = [f"anon:{i}" for i in range(10)]
CONTACTS = [f"email:u{i}@x.io" for i in range(6)] + ["phone:+14155550101", "email:test@test.com"]
LEADS = [f"lead:L{i}" for i in range(5)]
touch = st.lists(
    st.tuples(st.sampled_from(COOKIES), st.one_of(st.none(), st.sampled_from(CONTACTS))), min_size=1, max_size=2
)
touches = st.lists(touch, max_size=8)
first_touches = st.lists(touch, min_size=1, max_size=8)  # a night without any touchpoint reads every edge after it
record_edges = st.lists(st.tuples(st.sampled_from(LEADS), st.one_of(st.none(), st.sampled_from(CONTACTS))), max_size=6)


def people(path):
    with duckdb.connect(str(path), read_only=True) as con:
        return dict(con.execute(f"select identifier, person_id from {PEOPLE_TABLE}").fetchall())


def whole(tmp_path, path):
    """The people of a whole solve of `path`'s edges tonight."""
    with duckdb.connect(str(path), read_only=True) as con:
        edges = con.execute("select left_identifier, right_identifier from intermediate.int_identity__edges").fetchall()
    other = build_warehouse(tmp_path / "whole.duckdb", edges, ["test@test.com"])
    assert resolve(other).added_edges is None
    return people(other)


def ids(prefix, items):
    return {f"{prefix}{i}": edges for i, edges in enumerate(items)}


@settings(max_examples=12, deadline=None)
@given(record_edges, first_touches, record_edges, touches)
def test_new_touchpoints_update_people_as_a_whole_solve_would(tmp_path_factory, records, first, more_records, then):
    tmp_path = tmp_path_factory.mktemp("nights")
    path = build_split_warehouse(tmp_path / "w.duckdb", records, ["test@test.com"])
    deliver_touchpoints(path, ids("t", first), NIGHT)
    assert resolve(path).read_all_edges, "the first night reads every edge"
    replace_record_edges(path, records + more_records)  # the leads' and orders' edges only grow
    deliver_touchpoints(path, ids("n", then), NIGHT + timedelta(days=1))
    outcome = resolve(path)
    assert not outcome.read_all_edges and outcome.added_edges is not None
    assert people(path) == whole(tmp_path, path)


def test_a_touchpoint_delivered_again_reads_every_edge_and_splits_the_person(tmp_path):
    path = build_split_warehouse(tmp_path / "w.duckdb", [("lead:L1", "email:a@x.io")], [])
    deliver_touchpoints(path, {"t1": [("anon:1", "email:a@x.io")]}, NIGHT)
    resolve(path)
    assert people(path)["anon:1"] == people(path)["lead:L1"]
    deliver_touchpoints(path, {"t1": [("anon:1", None)]}, NIGHT + timedelta(days=1))  # the cookie without the email
    outcome = resolve(path)
    assert outcome.read_all_edges and outcome.added_edges is None, "an edge is gone: solved whole"
    assert people(path)["anon:1"] != people(path)["lead:L1"]
    assert people(path) == whole(tmp_path, path)


def test_a_touchpoint_row_gone_reads_every_edge(tmp_path):
    """An unloaded file or an erased person takes staged touchpoint rows away, and their edges with them."""
    path = build_split_warehouse(tmp_path / "w.duckdb", [("lead:L1", "email:a@x.io")], [])
    deliver_touchpoints(path, {"t1": [("anon:1", "email:a@x.io")], "t2": [("anon:2", None)]}, NIGHT)
    resolve(path)
    with duckdb.connect(str(path)) as con:
        con.execute("delete from staging.stg_web__touchpoints where touchpoint_id = 't1'")
        con.execute("delete from intermediate.int_identity__touchpoint_edges where touchpoint_id = 't1'")
    deliver_touchpoints(path, {"t3": [("anon:3", "email:b@x.io")]}, NIGHT + timedelta(days=1))
    outcome = resolve(path)
    assert outcome.read_all_edges and outcome.added_edges is None
    assert "anon:1" not in people(path)
    assert people(path) == whole(tmp_path, path)


def test_a_lead_edge_gone_reads_every_edge(tmp_path):
    path = build_split_warehouse(tmp_path / "w.duckdb", [("lead:L1", "email:a@x.io"), ("lead:L2", "email:a@x.io")], [])
    deliver_touchpoints(path, {"t1": [("anon:1", "email:b@x.io")]}, NIGHT)
    resolve(path)
    replace_record_edges(path, [("lead:L1", "email:a@x.io"), ("lead:L2", "email:c@x.io")])  # L2's email corrected
    deliver_touchpoints(path, {"t2": [("anon:2", None)]}, NIGHT + timedelta(days=1))
    outcome = resolve(path)
    assert outcome.read_all_edges and outcome.added_edges is None
    assert people(path)["lead:L1"] != people(path)["lead:L2"]
    assert people(path) == whole(tmp_path, path)


def test_touchpoints_after_a_night_without_any_are_read(tmp_path):
    path = build_split_warehouse(tmp_path / "w.duckdb", [("lead:L1", "email:a@x.io")], [])
    resolve(path)
    deliver_touchpoints(path, {"t1": [("anon:1", "email:a@x.io")]}, NIGHT)
    outcome = resolve(path)
    assert outcome.read_all_edges and outcome.added_edges == 1
    assert people(path)["anon:1"] == people(path)["lead:L1"]


def test_nothing_new_reads_no_touchpoint(tmp_path):
    path = build_split_warehouse(tmp_path / "w.duckdb", [("lead:L1", "email:a@x.io")], [])
    deliver_touchpoints(path, {"t1": [("anon:1", "email:a@x.io")]}, NIGHT)
    resolve(path)
    before = people(path)
    outcome = resolve(path)
    assert not outcome.read_all_edges and outcome.added_edges == 0
    assert "from the touchpoints loaded since" in outcome.describe()
    assert people(path) == before
