"""`closedloop-dbt`: dbt, bound to the run that started it. It asks the kernel to kill it when its parent dies
(PR_SET_PDEATHSIG), then becomes dbt. Without it, a `kill -9` of a run leaves `dbt build` writing the
warehouse for seconds after the run's writer lock was released."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def main() -> None:
    from orchestration.settings import DBT_EXECUTABLE

    parent = os.getppid()
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request took effect
        sys.exit(1)
    os.execv(DBT_EXECUTABLE, [DBT_EXECUTABLE, *sys.argv[1:]])
