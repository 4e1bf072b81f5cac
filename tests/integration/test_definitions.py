"""The Dagster definitions load (after `dbt parse`) and hold the nightly job, its schedule and the dbt checks."""

import dagster as dg
import pytest

from orchestration.lib.prepare import prepare_dbt_manifest


@pytest.fixture(scope="module")
def defs():
    prepare_dbt_manifest()
    from orchestration.definitions import defs

    return defs


def test_nightly_job_and_schedule(defs):
    job = defs.resolve_job_def("nightly")
    schedule = defs.resolve_schedule_def("nightly_at_2am")
    assert schedule.cron_schedule == "0 2 * * *" and schedule.job_name == job.name


def test_lineage_runs_from_raw_through_dbt_to_serving(defs):
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {
        "raw/touchpoints",
        "staging/stg_web__touchpoints",
        "marts/fct_touchpoints",
        "serving/marts",
        "serving/report",
    } <= keys

    def parents(key):
        return {p.to_user_string() for p in graph.get(dg.AssetKey.from_user_string(key)).parent_keys}

    assert "raw/touchpoints" in parents("staging/stg_web__touchpoints")
    # erasure requests are applied after every load and before staging reads raw
    assert {"raw/touchpoints", "raw/erasure_requests"} <= parents("privacy/erasure_applied")
    assert "privacy/erasure_applied" in parents("staging/stg_web__touchpoints")
    assert "marts/fct_touchpoints" in parents("serving/marts")
    assert "serving/marts" in parents("serving/report")
    assert "serving/marts" in parents("serving/postgres")


def test_dbt_tests_are_asset_checks(defs):
    graph = defs.resolve_asset_graph()
    checks = {(c.asset_key.to_user_string(), c.name) for c in graph.asset_check_keys}
    assert ("marts/fct_touchpoints", "unique_fct_touchpoints_touchpoint_id") in checks
    assert ("marts/fct_conversions", "not_null_fct_conversions_conversion_id") in checks


def test_identity_resolution_sits_between_the_gate_and_the_marts(defs):
    graph = defs.resolve_asset_graph()

    def parents(key):
        return {p.to_user_string() for p in graph.get(dg.AssetKey.from_user_string(key)).parent_keys}

    assert {"intermediate/int_identity__edges", "quality/quarantined_keys"} <= parents("intermediate/identity_people")
    assert "intermediate/identity_people" in parents("intermediate/int_people")
    checks = {(c.asset_key.to_user_string(), c.name) for c in graph.asset_check_keys}
    assert ("intermediate/identity_people", "duplicate_contact_rate") in checks
    # the edges view is built with staging, so dbt runs as exactly three invocations
    dbt_steps = sorted(
        node.name for node in defs.resolve_job_def("nightly").graph.nodes if node.name.startswith("dbt_")
    )
    assert dbt_steps == ["dbt_intermediate", "dbt_marts", "dbt_staging"]


def test_python_models_sit_between_intermediate_and_marts(defs):
    graph = defs.resolve_asset_graph()

    def parents(key):
        return {p.to_user_string() for p in graph.get(dg.AssetKey.from_user_string(key)).parent_keys}

    assert "intermediate/int_attribution_paths_counted" in parents("intermediate/attribution_channel_weights")
    assert "intermediate/attribution_channel_weights" in parents("intermediate/int_attribution_channel_weights")
    assert "intermediate/int_attribution_channel_weights" in parents("intermediate/int_attribution_touches")
    assert "intermediate/int_attribution_channel_weights" in parents("marts/mart_attribution_channel_weights")
    assert "intermediate/int_attribution_touches" in parents("marts/fct_attribution_rule_based")
    assert "intermediate/int_attribution_touches" in parents("marts/fct_attribution_wide")
    assert "marts/fct_attribution_wide" in parents("marts/fct_attribution")
    assert "intermediate/attribution_removal_effects" in parents("marts/mart_markov_removal_effects")
    # the CLV step's three tables come from one step after int_customers_summarised; the LTV inputs that read
    # them (tag after_python) build with the marts
    for table in ("customer_clv", "customer_clv_years", "customer_clv_fit"):
        assert "intermediate/int_customers_summarised" in parents(f"intermediate/{table}")
    assert {"intermediate/customer_clv", "intermediate/customer_clv_years"} <= parents(
        "intermediate/int_ltv_segment_inputs"
    )
    assert "intermediate/customer_clv_fit" in parents("marts/mart_clv_model")
    marts_step = {
        key.to_user_string()
        for key in defs.get_assets_def(dg.AssetKey.from_user_string("marts/mart_ltv_segments")).keys
    }
    assert "intermediate/int_ltv_segment_inputs" in marts_step
    checks = {(c.asset_key.to_user_string(), c.name) for c in graph.asset_check_keys}
    assert ("marts/fct_attribution_wide", "assert_attribution_reconciles") in checks


def test_every_asset_holds_the_writer_lock_through_the_settings_resource(defs):
    job = defs.resolve_job_def("nightly")
    for node in job.graph.nodes:
        assert "settings" in node.definition.required_resource_keys, f"{node.name} runs without the writer lock"


def test_the_landing_sensor_is_off_and_the_schedule_on_by_default(defs):
    sensor = defs.resolve_sensor_def("new_landing_files")
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED and sensor.job_name == "nightly"
    assert defs.resolve_schedule_def("nightly_at_2am").default_status == dg.DefaultScheduleStatus.RUNNING


def test_exposures_and_source_freshness_are_declared(defs):
    import json

    from orchestration.defs.resources import dbt_project

    manifest = json.loads(dbt_project.manifest_path.read_text())
    exposures = {e["name"]: e for e in manifest["exposures"].values()}
    assert set(exposures) == {"serving_file", "html_report", "parquet_exports"}
    marts = {
        n for n, node in manifest["nodes"].items() if node["resource_type"] == "model" and node["schema"] == "marts"
    }
    assert marts <= set(exposures["serving_file"]["depends_on"]["nodes"]), "a mart is missing from the exposures"
    raw = [s for s in manifest["sources"].values() if s["schema"] == "raw" and s["name"] != "erasure_requests"]
    assert raw and all(s["config"]["freshness"]["warn_after"]["count"] for s in raw)
    assert all(s["config"]["loaded_at_field"] == "_loaded_at" for s in raw)
