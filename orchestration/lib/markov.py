"""First-order Markov attribution (SPEC §6): removal effects solved exactly from the absorbing chain.

States: `start`, one per channel, `conversion`, `null`. Paths are aggregated: a channel sequence with how many
times it ended in a conversion and how many times it did not. P(conversion) is the absorption probability from
`start`, x = (I − Q)⁻¹ r, where Q holds the transient-to-transient probabilities and r the transient-to-conversion
ones. Removing channel c redirects every transition into c to `null` (column c of Q set to zero).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

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


def transition_counts(paths: Iterable[tuple[Sequence[str], float, float]]) -> tuple[list[str], np.ndarray]:
    """The channels (sorted) and a count matrix over [start, channels…, conversion, null] (rows: from)."""
    collapsed = [(collapse(seq), float(conv), float(non)) for seq, conv, non in paths]
    channels = sorted({c for seq, _, _ in collapsed for c in seq})
    index = {c: i + 1 for i, c in enumerate(channels)}
    size = len(channels) + 3
    conversion, null = size - 2, size - 1
    counts = np.zeros((size, size))
    for seq, conv, non in collapsed:
        total = conv + non
        if not seq or total <= 0:
            continue
        states = [0] + [index[c] for c in seq]
        np.add.at(counts, (states[:-1], states[1:]), total)
        counts[states[-1], conversion] += conv
        counts[states[-1], null] += non
    return channels, counts


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
    paths = list(paths)
    channels, counts = transition_counts(paths)
    conversions = float(sum(conv for _, conv, _ in paths))
    total_paths = float(sum(conv + non for _, conv, non in paths))
    if not channels:
        return MarkovResult(0.0, {}, {}, conversions, total_paths)
    p = absorption_probability(counts)
    without = {c: absorption_probability(counts, removed=i + 1) for i, c in enumerate(channels)}
    if p <= 0:
        effects = {c: 0.0 for c in channels}
    else:
        # removing a channel can only lose conversions; clip the solver's last-digit noise
        effects = {c: min(1.0, max(0.0, 1.0 - without[c] / p)) for c in channels}
    return MarkovResult(p, effects, without, conversions, total_paths)


def parse_paths(rows: Iterable[Mapping[str, object]], separator: str = ">") -> list[tuple[list[str], float, float]]:
    """Rows with `channel_path` ('a>b>c'), `conversions`, `non_conversions` → the tuples `removal_effects` takes."""
    return [
        (str(row["channel_path"]).split(separator), float(row["conversions"]), float(row["non_conversions"]))
        for row in rows
    ]
