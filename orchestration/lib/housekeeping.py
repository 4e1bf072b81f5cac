"""First thing in every run, under the writer lock: clear what a crashed run left and keep the disk bounded.

- a run still marked STARTED in the run history cannot be running (it would hold the lock): it crashed, and is
  marked failed;
- new serving files of a publish that crashed before its rename are removed;
- exports and report older than the serving file (a crash between the rename and them) are written again, so
  they never describe another night than the serving file;
- dbt's per-invocation folders (`<data dir>/dbt/target/<step>-<run>-<id>`, each with its compiled SQL and its
  own dbt.log) and the Dagster run history are kept for the last `keep_runs` runs only.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.lib.publish import remove_leftovers


@dataclass
class Tidied:
    crashed_runs: list[str] = field(default_factory=list)
    leftovers: list[Path] = field(default_factory=list)
    repaired: list[Path] = field(default_factory=list)
    dbt_folders_removed: int = 0
    runs_removed: int = 0


def tidy(instance, run_id: str, settings) -> Tidied:
    """`settings`: the run's `orchestration.settings.Settings`."""
    done = Tidied()
    done.crashed_runs = fail_crashed_runs(instance, run_id)
    done.leftovers = remove_leftovers(settings.serving_path)
    done.repaired = repair_outputs(settings.serving_path, settings.exports_dir, settings.report_path)
    # this run's folders are yet to come: keep one run fewer
    done.dbt_folders_removed = prune_dbt_folders(settings.dbt_target_dir, max(settings.keep_runs - 1, 0))
    done.runs_removed = prune_run_history(instance, run_id, settings.keep_runs)
    return done


def repair_outputs(serving_path: Path, exports_dir: Path, report_path: Path) -> list[Path]:
    """Exports and report written again when older than the serving file. Every publish, and a refused night,
    writes exports/quality_runs.parquet after the serving file, so its age tells."""
    if not serving_path.exists():
        return []
    published = serving_path.stat().st_mtime
    repaired = []
    marker = exports_dir / "quality_runs.parquet"
    if not marker.exists() or marker.stat().st_mtime < published:
        from orchestration.lib.exports import export_parquet

        export_parquet(serving_path, exports_dir)
        repaired.append(exports_dir)
    if not report_path.exists() or report_path.stat().st_mtime < published:
        from orchestration.lib.report import write_report

        write_report(serving_path, report_path)
        repaired.append(report_path)
    return repaired


def fail_crashed_runs(instance, run_id: str) -> list[str]:
    import dagster as dg

    crashed = [
        run
        for run in instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
        if run.run_id != run_id
    ]
    for run in crashed:
        instance.report_run_failed(run, message="the run's process died (found still STARTED by a later run)")
    return [run.run_id for run in crashed]


def prune_dbt_folders(dbt_target_dir: Path, keep_runs: int) -> int:
    """Removes the invocation folders of all but the newest `keep_runs` runs (grouped by the run id in the name)."""
    if not dbt_target_dir.is_dir():
        return 0
    runs: dict[str, list[Path]] = {}
    for folder in dbt_target_dir.iterdir():
        parts = folder.name.rsplit("-", 2)
        if folder.is_dir() and len(parts) == 3:
            runs.setdefault(parts[1], []).append(folder)
    by_age = sorted(runs.values(), key=lambda folders: max(f.stat().st_mtime for f in folders), reverse=True)
    removed = 0
    for folders in by_age[keep_runs:]:
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def prune_run_history(instance, run_id: str, keep_runs: int) -> int:
    """Deletes all but the newest `keep_runs` runs (and this one) from the run history, with their logs."""
    old = [run for run in instance.get_runs()[keep_runs:] if run.run_id != run_id]  # newest first
    storage = Path(instance.storage_directory())
    # the default (SQLite) storage keeps one event-log file per run, which delete_run empties but leaves behind
    event_logs = Path(instance.root_directory) / "history" / "runs"
    for run in old:
        instance.delete_run(run.run_id)
        shutil.rmtree(storage / run.run_id, ignore_errors=True)
        (event_logs / f"{run.run_id}.db").unlink(missing_ok=True)
    return len(old)
