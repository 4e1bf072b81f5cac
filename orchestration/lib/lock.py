"""One writer at a time: an exclusive advisory lock on a file in the data dir, held for the whole run.

The file names its holder (run id, pid, start time) so that a refused second writer can say who holds it. The
lock is the kernel's (flock): it is released when the holder exits, however it exits.
"""

from __future__ import annotations

import fcntl
import json
import os
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path


class LockBusy(Exception):
    pass


@contextmanager
def exclusive_lock(path: Path, holder: str = "closedloop"):
    """Holds the lock on `path` for the `with` block; raises LockBusy, naming the holder, when it is taken.
    `holder` says who takes it (a run id, `erase`)."""
    handle = _take(path)
    try:
        handle.seek(0)
        handle.truncate()
        started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        handle.write(json.dumps({"holder": holder, "pid": os.getpid(), "started_at": started}))
        handle.flush()
        yield
    finally:
        handle.close()


@contextmanager
def waiting_lock(path: Path):
    """Waits for the lock on `path`, for short critical sections (e.g. one dbt parse at a time)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def ensure_free(path: Path) -> None:
    """Raises LockBusy if another process holds the lock now (takes it and lets go at once)."""
    _take(path).close()


def _take(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")  # noqa: SIM115 - returned open: the lock lasts as long as the handle
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        handle.close()
        raise LockBusy(f"another closedloop run holds {path} ({describe_holder(path)})") from exc
    return handle


def describe_holder(path: Path) -> str:
    try:
        holder = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        holder = {}
    if not holder:
        return "holder unknown"
    return f"{holder.get('holder')}, pid {holder.get('pid')}, started {holder.get('started_at')}"
