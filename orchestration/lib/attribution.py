"""The data-driven attribution models between the intermediate models and the marts (SPEC §6): reads the counted
paths (`intermediate.int_attribution_paths_counted`), solves the Markov chain and the Shapley values per
conversion type, and writes the two tables the marts read:

- `intermediate.attribution_removal_effects`: per conversion type × period (`all`, or a month) × channel, the
  removal effect and the probabilities behind it (mart_markov_removal_effects);
- `intermediate.attribution_channel_weights`: per conversion type × model × converting channel set × channel,
  the channel's share of a conversion with that set (null: credit the conversion linearly). fct_attribution
  splits a channel's share equally over its touches.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass

import pyarrow as pa

from orchestration.lib.markov import removal_effects
from orchestration.lib.shapley import shapley_weights

PATHS = "intermediate.int_attribution_paths_counted"
EFFECTS = "intermediate.attribution_removal_effects"
WEIGHTS = "intermediate.attribution_channel_weights"
ALL = "all"


@dataclass(frozen=True)
class AttributionOutcome:
    conversion_types: int
    paths: int
    channel_sets: int
    capped_sets: int
    capped_conversions: float
    seconds: float

    def describe(self) -> str:
        capped = (f"; {self.capped_sets} channel set(s) ({self.capped_conversions:,.0f} conversions) above the "
                  "Shapley cap credited linearly") if self.capped_sets else ""
        return (f"Markov and Shapley solved for {self.conversion_types} conversion type(s) over {self.paths:,} "
                f"distinct paths, {self.channel_sets:,} converting channel sets in {self.seconds:.1f}s{capped}")


def solve_attribution(warehouse, max_channels: int = 12) -> AttributionOutcome:
    started = time.perf_counter()
    rows = warehouse.read_text(
        f"select conversion_type, path_month, channel_path, channel_set, conversions, non_conversions from {PATHS}"
    ).to_pylist()
    by_type: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_type[row["conversion_type"]].append(row)
    effects, weights = [], []
    capped_sets, capped_conversions = 0, 0.0
    for conversion_type, paths in sorted(by_type.items()):
        effects += _effects(conversion_type, paths)
        type_weights, capped = _weights(conversion_type, paths, max_channels)
        weights += type_weights
        capped_sets += capped.capped_sets
        capped_conversions += capped.capped_conversions
    warehouse.write(replace={EFFECTS: _effects_table(effects), WEIGHTS: _weights_table(weights)})
    return AttributionOutcome(
        conversion_types=len(by_type),
        paths=len(rows),
        channel_sets=len({(w["conversion_type"], w["channel_set"]) for w in weights}),
        capped_sets=capped_sets,
        capped_conversions=capped_conversions,
        seconds=time.perf_counter() - started,
    )


def _triples(paths: list[dict]) -> list[tuple[list[str], float, float]]:
    return [(p["channel_path"].split(">"), float(p["conversions"]), float(p["non_conversions"])) for p in paths]


def _effects(conversion_type: str, paths: list[dict]) -> list[dict]:
    """Removal effects over all the type's paths, then per month over the paths ending in that month."""
    by_month: dict[str, list[dict]] = defaultdict(list)
    for p in paths:
        by_month[p["path_month"]].append(p)
    out = []
    for period, chosen in [(ALL, paths), *sorted(by_month.items())]:
        result = removal_effects(_triples(chosen))
        for channel, effect in sorted(result.removal_effects.items()):
            out.append({
                "conversion_type": conversion_type,
                "period": period,
                "channel": channel,
                "removal_effect": effect,
                "conversion_probability": result.conversion_probability,
                "conversion_probability_without": result.removal_probabilities[channel],
                "conversions": result.conversions,
                "paths": result.paths,
            })
    return out


def _weights(conversion_type: str, paths: list[dict], max_channels: int):
    markov = removal_effects(_triples(paths))
    shapley = shapley_weights(
        [(p["channel_set"].split(","), float(p["conversions"]), float(p["non_conversions"])) for p in paths],
        max_channels=max_channels,
    )
    out = []
    converting_sets = sorted({p["channel_set"] for p in paths if float(p["conversions"]) > 0})
    for channel_set in converting_sets:
        channels = channel_set.split(",")
        for model, shares in (("markov", markov.weights(channels)),
                              ("shapley", shapley.weights.get(frozenset(channels)))):
            for channel in channels:
                out.append({
                    "conversion_type": conversion_type,
                    "model": model,
                    "channel_set": channel_set,
                    "channel": channel,
                    "weight": None if shares is None else shares[channel],
                })
    return out, shapley


def _effects_table(rows: list[dict]) -> pa.Table:
    schema = pa.schema([
        ("conversion_type", pa.string()), ("period", pa.string()), ("channel", pa.string()),
        ("removal_effect", pa.float64()), ("conversion_probability", pa.float64()),
        ("conversion_probability_without", pa.float64()), ("conversions", pa.float64()), ("paths", pa.float64()),
    ])
    return pa.Table.from_pylist(rows, schema=schema)


def _weights_table(rows: list[dict]) -> pa.Table:
    schema = pa.schema([
        ("conversion_type", pa.string()), ("model", pa.string()), ("channel_set", pa.string()),
        ("channel", pa.string()), ("weight", pa.float64()),
    ])
    return pa.Table.from_pylist(rows, schema=schema)
