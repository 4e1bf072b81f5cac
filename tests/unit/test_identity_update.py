"""A night whose edges only add to last night's updates last night's people; anything else solves whole. Either
way the people are those a whole solve of tonight's edges gives (a real DuckDB file, random graphs)."""

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestration.lib.identity import read_blocklist_seed
from orchestration.lib.people import HASHES_TABLE, MOVES_TABLE, PEOPLE_TABLE, STATE_TABLE
from tests.identity_graph import build_warehouse, replace_edges, resolve

BLOCKLIST = read_blocklist_seed()
NAMES = [f"anon:{i}" for i in range(12)] + [f"email:u{i}@x.io" for i in range(8)] + [f"lead:L{i}" for i in range(6)]
JUNK = ["email:test@test.com", "phone:+15555555555"]  # blocked by the seed and by the phone rule
identifiers = st.sampled_from(NAMES + JUNK)
edges = st.lists(st.one_of(st.tuples(identifiers, identifiers), st.tuples(identifiers, st.none())), max_size=30)


def resolved(path):
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(f"select identifier, person_id from {PEOPLE_TABLE}").fetchall()
        people = dict(rows)
        assert len(people) == len(rows), "an identifier has more than one row"
        hashes = sorted(con.execute(f"select * from {HASHES_TABLE}").fetchall())
    return people, hashes


def moves_and_state(path):
    with duckdb.connect(str(path), read_only=True) as con:
        moves = dict(con.execute(f"select person_id, person_id_now from {MOVES_TABLE}").fetchall())
        state = con.execute(f"select resolved_at, updated_from from {STATE_TABLE}").fetchone()
    return moves, state


def solved_whole(tmp_path, night):
    path = build_warehouse(tmp_path / "whole.duckdb", night, BLOCKLIST)
    outcome = resolve(path)
    assert outcome.added_edges is None
    return resolved(path), outcome


@settings(max_examples=40, deadline=None)
@given(edges, edges)
def test_added_edges_update_last_nights_people_as_a_whole_solve_would(tmp_path_factory, first, more):
    tmp_path = tmp_path_factory.mktemp("nights")
    path = build_warehouse(tmp_path / "w.duckdb", first, BLOCKLIST)
    assert resolve(path).added_edges is None, "the first night has nothing to update"
    before, _ = resolved(path)
    first_moves, (first_resolved_at, first_updated_from) = moves_and_state(path)
    assert first_moves == {} and first_updated_from is None
    replace_edges(path, first + more)
    updated = resolve(path)
    expected, whole = solved_whole(tmp_path, first + more)
    assert updated.added_edges is not None
    assert resolved(path) == expected
    # the moves are exactly last night's people whose key changed, each to its key now
    moves, (resolved_at, updated_from) = moves_and_state(path)
    people_now = expected[0]
    assert moves == {person: people_now[i] for i, person in before.items() if people_now[i] != person}
    assert updated_from == first_resolved_at < resolved_at
    assert (updated.people, updated.identifiers, updated.duplicates) == (
        whole.people,
        whole.identifiers,
        whole.duplicates,
    )


def test_a_merge_keys_the_merged_person_by_its_smallest_identifier(tmp_path):
    path = build_warehouse(tmp_path / "w.duckdb", [("lead:L2", "email:b@x.io"), ("anon:9", "email:a@x.io")], [])
    resolve(path)
    replace_edges(path, [("lead:L2", "email:b@x.io"), ("anon:9", "email:a@x.io"), ("anon:9", "email:b@x.io")])
    assert resolve(path).added_edges == 1
    people, _ = resolved(path)
    assert len(set(people.values())) == 1
    assert (
        people
        == solved_whole(
            tmp_path, [("anon:9", "email:a@x.io"), ("anon:9", "email:b@x.io"), ("lead:L2", "email:b@x.io")]
        )[0][0]
    )


def test_nothing_new_changes_nothing(tmp_path):
    night = [("lead:L1", "email:a@x.io"), ("anon:1", None)]
    path = build_warehouse(tmp_path / "w.duckdb", night, [])
    resolve(path)
    before = resolved(path)
    assert resolve(path).added_edges == 0
    assert resolved(path) == before


def test_a_gone_edge_solves_whole_and_splits_the_person(tmp_path):
    path = build_warehouse(tmp_path / "w.duckdb", [("lead:L1", "email:a@x.io"), ("anon:1", "email:a@x.io")], [])
    resolve(path)
    replace_edges(path, [("lead:L1", "email:a@x.io"), ("anon:1", None)])
    assert resolve(path).added_edges is None
    people, _ = resolved(path)
    assert people["anon:1"] != people["lead:L1"]


def test_another_blocklist_solves_whole(tmp_path):
    night = [("lead:L1", "email:a@x.io"), ("lead:L2", "email:a@x.io")]
    path = build_warehouse(tmp_path / "w.duckdb", night, [])
    resolve(path)
    with duckdb.connect(str(path)) as con:
        con.execute("insert into seeds.identity_blocklist values ('a@x.io')")
    assert resolve(path).added_edges is None
    people, _ = resolved(path)
    assert "email:a@x.io" not in people and people["lead:L1"] != people["lead:L2"]


def test_people_rows_removed_since_solve_whole(tmp_path):
    """An erasure deletes the person's identity rows: the next night does not update what is no longer there."""
    night = [("lead:L1", "email:a@x.io"), ("lead:L2", "email:b@x.io")]
    path = build_warehouse(tmp_path / "w.duckdb", night, [])
    resolve(path)
    with duckdb.connect(str(path)) as con:
        con.execute(f"delete from {PEOPLE_TABLE} where identifier = 'email:b@x.io'")
    assert resolve(path).added_edges is None
    assert "email:b@x.io" in resolved(path)[0]


def test_a_run_that_stops_leaves_no_state_to_update_from(tmp_path):
    path = build_warehouse(tmp_path / "w.duckdb", [("lead:L1", "email:a@x.io")], [])
    resolve(path)
    replace_edges(path, [("lead:L1", "email:a@x.io"), (None, "email:b@x.io")])
    with pytest.raises(ValueError):
        resolve(path)
    replace_edges(path, [("lead:L1", "email:a@x.io")])
    assert resolve(path).added_edges == 0, "a run stopped before the state was dropped keeps it"


def test_a_run_that_stops_after_updating_the_people_solves_whole_the_next_night(tmp_path, monkeypatch):
    """The people table is updated where it is before the hashes are computed: a run that stops in between has
    dropped the state already, so the next night solves whole and gets the same people as a whole solve."""
    first = [("lead:L1", "email:a@x.io"), ("lead:L2", "email:b@x.io")]
    tonight = [*first, ("email:a@x.io", "email:b@x.io")]  # a merge: as many people rows as last night
    path = build_warehouse(tmp_path / "w.duckdb", first, BLOCKLIST)
    resolve(path)
    replace_edges(path, tonight)

    def stop(*_):
        raise RuntimeError("stopped")

    with monkeypatch.context() as patched:
        patched.setattr("orchestration.lib.people.primary_hashes", stop)
        with pytest.raises(RuntimeError):
            resolve(path)
    assert resolve(path).added_edges is None
    assert resolved(path) == solved_whole(tmp_path, tonight)[0]
