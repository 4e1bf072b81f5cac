"""Loads every asset, check, job, schedule and resource; nothing else."""

import dagster as dg

from orchestration.defs.attribution.assets import attribution_models
from orchestration.defs.automation.jobs import nightly_job, nightly_schedule
from orchestration.defs.automation.sensors import new_landing_files
from orchestration.defs.customers.assets import customer_clv
from orchestration.defs.dbt.assets import dbt_intermediate, dbt_marts, dbt_staging
from orchestration.defs.extract.assets import extract_assets
from orchestration.defs.identity.assets import identity_people
from orchestration.defs.privacy.assets import erasure_applied
from orchestration.defs.publish.assets import (
    serving_dbt_docs,
    serving_exports,
    serving_marts,
    serving_night_recorded,
    serving_postgres,
    serving_report,
)
from orchestration.defs.quality.assets import quality_gate
from orchestration.defs.resources import build_resources

defs = dg.Definitions(
    assets=[
        *extract_assets,
        erasure_applied,
        dbt_staging,
        quality_gate,
        identity_people,
        dbt_intermediate,
        attribution_models,
        customer_clv,
        dbt_marts,
        serving_marts,
        serving_postgres,
        serving_exports,
        serving_report,
        serving_dbt_docs,
        serving_night_recorded,
    ],
    jobs=[nightly_job],
    schedules=[nightly_schedule],
    sensors=[new_landing_files],
    resources=build_resources(),
)
