"""Markov and Shapley attribution between the intermediate models and the marts (docs/attribution.md): one Python step
that reads the counted paths and writes the removal effects and per-channel-set weights fct_attribution reads."""

import dagster as dg

from orchestration.defs.resources import ClosedloopSettings
from orchestration.lib.attribution import solve_attribution
from orchestration.lib.progress import progress
from orchestration.lib.warehouse import open_warehouse

EFFECTS_KEY = dg.AssetKey(["intermediate", "attribution_removal_effects"])
WEIGHTS_KEY = dg.AssetKey(["intermediate", "attribution_channel_weights"])
UPSTREAM = [dg.AssetKey(["intermediate", "int_attribution_paths_counted"])]


@dg.multi_asset(
    name="attribution_models",
    specs=[
        dg.AssetSpec(
            EFFECTS_KEY,
            deps=UPSTREAM,
            group_name="intermediate",
            kinds={"python"},
            description="intermediate.attribution_removal_effects: Markov removal effect per conversion type × "
            "period (all, or a month) × channel, solved exactly from the absorbing chain.",
        ),
        dg.AssetSpec(
            WEIGHTS_KEY,
            deps=UPSTREAM,
            group_name="intermediate",
            kinds={"python"},
            description="intermediate.attribution_channel_weights: per conversion type × model (markov, shapley) "
            "× converting channel set × channel, the channel's share (null: linear).",
        ),
    ],
)
def attribution_models(context: dg.AssetExecutionContext, settings: ClosedloopSettings):
    cfg = settings.get()
    progress("attribution: solving Markov and Shapley")
    with open_warehouse(cfg.dbt_target, cfg.warehouse_path) as warehouse:
        outcome = solve_attribution(warehouse, max_channels=cfg.shapley_max_channels)
    progress(f"attribution: {outcome.describe()}")
    metadata = {
        "conversion_types": outcome.conversion_types,
        "distinct_paths": outcome.paths,
        "converting_channel_sets": outcome.channel_sets,
        "shapley_capped_sets": outcome.capped_sets,
        "shapley_capped_conversions": outcome.capped_conversions,
        "seconds": round(outcome.seconds, 2),
    }
    yield dg.MaterializeResult(asset_key=EFFECTS_KEY, metadata=metadata)
    yield dg.MaterializeResult(asset_key=WEIGHTS_KEY, metadata=metadata)
