"""The run history's event log (orchestration/lib/run_history.py): a real Dagster instance in a temporary home,
written through closedloop's storage and read back by Dagster's own."""

import dagster as dg
import pytest

from orchestration.lib.prepare import DAGSTER_YAML, prepare_dagster_home
from orchestration.lib.run_history import RunHistoryEventLogStorage


@dg.asset
def leads() -> int:
    return 3


@dg.asset_check(asset=leads, blocking=True)
def leads_not_empty() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    prepare_dagster_home(settings=None)
    return tmp_path


def _run_twice() -> list[str]:
    job = dg.Definitions(assets=[leads], asset_checks=[leads_not_empty]).resolve_implicit_global_asset_job_def()
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.event_log_storage, RunHistoryEventLogStorage)
        return [job.execute_in_process(instance=instance).run_id for _ in range(2)]


def test_runs_recorded_by_closedloop_read_back_in_dagsters_own_storage(home):
    run_ids = _run_twice()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")  # Dagster's default event log
    with dg.DagsterInstance.get() as instance:
        assert type(instance.event_log_storage).__name__ == "SqliteEventLogStorage"
        assert {run.run_id for run in instance.get_runs()} == set(run_ids)
        assert all(run.status == dg.DagsterRunStatus.SUCCESS for run in instance.get_runs())
        events = instance.all_logs(run_ids[1])
        assert any(e.dagster_event and e.dagster_event.event_type_value == "ASSET_CHECK_EVALUATION" for e in events)
        # the index file (cross-run queries: the UI's asset pages) has each run's materialization and check
        latest = instance.get_latest_materialization_event(dg.AssetKey("leads"))
        assert latest is not None and latest.run_id == run_ids[1]
        check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey("leads"), "leads_not_empty")]
        )
        assert next(iter(check.values())).run_id == run_ids[1]


def test_the_earlier_dagster_yaml_is_brought_up_to_date_and_a_hand_edited_one_is_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    config = tmp_path / "dagster.yaml"
    config.write_text("telemetry:\n  enabled: false\nrun_queue:\n  max_concurrent_runs: 1\n")
    prepare_dagster_home(settings=None)
    assert config.read_text() == DAGSTER_YAML
    config.write_text("telemetry:\n  enabled: true\n")
    prepare_dagster_home(settings=None)
    assert config.read_text() == "telemetry:\n  enabled: true\n"
