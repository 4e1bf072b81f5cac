"""dbt inside the run's own process (dbt-core's `dbtRunner`), not a `dbt` child process per invocation.

A child pays for its own start on every invocation: importing dbt, registering the adapter, reading the parse cache.
On a small night that was most of dbt's time (docs/benchmarks.md). In-process, the run parses the project once and
hands the parsed manifest to each invocation, and a killed run takes its dbt with it: there is no child to outlive
it and write the warehouse after the writer lock is gone.

dbt runs in the calling thread, so Ctrl-C or a Dagster termination interrupts dbt itself, which cancels its open
queries. dbt's console output goes to `<data dir>/logs/dbt.log` as text, its debug log to the invocation's folder.
"""

from __future__ import annotations

import contextlib
import gc
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestration.settings import DBT_PROFILES_DIR, DBT_PROJECT_DIR, Settings

# what dbt reports once per node; dagster-dbt turns these into outputs and asset checks
RESULT_EVENTS = frozenset({"LogSeedResult", "LogModelResult", "LogSnapshotResult", "LogTestResult"})
# parsed manifests by project fingerprint and connection settings: a process parses the project once
_MANIFESTS: dict[str, Any] = {}
_PARSE_LOCK = threading.Lock()


@dataclass
class Invocation:
    command: str
    target_path: Path
    success: bool = False
    results: list[dict] = field(default_factory=list)  # the node result events, as dbt's JSON log writes them
    errors: list[str] = field(default_factory=list)
    exception: BaseException | None = None


def invoke(
    cfg: Settings,
    args: list[str],
    target_path: Path,
    on_result: Callable[[dict], None] | None = None,
) -> Invocation:
    """Runs `dbt <args>` with the project's parsed manifest; dbt's text lines are appended to the data dir's
    dbt.log. `on_result` sees each node's result event as it comes (from dbt's worker threads)."""
    from dbt.cli.main import dbtRunner

    manifest = parsed_manifest(cfg)
    target_path.mkdir(parents=True, exist_ok=True)
    done = Invocation(command=" ".join(args), target_path=target_path)
    with _text_log(cfg, done, on_result) as callback:
        try:
            # --no-write-json: dbt would write the whole manifest.json (1.9 MB) again on every invocation, 0.1-0.3 s
            # each; the parse already wrote it beside the project. run_results.json is written below instead
            result = dbtRunner(manifest=manifest, callbacks=[callback]).invoke(
                [*args, "--no-write-json", *_common_args(target_path), *cfg.dbt_vars_args()]
            )
        finally:
            _close_duckdb()
    if hasattr(result.result, "write"):
        result.result.write(str(target_path / "run_results.json"))
    done.success, done.exception = result.success, result.exception
    return done


def parsed_manifest(cfg: Settings):
    """The project parsed once per process, for the profile's target and its connection settings.

    Where the data lives is left out of the parse: the DuckDB file's folder and the local Spark server's port are
    read when a command connects, never by the models. So every data dir shares one parse cache beside the
    checkout, and a new data dir (every test, every benchmark size) parses only what changed, not the whole
    project."""
    from dbt.cli.main import dbtRunner

    from orchestration.lib.lock import waiting_lock
    from orchestration.lib.prepare import PARSE_ENV, dbt_project_fingerprint, parse_cache_dir

    cache = parse_cache_dir(cfg)
    key = dbt_project_fingerprint() + cache.name
    with _PARSE_LOCK:
        if key not in _MANIFESTS:
            done = Invocation(command="parse", target_path=cache)
            with waiting_lock(cache / ".parse.lock"), environment(PARSE_ENV), _text_log(cfg, done) as callback:
                result = dbtRunner(callbacks=[callback]).invoke(
                    ["parse", "--no-write-json", *_common_args(cache), *cfg.dbt_vars_args()]
                )
            if not result.success:
                raise RuntimeError(failure_message(done) if done.errors else f"dbt parse failed: {result.exception}")
            _MANIFESTS[key] = result.result
            gc.freeze()  # the manifest lives as long as the process: kept out of the garbage collector's passes
        return _MANIFESTS[key]


@contextlib.contextmanager
def _text_log(cfg: Settings, done: Invocation, on_result: Callable[[dict], None] | None = None):
    """A dbt callback that writes what dbt's console would show to `<data dir>/logs/dbt.log` and keeps the node
    results and error lines in `done`."""
    from dbt_common.events.functions import msg_to_dict

    cfg.logs_dir.mkdir(parents=True, exist_ok=True)
    lock = threading.Lock()
    with open(cfg.logs_dir / "dbt.log", "a") as log:

        def callback(msg) -> None:
            level = msg.info.level
            with lock:
                if level in ("info", "warn", "error"):
                    stamp = time.strftime("%H:%M:%S", time.gmtime(msg.info.ts.seconds))
                    log.write(f"{stamp}  {msg.info.msg}\n")
                if level == "error":
                    done.errors.append(msg.info.msg)
                if msg.info.name in RESULT_EVENTS:
                    event = msg_to_dict(msg)
                    done.results.append(event)
                    if on_result is not None:
                        on_result(event)

        yield callback


@contextlib.contextmanager
def environment(values: dict[str, str]):
    """`values` in os.environ while the block runs (dbt's profile reads them), the previous values after."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _close_duckdb() -> None:
    """dbt-duckdb keeps its database open in the process after a command; the job's own steps open the same file
    next, with other settings, which DuckDB refuses while it is open."""
    import sys

    if "dbt.adapters.duckdb.connections" not in sys.modules:
        return
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager as manager

    with manager._LOCK:
        if manager._ENV is not None:
            manager._ENV.close()
            manager._ENV = None


def invocation_dir(cfg: Settings, step: str, run_id: str) -> Path:
    """`<data dir>/dbt/target/<step>-<run>-<id>`: the invocation's compiled SQL, run_results.json and debug log
    (housekeeping keeps those of the last runs only)."""
    return cfg.dbt_target_dir / f"{step}-{run_id[:7]}-{uuid.uuid4().hex[:7]}"


def _common_args(target_path: Path) -> list[str]:
    return [
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROFILES_DIR),
        "--target-path",
        str(target_path),
        "--log-path",
        str(target_path),
        "--log-level",
        "none",  # the callback writes the text lines
        "--no-use-colors",
        "--no-send-anonymous-usage-stats",
    ]


def failure_message(done: Invocation) -> str:
    first = done.errors[0] if done.errors else str(done.exception or "see the log")
    lines = [f"dbt {done.command.split(' ')[0]} failed: {first.strip()}"]
    lines += [error.strip() for error in done.errors[1:]]
    lines.append(f"dbt's debug log: {done.target_path / 'dbt.log'}")
    return "\n".join(lines)
