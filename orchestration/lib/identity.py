"""People as connected components over identifiers (SPEC §3), on aggregated edges, never row by row.

Identifiers are typed strings (`email:ann@gmail.com`, `phone:+14155550101`, `anon:c-123`), already normalised.
Every record (lead, touchpoint, order) that carries two identifiers links them; the caller sends the distinct
pairs, which are far fewer than the records. Blocklisted identifiers never link anybody. The person of a
component is keyed by a hash of its smallest identifier, so the result does not depend on input order.

Not wired into the pipeline yet (issue 3): the next step feeds it the distinct pairs from staging.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

STRING = "string[pyarrow]"  # Arrow-backed strings: vectorised kernels, far faster than Python objects
DEFAULT_BLOCKED_EMAILS = ("test@test.com", "noreply@", "no-reply@", "@example.com", "@example.org", "@test.com")


def blocked(identifiers: pd.Series, blocked_emails: Iterable[str] = DEFAULT_BLOCKED_EMAILS) -> pd.Series:
    """True for junk identifiers: listed emails or domains, and phones whose number is one digit repeated (after
    the country code: the last seven or more digits are the same)."""
    text = identifiers.astype(STRING)
    emails = text.str.removeprefix("email:")
    is_email = text.str.startswith("email:")
    junk_email = pd.Series(False, index=identifiers.index)
    for pattern in blocked_emails:
        if pattern.startswith("@"):
            junk_email |= emails.str.endswith(pattern)
        elif pattern.endswith("@"):
            junk_email |= emails.str.startswith(pattern)
        else:
            junk_email |= emails == pattern
    digits = text.str.removeprefix("phone:").str.replace(r"\D", "", regex=True)
    last7 = digits.str.slice(-7)
    junk_phone = text.str.startswith("phone:") & (digits.str.len() >= 7) & (last7 == last7.str.slice(-1).str.repeat(7))
    return ((is_email & junk_email) | junk_phone).fillna(False).astype(bool)


def resolve_people(
    pairs: pd.DataFrame, singles: Iterable[str] = (), blocked_emails: Iterable[str] = DEFAULT_BLOCKED_EMAILS
) -> pd.DataFrame:
    """`pairs` has columns `left` and `right` (identifiers seen together); `singles` are identifiers seen alone.
    Returns one row per non-blocked identifier: `identifier`, `person_id`."""
    pairs = pairs.dropna(subset=["left", "right"])
    left, right = pairs["left"].astype(STRING), pairs["right"].astype(STRING)
    everything = pd.concat([left, right, pd.Series(list(singles), dtype=STRING)], ignore_index=True).dropna()
    # the blocklist is checked once per distinct identifier; sorted, so a component's first is its smallest
    distinct = pd.Series(everything.unique(), dtype=STRING).sort_values(ignore_index=True)
    identifiers = pd.Index(distinct[~blocked(distinct, blocked_emails)])
    a, b = identifiers.get_indexer(left), identifiers.get_indexer(right)
    linked = (a >= 0) & (b >= 0)  # a pair with a blocked side links nothing
    n = len(identifiers)
    graph = coo_matrix((np.ones(int(linked.sum()), dtype=np.int8), (a[linked], b[linked])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    first = pd.Series(np.arange(n)).groupby(labels).transform("min").to_numpy()
    smallest = pd.Series(identifiers.take(first), dtype=STRING)
    hashed = pd.util.hash_pandas_object(smallest, index=False).to_numpy()
    # hex of every hash in one go: big-endian bytes → one hex string → fixed 16-character slices
    hex16 = np.frombuffer(hashed.astype(">u8").tobytes().hex().encode(), dtype="S16").astype(str)
    person_id = pd.Series(np.char.add("p_", hex16), dtype=STRING)
    return pd.DataFrame({"identifier": pd.Series(identifiers, dtype=STRING), "person_id": person_id})
