"""A sensor that starts the nightly job when new landing files arrive (off by default: the schedule is the
default automation). It looks only at names, sizes and modification times, never at contents, and waits until
the landing zone has been quiet for a minute, so a delivery still being copied does not start a run."""

import time

import dagster as dg

from orchestration.defs.automation.jobs import nightly_job
from orchestration.lib.landing_watch import landing_fingerprint
from orchestration.settings import load_settings

QUIET_SECONDS = 60


@dg.sensor(
    job=nightly_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Starts the nightly job when files in the landing zone are new or changed and have been quiet "
    f"for {QUIET_SECONDS} s.",
)
def new_landing_files(context: dg.SensorEvaluationContext):
    fingerprint, newest = landing_fingerprint(load_settings().landing_dir)
    if fingerprint is None or fingerprint == context.cursor:
        return dg.SkipReason("no new or changed landing files")
    if time.time() - newest < QUIET_SECONDS:
        return dg.SkipReason(
            f"landing files changed less than {QUIET_SECONDS} s ago: waiting for the delivery to finish"
        )
    context.update_cursor(fingerprint)
    return dg.RunRequest(run_key=fingerprint)
