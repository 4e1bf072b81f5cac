"""Identity resolution on aggregated identifier pairs: known duplicates, junk identifiers, order independence."""

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestration.lib.identity import blocked, read_blocklist_seed, resolve_people

BLOCKLIST = read_blocklist_seed()  # the seed file the pipeline loads into the warehouse


def people(pairs, singles=()):
    frame = pd.DataFrame(pairs, columns=["left", "right"])
    result = resolve_people(frame, singles, BLOCKLIST)
    return dict(zip(result["identifier"], result["person_id"], strict=True))


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
    values = pd.Series(
        [
            "email:x@example.com",
            "email:noreply@acme.io",
            "phone:+15555555555",
            "phone:+14155550101",
            "email:ann@acme.io",
            "anon:1111",
        ]
    )
    assert blocked(values, BLOCKLIST).tolist() == [True, True, True, False, False, False]
    assert blocked(pd.Series(["phone:+1 111-111-1111"])).tolist() == [True]


def test_blocklist_patterns_are_addresses_domains_or_mailboxes():
    values = pd.Series(
        [
            "email:test@test.com",
            "email:ann@sub.test.com",
            "email:ann@test.com",
            "email:noreply@acme.io",
            "email:info@acme.io",
            "email:ann@example.net",
            "phone:+14155550101",
            "anon:test@test.com",
        ]
    )
    patterns = [" Test@Test.com", "@test.com", "noreply@", "@example.net"]
    assert blocked(values, patterns).tolist() == [True, False, True, True, False, True, False, False]
    assert not blocked(values).iloc[:6].any(), "without a blocklist only the phone rule applies"
    assert {"test@test.com", "@example.com", "noreply@"} <= set(BLOCKLIST)


def test_person_ids_are_stable_keys():
    mapping = people([("email:a@x.io", "anon:1")])
    assert mapping["email:a@x.io"] == mapping["anon:1"]
    assert mapping["anon:1"].startswith("p_") and len(mapping["anon:1"]) == 18
    assert people([("anon:1", "email:a@x.io")]) == mapping


identifiers = st.sampled_from(
    [f"email:u{i}@x.io" for i in range(8)] + [f"anon:{i}" for i in range(8)] + ["phone:+14155550101"]
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(identifiers, identifiers), max_size=25), st.randoms())
def test_result_does_not_depend_on_input_order(pairs, random):
    shuffled = [(b, a) if random.random() < 0.5 else (a, b) for a, b in pairs]
    random.shuffle(shuffled)
    assert people(pairs) == people(shuffled)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(identifiers, identifiers), max_size=20), st.lists(identifiers, max_size=6), st.randoms())
def test_singles_and_duplicated_rows_do_not_change_people(pairs, singles, random):
    """Delivering the same edges twice, in another order, with singles shuffled in, gives the same people."""
    again = pairs + random.sample(pairs, len(pairs))
    random.shuffle(again)
    shuffled_singles = random.sample(singles, len(singles))
    assert people(pairs, singles) == people(again, pd.Series(shuffled_singles, dtype="string"))
