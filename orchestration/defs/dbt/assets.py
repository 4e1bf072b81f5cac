"""dbt, as three selections: staging (with the seeds), intermediate and marts. The quality gate and identity
resolution sit between staging and intermediate, so a blocking check on staging stops everything after it; the
Python models (Markov/Shapley attribution, probabilistic CLV) sit between intermediate and marts."""

import contextlib

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.defs.dbt.translator import ClosedloopTranslator
from orchestration.defs.resources import ClosedloopSettings, dbt_project
from orchestration.lib.housekeeping import keep_parse_cache
from orchestration.lib.progress import progress

# by folder (fqn), not path: path selectors are relative to the working directory, and `closedloop run` may be
# started anywhere
STAGING_SELECT = "fqn:staging fqn:quality resource_type:seed int_identity__edges"
# the identity graph is a view built with staging: identity resolution reads it after the gate
INTERMEDIATE_SELECT = "fqn:intermediate resource_type:snapshot"
# intermediate models that read a Python step's output (tag after_python) build with the marts, after that step
INTERMEDIATE_EXCLUDE = "int_identity__edges tag:after_python"
MARTS_SELECT = "fqn:marts tag:after_python"
# dbt unit tests check the SQL, not the night's data: `make test` runs them (tests/integration/test_dbt_build.py)
NOT_UNIT_TESTS = "resource_type:unit_test"


def _build(context: dg.AssetExecutionContext, dbt: DbtCliResource, settings: ClosedloopSettings, label: str):
    """`dbt build` on the selection, with the settings' business values as vars; dbt's own console lines go to
    <data dir>/logs/dbt.log, not the terminal."""
    cfg = settings.get()
    log_dir = cfg.logs_dir
    log_dir.mkdir(parents=True, exist_ok=True)
    progress(f"dbt {label}: building")
    with open(log_dir / "dbt.log", "a") as log, contextlib.redirect_stdout(log):
        invocation = dbt.cli(["build", *cfg.dbt_vars_args(), "--exclude", NOT_UNIT_TESTS], context=context)
        for event in invocation.stream():
            if isinstance(event, dg.Output):
                progress(f"dbt {label}: built {context.asset_key_for_output(event.output_name).to_user_string()}")
            elif isinstance(event, dg.AssetCheckResult) and not event.passed:
                progress(f"dbt {label}: check failed {event.check_name} on {'.'.join(event.asset_key.path)}")
            yield event
    keep_parse_cache(invocation.target_path, cfg.dbt_target_dir)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    select=STAGING_SELECT,
    dagster_dbt_translator=ClosedloopTranslator(),
    name="dbt_staging",
)
def dbt_staging(context: dg.AssetExecutionContext, dbt: DbtCliResource, settings: ClosedloopSettings):
    yield from _build(context, dbt, settings, "staging")


@dbt_assets(
    manifest=dbt_project.manifest_path,
    select=INTERMEDIATE_SELECT,
    exclude=INTERMEDIATE_EXCLUDE,
    dagster_dbt_translator=ClosedloopTranslator(),
    name="dbt_intermediate",
)
def dbt_intermediate(context: dg.AssetExecutionContext, dbt: DbtCliResource, settings: ClosedloopSettings):
    yield from _build(context, dbt, settings, "intermediate")


@dbt_assets(
    manifest=dbt_project.manifest_path,
    select=MARTS_SELECT,
    dagster_dbt_translator=ClosedloopTranslator(),
    name="dbt_marts",
)
def dbt_marts(context: dg.AssetExecutionContext, dbt: DbtCliResource, settings: ClosedloopSettings):
    yield from _build(context, dbt, settings, "marts")


def mart_keys() -> list[dg.AssetKey]:
    return sorted((k for k in dbt_marts.keys if k.path[0] == "marts"), key=lambda k: k.to_user_string())
