"""The landing-files sensor: starts the job for new or changed files, once they have been quiet for a minute."""

import os
import time

import dagster as dg

from orchestration.defs.automation.sensors import QUIET_SECONDS, new_landing_files


def evaluate(monkeypatch, landing, cursor=None):
    monkeypatch.setenv("CLOSEDLOOP_LANDING_DIR", str(landing))
    context = dg.build_sensor_context(cursor=cursor)
    return new_landing_files(context), context


def age(path, seconds):
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_no_files_no_run(monkeypatch, tmp_path):
    result, _ = evaluate(monkeypatch, tmp_path)
    assert isinstance(result, dg.SkipReason)


def test_a_delivery_starts_one_run_once_it_is_quiet(monkeypatch, tmp_path):
    (tmp_path / "leads").mkdir()
    file = tmp_path / "leads" / "leads_2026-11.csv"
    file.write_text("lead_id\nL1\n")
    result, _ = evaluate(monkeypatch, tmp_path)
    assert isinstance(result, dg.SkipReason) and "waiting" in result.skip_message  # still being written?

    age(file, QUIET_SECONDS + 5)
    result, context = evaluate(monkeypatch, tmp_path)
    assert isinstance(result, dg.RunRequest)
    again, _ = evaluate(monkeypatch, tmp_path, cursor=context.cursor)
    assert isinstance(again, dg.SkipReason), "the same files started a second run"

    file.write_text("lead_id\nL1\nL2\n")
    age(file, QUIET_SECONDS + 5)
    changed, _ = evaluate(monkeypatch, tmp_path, cursor=context.cursor)
    assert isinstance(changed, dg.RunRequest) and changed.run_key != result.run_key


def test_files_outside_the_sources_are_ignored(monkeypatch, tmp_path):
    (tmp_path / "notes").mkdir()
    age_me = tmp_path / "notes" / "readme.txt"
    age_me.write_text("not a source")
    age(age_me, QUIET_SECONDS + 5)
    result, _ = evaluate(monkeypatch, tmp_path)
    assert isinstance(result, dg.SkipReason)
