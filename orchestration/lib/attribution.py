"""The data-driven attribution models between the intermediate models and the marts (docs/attribution.md): reads the
counted paths (`intermediate.int_attribution_paths_counted`), solves the Markov chain and the Shapley values per
conversion type, and writes the two tables the marts read:

- `intermediate.attribution_removal_effects`: per conversion type × period (`all`, or a month) × channel, the
  removal effect and the probabilities behind it (mart_markov_removal_effects);
- `intermediate.attribution_channel_weights`: per conversion type × model × converting channel set × channel,
  the channel's share of a conversion with that set (null: credit the conversion linearly). fct_attribution
  splits a channel's share equally over its touches.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from orchestration.lib.markov import MarkovResult, count_transitions, solve
from orchestration.lib.shapley import ShapleyResult, shapley_weights

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
        capped = (
            (
                f"; {self.capped_sets} channel set(s) ({self.capped_conversions:,.0f} conversions) above the "
                "Shapley cap credited linearly"
            )
            if self.capped_sets
            else ""
        )
        return (
            f"Markov and Shapley solved for {self.conversion_types} conversion type(s) over {self.paths:,} "
            f"distinct paths, {self.channel_sets:,} converting channel sets in {self.seconds:.1f}s{capped}"
        )


def solve_attribution(warehouse, max_channels: int = 12) -> AttributionOutcome:
    started = time.perf_counter()
    paths = warehouse.read_text(
        f"select conversion_type, path_month, channel_path, channel_set, conversions, non_conversions from {PATHS}"
    ).to_pandas()  # counts are whole numbers: the sums below do not depend on the row order
    for column in ("conversions", "non_conversions"):
        paths[column] = paths[column].astype(float)
    effects, weights = [], []
    capped_sets, capped_conversions = 0, 0.0
    for conversion_type, of_type in paths.groupby("conversion_type", sort=True):
        overall, type_effects = _effects(conversion_type, of_type)
        effects += type_effects
        shapley = _shapley(of_type, max_channels)
        weights += _weights(conversion_type, of_type, overall, shapley)
        capped_sets += shapley.capped_sets
        capped_conversions += shapley.capped_conversions
    warehouse.write(replace={EFFECTS: _effects_table(effects), WEIGHTS: _weights_table(weights)})
    return AttributionOutcome(
        conversion_types=int(paths["conversion_type"].nunique()),
        paths=len(paths),
        channel_sets=len({(w["conversion_type"], w["channel_set"]) for w in weights}),
        capped_sets=capped_sets,
        capped_conversions=capped_conversions,
        seconds=time.perf_counter() - started,
    )


def _effects(conversion_type: str, paths: pd.DataFrame) -> tuple[MarkovResult, list[dict]]:
    """Removal effects over all the type's paths, then per month over the paths ending in that month."""
    months, month_of_path = np.unique(paths["path_month"].to_numpy(dtype=str), return_inverse=True)
    channels, counts = count_transitions(
        paths["channel_path"], paths["conversions"], paths["non_conversions"], groups=month_of_path
    )
    overall = solve(channels, counts.sum(axis=0))
    out = []
    for period, result in [(ALL, overall), *((m, solve(channels, counts[i])) for i, m in enumerate(months))]:
        for channel, effect in sorted(result.removal_effects.items()):
            out.append(
                {
                    "conversion_type": conversion_type,
                    "period": period,
                    "channel": channel,
                    "removal_effect": effect,
                    "conversion_probability": result.conversion_probability,
                    "conversion_probability_without": result.removal_probabilities[channel],
                    "conversions": result.conversions,
                    "paths": result.paths,
                }
            )
    return overall, out


def _shapley(paths: pd.DataFrame, max_channels: int) -> ShapleyResult:
    by_set = paths.groupby("channel_set", sort=True)[["conversions", "non_conversions"]].sum()
    return shapley_weights(
        [(channel_set.split(","), conv, non) for channel_set, conv, non in by_set.itertuples()],
        max_channels=max_channels,
    )


def _weights(conversion_type: str, paths: pd.DataFrame, markov: MarkovResult, shapley: ShapleyResult) -> list[dict]:
    out = []
    for channel_set in sorted(paths.loc[paths["conversions"] > 0, "channel_set"].unique()):
        channels = channel_set.split(",")
        for model, shares in (
            ("markov", markov.weights(channels)),
            ("shapley", shapley.weights.get(frozenset(channels))),
        ):
            for channel in channels:
                out.append(
                    {
                        "conversion_type": conversion_type,
                        "model": model,
                        "channel_set": channel_set,
                        "channel": channel,
                        "weight": None if shares is None else shares[channel],
                    }
                )
    return out


def _effects_table(rows: list[dict]) -> pa.Table:
    schema = pa.schema(
        [
            ("conversion_type", pa.string()),
            ("period", pa.string()),
            ("channel", pa.string()),
            ("removal_effect", pa.float64()),
            ("conversion_probability", pa.float64()),
            ("conversion_probability_without", pa.float64()),
            ("conversions", pa.float64()),
            ("paths", pa.float64()),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)


def _weights_table(rows: list[dict]) -> pa.Table:
    schema = pa.schema(
        [
            ("conversion_type", pa.string()),
            ("model", pa.string()),
            ("channel_set", pa.string()),
            ("channel", pa.string()),
            ("weight", pa.float64()),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)
