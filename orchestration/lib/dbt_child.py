"""`closedloop-dbt`: dbt, bound to the run that started it. It asks the kernel to kill it when its parent dies
(PR_SET_PDEATHSIG), then becomes dbt. Without it, a `kill -9` of a run leaves `dbt build` writing the
warehouse for seconds after the run's writer lock was released."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


# read when this module loads, before the imports below: a parent killed while they run must not go unnoticed
PARENT = os.getppid()


def main() -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != PARENT:  # the parent died before the request took effect
        sys.exit(1)
    from orchestration.settings import DBT_EXECUTABLE

    os.execv(DBT_EXECUTABLE, [DBT_EXECUTABLE, *sys.argv[1:]])
