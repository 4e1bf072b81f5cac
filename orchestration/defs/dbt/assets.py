"""dbt, as three selections: staging (with the seeds), intermediate and marts. The quality gate and identity
resolution sit between staging and intermediate, so a blocking check on staging stops everything after it; the
Python models (Markov/Shapley attribution, probabilistic CLV) sit between intermediate and marts."""

from collections.abc import Callable

import dagster as dg
from dagster_dbt import dbt_assets
from dagster_dbt.asset_utils import (
    DAGSTER_DBT_EXCLUDE_METADATA_KEY,
    DAGSTER_DBT_SELECT_METADATA_KEY,
    get_manifest_and_translator_from_dbt_assets,
    get_subset_selection_for_context,
)
from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage

from orchestration.defs.dbt.runner import failure_message, invocation_dir, invoke
from orchestration.defs.dbt.translator import ClosedloopTranslator
from orchestration.defs.resources import ClosedloopSettings, dbt_project
from orchestration.lib import credit
from orchestration.lib.progress import progress
from orchestration.lib.quality.suites import start_import as start_gx_import
from orchestration.lib.warehouse import open_warehouse
from orchestration.settings import Settings

# by folder (fqn), not path: path selectors are relative to the working directory, and `closedloop run` may be
# started anywhere
STAGING_SELECT = "fqn:staging fqn:quality resource_type:seed tag:identity_graph"
# the identity graph's views (tag identity_graph) are built with staging: identity resolution reads them after the gate
INTERMEDIATE_SELECT = "fqn:intermediate resource_type:snapshot"
# intermediate models that read a Python step's output (tag after_python) build with the marts, after that step
INTERMEDIATE_EXCLUDE = "tag:identity_graph tag:after_python"
MARTS_SELECT = "fqn:marts tag:after_python"
# dbt unit tests check the SQL, not the night's data: `make test` runs them (tests/integration/test_dbt_build.py)
NOT_UNIT_TESTS = "resource_type:unit_test"


def _build(
    context: dg.AssetExecutionContext,
    settings: ClosedloopSettings,
    label: str,
    after: Callable[[Settings, str, list[dict]], None] | None = None,
):
    """`dbt build` on the step's selection (or the subset of it the run selected), in this process, with the
    settings' business values as vars; each node's result becomes a Dagster output or asset check. `after` sees
    the settings, the run id and the node results once dbt is done, before a failed build is raised."""
    cfg = settings.get()
    manifest, translator, _ = get_manifest_and_translator_from_dbt_assets([context.assets_def])
    selection, indirect = get_subset_selection_for_context(
        context=context,
        manifest=manifest,
        select=context.op.tags.get(DAGSTER_DBT_SELECT_METADATA_KEY),
        exclude=context.op.tags.get(DAGSTER_DBT_EXCLUDE_METADATA_KEY),
        selector=None,
        dagster_dbt_translator=translator,
        current_dbt_indirect_selection_env=None,
    )
    # dbt adds up repeated --exclude flags
    args = ["build", "--exclude", NOT_UNIT_TESTS, *selection]
    if indirect:
        args += ["--indirect-selection", indirect]

    def built(event: dict) -> None:
        node = manifest["nodes"].get(event["data"]["node_info"]["unique_id"])
        if node is not None and node["resource_type"] != "test":
            progress(f"dbt {label}: built {translator.get_asset_key(node).to_user_string()}")

    progress(f"dbt {label}: building")
    target_path = invocation_dir(cfg, context.op.name, context.run_id)
    done = invoke(cfg, args, target_path, on_result=built)
    for raw in done.results:
        for event in DbtCoreCliEventMessage(raw_event=raw, event_history_metadata={}).to_default_asset_events(
            manifest=manifest, dagster_dbt_translator=translator, context=context, target_path=target_path
        ):
            if isinstance(event, dg.AssetCheckResult) and not event.passed:
                progress(f"dbt {label}: check failed {event.check_name} on {'.'.join(event.asset_key.path)}")
            yield event
    if after is not None:
        after(cfg, context.run_id, done.results)
    if not done.success:
        raise DbtBuildFailed(failure_message(done))


def _record_credit(cfg: Settings, run_id: str, results: list[dict]) -> None:
    """quality.results' credit-conservation row from the build's own test of the same sums (its status), so that
    publishing does not sum every conversion × model again."""
    test = next((r["data"] for r in results if r["data"]["node_info"]["unique_id"].endswith(f".{credit.TEST}")), None)
    if test is not None:
        with open_warehouse(cfg.dbt_target, cfg.warehouse_path) as warehouse:
            credit.record_from_test(warehouse, run_id, test["status"])


class DbtBuildFailed(Exception):
    pass


@dbt_assets(
    manifest=dbt_project.manifest_path,
    select=STAGING_SELECT,
    dagster_dbt_translator=ClosedloopTranslator(),
    name="dbt_staging",
)
def dbt_staging(context: dg.AssetExecutionContext, settings: ClosedloopSettings):
    start_gx_import()  # for the quality gate, which reads what this build writes
    yield from _build(context, settings, "staging")


@dbt_assets(
    manifest=dbt_project.manifest_path,
    select=INTERMEDIATE_SELECT,
    exclude=INTERMEDIATE_EXCLUDE,
    dagster_dbt_translator=ClosedloopTranslator(),
    name="dbt_intermediate",
)
def dbt_intermediate(context: dg.AssetExecutionContext, settings: ClosedloopSettings):
    yield from _build(context, settings, "intermediate")


@dbt_assets(
    manifest=dbt_project.manifest_path,
    select=MARTS_SELECT,
    dagster_dbt_translator=ClosedloopTranslator(),
    name="dbt_marts",
)
def dbt_marts(context: dg.AssetExecutionContext, settings: ClosedloopSettings):
    yield from _build(context, settings, "marts", after=_record_credit)


def mart_keys() -> list[dg.AssetKey]:
    return sorted((k for k in dbt_marts.keys if k.path[0] == "marts"), key=lambda k: k.to_user_string())
