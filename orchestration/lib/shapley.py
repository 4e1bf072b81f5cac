"""Shapley attribution over channel sets (docs/attribution.md).

The value of a coalition T is the conversion rate of the paths whose distinct channel set is exactly T (0 where no
path has that set, v(∅) = 0). For a conversion with distinct set S,
φ_c = Σ_{T ⊆ S∖{c}} |T|! (|S| − |T| − 1)! ÷ |S|! · (v(T ∪ {c}) − v(T)); negative φ count as 0 and the shares are
φ_c ÷ Σφ (all zero: None, the conversion is credited linearly). Sets with more than `max_channels` channels are
not evaluated (2^n coalitions): None, and they are counted.

Coalitions are bit masks over the sorted channels, so the 2^|S| subsets of a set are enumerated with numpy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from math import factorial

import numpy as np


@dataclass
class ShapleyResult:
    weights: dict[frozenset[str], dict[str, float] | None] = field(default_factory=dict)
    values: dict[frozenset[str], dict[str, float]] = field(default_factory=dict)  # raw φ per evaluated set
    capped_sets: int = 0  # distinct converting sets above the cap
    capped_conversions: float = 0.0


class Coalitions:
    """v(T) for every channel set seen: sorted masks and rates, looked up with searchsorted."""

    def __init__(self, sets: Iterable[tuple[Iterable[str], float, float]]):
        totals: dict[frozenset[str], list[float]] = {}
        for channels, conv, non in sets:
            key = frozenset(channels)
            acc = totals.setdefault(key, [0.0, 0.0])
            acc[0] += float(conv)
            acc[1] += float(conv) + float(non)
        self.channels = sorted({c for key in totals for c in key})
        self.bit = {c: 1 << i for i, c in enumerate(self.channels)}
        masks = np.array([self.mask(key) for key in totals], dtype=np.int64)
        rates = np.array([conv / n if n > 0 else 0.0 for conv, n in totals.values()])
        order = np.argsort(masks)
        self.masks, self.rates = masks[order], rates[order]

    def mask(self, channels: Iterable[str]) -> int:
        return sum(self.bit[c] for c in set(channels))

    def value(self, masks: np.ndarray) -> np.ndarray:
        """v of each mask (0 for a set no path has, and for the empty set)."""
        if len(self.masks) == 0:
            return np.zeros(len(masks))
        at = np.clip(np.searchsorted(self.masks, masks), 0, len(self.masks) - 1)
        return np.where(self.masks[at] == masks, self.rates[at], 0.0) * (masks != 0)


def shapley_values(channels: Iterable[str], coalitions: Coalitions) -> dict[str, float]:
    """Raw φ_c for every channel of the set `channels`."""
    members = sorted(set(channels))
    size = len(members)
    bits = np.array([coalitions.bit.get(c, 0) for c in members], dtype=np.int64)
    subsets = np.arange(1 << size, dtype=np.int64)
    # which members each subset index holds, its mask, its size
    holds = (subsets[:, None] >> np.arange(size)) & 1
    masks = holds @ bits
    sizes = holds.sum(axis=1)
    values = coalitions.value(masks)
    weight = np.array(
        [factorial(k) * factorial(size - k - 1) / factorial(size) if k < size else 0.0 for k in range(size + 1)]
    )
    out = {}
    for j, channel in enumerate(members):
        without = holds[:, j] == 0
        with_c = subsets[without] | (1 << j)
        out[channel] = float(np.sum(weight[sizes[without]] * (values[with_c] - values[without])))
    return out


def shapley_weights(paths: Iterable[tuple[Iterable[str], float, float]], max_channels: int = 12) -> ShapleyResult:
    """Shares per distinct converting channel set over aggregated paths `(channels, conversions, non-conversions)`."""
    paths = [(frozenset(channels), float(conv), float(non)) for channels, conv, non in paths]
    coalitions = Coalitions(paths)
    converting: dict[frozenset[str], float] = {}
    for key, conv, _ in paths:
        if conv > 0:
            converting[key] = converting.get(key, 0.0) + conv
    result = ShapleyResult()
    for key, conv in converting.items():
        if len(key) > max_channels:
            result.weights[key] = None
            result.capped_sets += 1
            result.capped_conversions += conv
            continue
        phi = shapley_values(key, coalitions)
        result.values[key] = phi
        positive = {c: max(0.0, v) for c, v in phi.items()}
        total = sum(positive.values())
        result.weights[key] = {c: v / total for c, v in positive.items()} if total > 0 else None
    return result
