"""Identity resolution in SQL on a real DuckDB file: known duplicates, junk identifiers, order independence, and
the components against scipy's as an oracle."""

import hashlib
import itertools
import random as random_module

import duckdb
import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from orchestration.lib.identity import blocked_sql, read_blocklist_seed
from tests.identity_graph import people_of

BLOCKLIST = read_blocklist_seed()  # the seed file the pipeline loads into the warehouse


def people(pairs, singles=()):
    return people_of(pairs, singles, BLOCKLIST)


def blocked(values, patterns=()):
    """Which of `values` the SQL rule blocks, in order."""
    con = duckdb.connect()
    con.register("identifiers", pa.table({"identifier": pa.array(values, pa.string())}))
    con.register("patterns", pa.table({"pattern": pa.array(list(patterns), pa.string())}))
    junk = {row[0] for row in con.execute(blocked_sql("identifiers", "patterns")).fetchall()}
    return [value in junk for value in values]


def test_shared_email_phone_and_cookie_make_one_person():
    mapping = people(
        [
            ("email:ann@gmail.com", "phone:+14155550101"),  # lead L1
            ("phone:+14155550101", "email:ann@work.io"),  # lead L2, same phone
            ("anon:c1", "email:ann@work.io"),  # form fill on cookie c1
        ],
        singles=["anon:c2", "email:bob@corp.io"],
    )
    ann = {mapping[k] for k in ("email:ann@gmail.com", "phone:+14155550101", "email:ann@work.io", "anon:c1")}
    assert len(ann) == 1
    assert len({mapping["anon:c2"], mapping["email:bob@corp.io"], ann.pop()}) == 3


def test_blocklisted_values_never_link_people():
    mapping = people(
        [
            ("email:ann@corp.io", "phone:+11111111111"),
            ("email:bob@corp.io", "phone:+11111111111"),
            ("email:carl@corp.io", "email:test@test.com"),
            ("email:dan@corp.io", "email:test@test.com"),
        ]
    )
    assert len({mapping[f"email:{n}@corp.io"] for n in ("ann", "bob", "carl", "dan")}) == 4
    assert "phone:+11111111111" not in mapping and "email:test@test.com" not in mapping


def test_blocked_rules():
    values = [
        "email:x@example.com",
        "email:noreply@acme.io",
        "phone:+15555555555",
        "phone:+14155550101",
        "email:ann@acme.io",
        "anon:1111",
    ]
    assert blocked(values, BLOCKLIST) == [True, True, True, False, False, False]
    assert blocked(["phone:+1 111-111-1111", "phone:+111111", "phone:+4412222222"]) == [True, False, True]


def test_blocklist_patterns_are_addresses_domains_or_mailboxes():
    values = [
        "email:test@test.com",
        "email:ann@sub.test.com",
        "email:ann@test.com",
        "email:noreply@acme.io",
        "email:info@acme.io",
        "email:ann@example.net",
        "phone:+14155550101",
        "anon:test@test.com",
    ]
    patterns = [" Test@Test.com", "@test.com", "noreply@", "@example.net", "", None]
    assert blocked(values, patterns) == [True, False, True, True, False, True, False, False]
    assert not any(blocked(values)[:6]), "without a blocklist only the phone rule applies"
    assert {"test@test.com", "@example.com", "noreply@"} <= set(BLOCKLIST)


def test_person_ids_are_stable_keys():
    mapping = people([("email:a@x.io", "anon:1")])
    assert mapping["email:a@x.io"] == mapping["anon:1"]
    # the MD5 of the component's smallest identifier, by its bytes: any engine computes the same
    assert mapping["anon:1"] == "p_" + hashlib.md5(b"anon:1").hexdigest()[:16]
    assert people([("anon:1", "email:a@x.io")]) == mapping
    assert people([("email:Zed@x.io", "email:zed@x.io")])["email:zed@x.io"] == (
        "p_" + hashlib.md5(b"email:Zed@x.io").hexdigest()[:16]
    ), "upper case sorts before lower case, as bytes do"


def oracle(pairs, singles=()):
    """The components scipy finds, as a set of frozensets of identifiers (blocklisted ones left out)."""
    names = sorted({x for pair in pairs for x in pair} | set(singles))
    names = [name for name, junk in zip(names, blocked(names, BLOCKLIST), strict=True) if not junk]
    index = {name: i for i, name in enumerate(names)}
    linked = [(index[a], index[b]) for a, b in pairs if a in index and b in index]
    a, b = (np.array(side, dtype=int) for side in zip(*linked, strict=True)) if linked else (np.array([], int),) * 2
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(len(names), len(names)))
    _, labels = connected_components(graph, directed=False)
    return {frozenset(n for n, label in zip(names, labels, strict=True) if label == k) for k in set(labels)}


def components(mapping):
    by_person = {}
    for identifier, person in mapping.items():
        by_person.setdefault(person, set()).add(identifier)
    return {frozenset(members) for members in by_person.values()}


def test_long_chains_in_any_order_are_one_person():
    """A chain of 300 identifiers linked in shuffled order: one person, found in a few rounds (pointer jumping)."""
    names = [f"anon:{i:04d}" for i in range(300)]
    random_module.Random(7).shuffle(names)
    pairs = list(itertools.pairwise(names))
    random_module.Random(8).shuffle(pairs)
    mapping = people(pairs)
    assert len(set(mapping.values())) == 1
    assert mapping[names[0]] == "p_" + hashlib.md5(b"anon:0000").hexdigest()[:16]


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=2, max_value=60), st.integers(min_value=0, max_value=90), st.randoms())
def test_components_are_scipys(nodes, edges, random):
    names = [f"anon:{i}" for i in range(nodes)] + ["phone:+15555555555", "email:test@test.com"]
    pairs = [(random.choice(names), random.choice(names)) for _ in range(edges)]
    singles = random.sample(names, min(3, len(names)))
    assert components(people(pairs, singles)) == oracle(pairs, singles)


identifiers = st.sampled_from(
    [f"email:u{i}@x.io" for i in range(8)] + [f"anon:{i}" for i in range(8)] + ["phone:+14155550101"]
)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(identifiers, identifiers), max_size=25), st.randoms())
def test_result_does_not_depend_on_input_order(pairs, random):
    shuffled = [(b, a) if random.random() < 0.5 else (a, b) for a, b in pairs]
    random.shuffle(shuffled)
    assert people(pairs) == people(shuffled)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.tuples(identifiers, identifiers), max_size=20), st.lists(identifiers, max_size=6), st.randoms())
def test_singles_and_duplicated_rows_do_not_change_people(pairs, singles, random):
    """Delivering the same edges twice, in another order, with singles shuffled in, gives the same people."""
    again = pairs + random.sample(pairs, len(pairs))
    random.shuffle(again)
    shuffled_singles = random.sample(singles, len(singles))
    assert people(pairs, singles) == people(again, shuffled_singles)
