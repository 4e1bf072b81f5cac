"""What every run clears first: crashed runs, dbt folders and run history beyond the last runs, stale outputs."""

import os
import time

import dagster as dg
import duckdb

from orchestration.lib.housekeeping import (
    fail_crashed_runs,
    prune_dbt_folders,
    prune_run_history,
    repair_outputs,
)


def test_dbt_folders_are_kept_for_the_last_runs_only(tmp_path):
    for age, run in enumerate(["run0001", "run0002", "run0003"]):
        for step in ("dbt_staging", "dbt_marts"):
            folder = tmp_path / f"{step}-{run}-abc{age}"
            folder.mkdir()
            (folder / "dbt.log").write_text("x" * 1000)
            then = time.time() - (10 - age) * 60
            os.utime(folder, (then, then))
    (tmp_path / "manifest.json").write_text("{}")  # not an invocation folder: kept
    assert prune_dbt_folders(tmp_path, keep_runs=2) == 2
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == [
        "dbt_marts-run0002-abc1",
        "dbt_marts-run0003-abc2",
        "dbt_staging-run0002-abc1",
        "dbt_staging-run0003-abc2",
        "manifest.json",
    ]


def test_a_run_left_started_is_marked_failed_and_old_runs_leave_the_history(tmp_path):
    @dg.op
    def noop():
        return 1

    @dg.job
    def tiny():
        noop()

    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        runs = [tiny.execute_in_process(instance=instance).run_id for _ in range(4)]
        crashed = instance.create_run_for_job(tiny)
        instance.handle_run_event(crashed.run_id, _started(crashed))
        assert fail_crashed_runs(instance, runs[-1]) == [crashed.run_id]
        assert instance.get_run_by_id(crashed.run_id).status == dg.DagsterRunStatus.FAILURE
        assert len(list((tmp_path / "history" / "runs").glob("*-*.db"))) == 5  # one per run, the crashed one too
        assert prune_run_history(instance, runs[-1], keep_runs=2) == 3
        assert {r.run_id for r in instance.get_runs()} == {crashed.run_id, runs[-1]}
        event_logs = {p.stem for p in (tmp_path / "history" / "runs").glob("*.db")} - {"index"}
        assert event_logs <= {crashed.run_id, runs[-1]}, "a deleted run left its event log file"


def _started(run):
    from dagster._core.events import DagsterEvent, DagsterEventType

    return DagsterEvent(DagsterEventType.PIPELINE_START.value, job_name=run.job_name)


def test_exports_and_report_older_than_the_serving_file_are_written_again(tmp_path):
    serving = tmp_path / "serving.duckdb"
    with duckdb.connect(str(serving)) as con:
        con.execute(
            "create schema quality; create table quality.runs as select 'r1' as run_id, 'passed' as status,"
            " timestamp '2026-11-30 02:00' as started_at, null::varchar as blocking_reason"
        )
    exports, report = tmp_path / "exports", tmp_path / "report" / "index.html"
    assert repair_outputs(serving, exports, report) == [exports, report]
    assert (exports / "quality_runs.parquet").exists() and report.exists()
    assert repair_outputs(serving, exports, report) == []  # up to date now
