"""Resources shared by the assets: the settings, read from the environment at run time (dbt runs in-process:
orchestration/defs/dbt/runner.py).

Every asset takes the `settings` resource, and a run holds the data dir's writer lock while that resource is
open: the in-process executor opens it once for the whole run, so a run started from the CLI, the UI, the
schedule or a sensor excludes every other writer, and one that finds the lock taken fails at once, naming the
holder. Opening it also clears what a crashed run left (orchestration/lib/housekeeping.py) and refuses at once
when a BI session holds the serving file read-write.
"""

from contextlib import contextmanager

import dagster as dg
from dagster_dbt import DbtProject

from orchestration.lib.housekeeping import tidy
from orchestration.lib.lock import exclusive_lock
from orchestration.lib.publish import ensure_no_writer
from orchestration.settings import DBT_PROFILES_DIR, DBT_PROJECT_DIR, Settings, load_settings

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROFILES_DIR)


class ClosedloopSettings(dg.ConfigurableResource):
    """Reads orchestration.settings at run time, so one process can run against several data dirs."""

    def get(self) -> Settings:
        return load_settings()

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext):
        cfg = self.get()
        run_id = context.run.run_id if context.run else "outside a run"
        with exclusive_lock(cfg.lock_path, holder=f"run {run_id}"):
            ensure_no_writer(cfg.serving_path)  # fail now, not after the build (the publish checks again)
            if context.instance is not None and context.run:
                tidied = tidy(context.instance, run_id, cfg)
                if tidied.crashed_runs or tidied.leftovers or tidied.repaired:
                    context.log.warning(
                        f"after a crash: failed runs {tidied.crashed_runs}, removed {tidied.leftovers},"
                        f" rewrote {tidied.repaired}"
                    )
            with _engine_session(cfg):
                yield self


@contextmanager
def _engine_session(cfg: Settings):
    """On the spark target, the run's one Spark session, open for the whole run (orchestration/lib/spark.py)."""
    if cfg.dbt_target != "spark":
        yield
        return
    from orchestration.lib.spark import run_session

    with run_session(cfg):
        yield


def build_resources() -> dict:
    return {
        "settings": ClosedloopSettings(),
    }
