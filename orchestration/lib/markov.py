"""First-order Markov attribution (docs/attribution.md): removal effects solved exactly from the absorbing chain.

States: `start`, one per channel, `conversion`, `null`. Paths are aggregated: a channel sequence with how many
times it ended in a conversion and how many times it did not. P(conversion) is the absorption probability from
`start`, x = (I − Q)⁻¹ r, where Q holds the transient-to-transient probabilities and r the transient-to-conversion
ones. Removing channel c redirects every transition into c to `null` (column c of Q set to zero).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

START = "(start)"


@dataclass(frozen=True)
class MarkovResult:
    conversion_probability: float
    removal_effects: dict[str, float]  # per channel, RE(c) = 1 − P₋c(conv) ÷ P(conv)
    removal_probabilities: dict[str, float]  # per channel, P₋c(conv)
    conversions: float
    paths: float

    def weights(self, channels: Iterable[str]) -> dict[str, float] | None:
        """Each channel's RE ÷ the sum of the REs of `channels` (a conversion's distinct channels); None when
        that sum is zero (the conversion is then credited linearly)."""
        chosen = sorted(set(channels))
        total = sum(self.removal_effects.get(c, 0.0) for c in chosen)
        if total <= 0:
            return None
        return {c: self.removal_effects.get(c, 0.0) / total for c in chosen}


def collapse(channels: Sequence[str]) -> list[str]:
    """Consecutive repeats of a channel become one visit."""
    out: list[str] = []
    for channel in channels:
        if not out or out[-1] != channel:
            out.append(channel)
    return out


def count_transitions(
    channel_paths: Sequence[str],
    conversions: Sequence[float],
    non_conversions: Sequence[float],
    groups: Sequence[int] | None = None,
    separator: str = ">",
) -> tuple[list[str], np.ndarray]:
    """Transition counts of aggregated paths, vectorised (millions of paths, no per-path Python).

    Returns the channels (sorted) and counts of shape (groups, size, size) over the states [start, channels…,
    conversion, null] (rows: from); `groups` gives each path's group (e.g. its month), default one group."""
    # split and encoded in Arrow's C++ kernels: Python's str.split and a pandas Categorical took 17 of the 22 s of
    # Markov and Shapley at 1 M leads (2 M distinct paths)
    split = pc.split_pattern(_as_arrow_strings(channel_paths), separator)
    visits = pc.dictionary_encode(pc.list_flatten(split))
    names = visits.dictionary.to_pylist()
    channels = sorted(names)
    rank = np.empty(len(names), dtype=np.int64)
    rank[np.argsort(np.array(names, dtype=object), kind="stable")] = np.arange(len(names))
    size = len(channels) + 3
    group_of_path = np.zeros(len(split), dtype=np.int64) if groups is None else np.asarray(groups, dtype=np.int64)
    n_groups = int(group_of_path.max()) + 1 if len(group_of_path) else 1
    weight = np.asarray(conversions, dtype=float) + np.asarray(non_conversions, dtype=float)
    path_index = pc.list_parent_indices(split).to_numpy().astype(np.int64)
    state = rank[visits.indices.to_numpy().astype(np.int64)] + 1
    same_path = np.r_[False, path_index[1:] == path_index[:-1]]
    keep = ~(same_path & np.r_[False, state[1:] == state[:-1]])  # collapse consecutive repeats
    path_index, state, same_path = path_index[keep], state[keep], same_path[keep]
    previous = np.where(same_path, np.r_[0, state[:-1]], 0)  # start before a path's first channel
    flat = group_of_path[path_index] * size * size
    counts = np.bincount(flat + previous * size + state, weights=weight[path_index], minlength=n_groups * size * size)
    last = np.r_[path_index[1:] != path_index[:-1], True]
    ends = flat[last] + state[last] * size
    ending = path_index[last]
    counts += np.bincount(
        ends + size - 2, weights=np.asarray(conversions, dtype=float)[ending], minlength=n_groups * size * size
    )
    counts += np.bincount(
        ends + size - 1, weights=np.asarray(non_conversions, dtype=float)[ending], minlength=n_groups * size * size
    )
    return channels, counts.reshape(n_groups, size, size)


def _as_arrow_strings(values: Sequence[str]) -> pa.Array:
    """`values` (a list or a pandas Series) as one Arrow string array."""
    found = pa.array(values, pa.string())  # a Series of pandas' Arrow-backed strings converts without a copy
    return found.combine_chunks() if isinstance(found, pa.ChunkedArray) else found


def absorption_probability(counts: np.ndarray, removed: int | None = None) -> float:
    """P(reaching `conversion` from `start`) in the chain of `counts`; with `removed`, transitions into that
    state go to `null` instead."""
    size = counts.shape[0]
    transient = size - 2
    totals = counts.sum(axis=1)
    probabilities = np.divide(counts, totals[:, None], out=np.zeros_like(counts), where=totals[:, None] > 0)
    q = probabilities[:transient, :transient].copy()
    r = probabilities[:transient, size - 2]
    if removed is not None:
        q[:, removed] = 0.0  # the mass that went into the removed channel is absorbed in null
    x = np.linalg.solve(np.eye(transient) - q, r)
    return float(x[0])


def removal_effects(paths: Iterable[tuple[Sequence[str], float, float]]) -> MarkovResult:
    """Removal effect of every channel over aggregated paths `(channel sequence, conversions, non-conversions)`."""
    paths = [(list(seq), float(conv), float(non)) for seq, conv, non in paths if len(seq)]
    channels, counts = count_transitions(
        [">".join(seq) for seq, _, _ in paths], [c for _, c, _ in paths], [n for _, _, n in paths]
    )
    return solve(channels, counts[0])


def solve(channels: Sequence[str], counts: np.ndarray) -> MarkovResult:
    """Removal effects of the chain of `counts` (states [start, channels…, conversion, null]); channels that never
    occur in it (an all-zero row and column) are left out."""
    size = counts.shape[0]
    conversions = float(counts[:, size - 2].sum())
    paths = float(counts[0].sum())
    present = [i for i in range(1, size - 2) if counts[i].sum() > 0 or counts[:, i].sum() > 0]
    if not present or paths <= 0:
        return MarkovResult(0.0, {}, {}, conversions, paths)
    keep = [0, *present, size - 2, size - 1]
    counts = counts[np.ix_(keep, keep)]
    names = [channels[i - 1] for i in present]
    p = absorption_probability(counts)
    without = {c: absorption_probability(counts, removed=i + 1) for i, c in enumerate(names)}
    # removing a channel can only lose conversions; clip the solver's last-digit noise
    effects = dict.fromkeys(names, 0.0) if p <= 0 else {c: min(1.0, max(0.0, 1.0 - without[c] / p)) for c in names}
    return MarkovResult(p, effects, without, conversions, paths)
