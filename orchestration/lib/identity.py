"""People as connected components over identifiers (docs/identity.md), on aggregated edges, never row by row.

Identifiers are typed strings (`email:ann@gmail.com`, `phone:+14155550101`, `anon:c-123`), already normalised.
Every record (lead, touchpoint, order) that carries two identifiers links them; the caller sends the distinct
pairs, which are far fewer than the records. Blocklisted identifiers never link anybody: junk emails listed in the
seed `dbt_project/seeds/identity_blocklist.csv` (read from the warehouse by the pipeline) and phones whose number
is one digit repeated (a rule, here). The person of a component is keyed by a hash of its smallest identifier, so
the result does not depend on input order.

The pipeline step around it (edges in, people and hashes out) is `orchestration/lib/people.py`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

STRING = "string[pyarrow]"  # Arrow-backed strings: vectorised kernels, far faster than Python objects
BLOCKLIST_SEED = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "identity_blocklist.csv"


def read_blocklist_seed(path: Path = BLOCKLIST_SEED) -> tuple[str, ...]:
    """The email patterns of the blocklist seed file (the pipeline reads the seeded table instead)."""
    with Path(path).open(newline="", encoding="utf-8") as handle:
        return tuple(row["pattern"] for row in csv.DictReader(handle) if row["pattern"])


def blocked(identifiers: pd.Series, blocked_emails: Iterable[str] = ()) -> pd.Series:
    """True for junk identifiers: emails matching a blocklist pattern — a whole address (`test@test.com`), a
    domain (`@example.com`) or a mailbox at any domain (`noreply@`) — and phones whose number is one digit
    repeated (after the country code: the last seven or more digits are the same)."""
    return pd.Series(_blocked(arrow_strings(identifiers), blocked_emails), index=identifiers.index)


def _blocked(text: pa.Array, blocked_emails: Iterable[str]) -> np.ndarray:
    """`blocked` on an Arrow array: hash lookups and one regex pass over the emails and phones only."""
    patterns = [p.strip().lower() for p in blocked_emails if p and p.strip()]
    addresses = pa.array([p for p in patterns if not p.startswith("@") and not p.endswith("@")], pa.string())
    domains = pa.array([p[1:] for p in patterns if p.startswith("@")], pa.string())
    mailboxes = pa.array([p[:-1] for p in patterns if p.endswith("@") and not p.startswith("@")], pa.string())
    result = np.zeros(len(text), dtype=bool)

    email_rows = np.flatnonzero(pc.fill_null(pc.starts_with(text, "email:"), False).to_numpy(zero_copy_only=False))
    emails = pc.utf8_slice_codeunits(text.take(email_rows), len("email:"))
    parts = pc.extract_regex(emails, r"^(?P<mailbox>[^@]*)@(?P<domain>.*)$")  # null when there is no @
    junk = pc.or_kleene(
        pc.is_in(emails, value_set=addresses),
        pc.or_kleene(
            pc.is_in(pc.struct_field(parts, "domain"), value_set=domains),
            pc.is_in(pc.struct_field(parts, "mailbox"), value_set=mailboxes),
        ),
    )
    result[email_rows] = pc.fill_null(junk, False).to_numpy(zero_copy_only=False)

    phone_rows = np.flatnonzero(pc.fill_null(pc.starts_with(text, "phone:"), False).to_numpy(zero_copy_only=False))
    digits = pc.replace_substring_regex(text.take(phone_rows), r"\D", "")
    last7 = pc.utf8_slice_codeunits(digits, -7)
    one_digit_repeated = pc.equal(last7, pc.binary_repeat(pc.utf8_slice_codeunits(last7, -1), 7))
    junk = pc.and_kleene(pc.greater_equal(pc.utf8_length(digits), 7), one_digit_repeated)
    result[phone_rows] = pc.fill_null(junk, False).to_numpy(zero_copy_only=False)
    return result


def arrow_strings(values) -> pa.Array:
    """Identifiers as one Arrow string array (no Python loop for a Series backed by Arrow)."""
    if isinstance(values, pd.Series):
        array = pa.array(values.astype(STRING).array)
    else:
        array = pa.array(list(values), pa.string())
    array = array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
    return array.cast(pa.string())


def resolve_people(
    pairs: pd.DataFrame, singles: Iterable[str] = (), blocked_emails: Iterable[str] = ()
) -> pd.DataFrame:
    """`pairs` has columns `left` and `right` (identifiers seen together); `singles` are identifiers seen alone;
    `blocked_emails` the blocklist's email patterns (see `blocked`).
    Returns one row per non-blocked identifier: `identifier`, `person_id`."""
    pairs = pairs.dropna(subset=["left", "right"])
    left, right = arrow_strings(pairs["left"]), arrow_strings(pairs["right"])
    everything = pa.concat_arrays([left, right, arrow_strings(singles)]).drop_null()
    # the blocklist is checked once per distinct identifier; sorted, so a component's first is its smallest
    distinct = pc.unique(everything)
    distinct = distinct.take(pc.array_sort_indices(distinct))
    identifiers = distinct.filter(pa.array(~_blocked(distinct, blocked_emails)))
    # position of each side among the identifiers; null (-1) for a blocked one, and such a pair links nothing
    a = pc.fill_null(pc.index_in(left, value_set=identifiers), -1).to_numpy()
    b = pc.fill_null(pc.index_in(right, value_set=identifiers), -1).to_numpy()
    linked = (a >= 0) & (b >= 0)
    n = len(identifiers)
    graph = coo_matrix((np.ones(int(linked.sum()), dtype=np.int8), (a[linked], b[linked])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    first = pd.Series(np.arange(n)).groupby(labels).transform("min").to_numpy()
    smallest = pd.Series(pd.arrays.ArrowStringArray(identifiers.take(first)), dtype=STRING)
    hashed = pd.util.hash_pandas_object(smallest, index=False).to_numpy()
    # hex of every hash in one go: big-endian bytes → one hex string → fixed 16-character slices
    hex16 = np.frombuffer(hashed.astype(">u8").tobytes().hex().encode(), dtype="S16").astype(str)
    person_id = pd.Series(np.char.add("p_", hex16), dtype=STRING)
    identifiers = pd.Series(pd.arrays.ArrowStringArray(identifiers), dtype=STRING)
    return pd.DataFrame({"identifier": identifiers, "person_id": person_id})
