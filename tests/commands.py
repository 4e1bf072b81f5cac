"""`closedloop` commands for the tests: each one its own process, forked from a helper that has already imported
the libraries every command needs.

A `closedloop run` spends about 13 s of CPU importing Dagster, dbt, Great Expectations, pandas and pyarrow before it
does any work, and the end-to-end scenarios run about 40 commands. The helper process imports those once; each
command is then a fresh child of it, with the environment, working directory, arguments, output and exit code it
would have as the console script, and it runs the console script's own function (`orchestration.cli.main`).
The helper also parses the dbt project and compiles its macros, which every command's dbt would do again (about
4 s a night): dbt keeps both per process, so a child starts with them. The helper lives as long as its pytest
worker. Tests that watch the process tree or signal the command (the kill test) run the console script itself:
`CLOSEDLOOP`.
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

CLOSEDLOOP = str(Path(sys.executable).parent / "closedloop")
# third-party only: importing them reads no closedloop setting, and none of them starts a thread (checked below)
PRELOAD = (
    "dagster",
    "dagster_dbt",
    "dbt.cli.main",
    "dbt.adapters.duckdb",
    "great_expectations",
    "pandas",
    "pyarrow.parquet",
    "scipy.optimize",
    "scipy.stats",
    "duckdb",
    "sqlalchemy",
)


def closedloop(*args: str, env: dict[str, str] | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    """Runs `closedloop <args>` as `subprocess.run([CLOSEDLOOP, *args], capture_output=True, text=True)` would."""
    return _helper().run([str(a) for a in args], dict(os.environ if env is None else env), timeout)


class _Helper:
    def __init__(self) -> None:
        self.outputs = Path(tempfile.mkdtemp(prefix="closedloop-commands-"))
        self.process = subprocess.Popen(
            [sys.executable, __file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.lock = threading.Lock()
        ready = self.process.stdout.readline()
        if ready.strip() != "ready":
            raise RuntimeError(f"the command helper did not start: {ready!r}")

    def run(self, args: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
        with self.lock:
            stdout, stderr = self.outputs / "stdout", self.outputs / "stderr"
            request = {"args": args, "env": env, "cwd": os.getcwd(), "stdout": str(stdout), "stderr": str(stderr)}
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            pid = int(self.process.stdout.readline())
            ready, _, _ = select.select([self.process.stdout], [], [], timeout)
            if not ready:
                os.kill(pid, signal.SIGKILL)
                self.process.stdout.readline()
                raise subprocess.TimeoutExpired(["closedloop", *args], timeout)
            code = int(self.process.stdout.readline())
            return subprocess.CompletedProcess(
                ["closedloop", *args], code, stdout.read_text(errors="replace"), stderr.read_text(errors="replace")
            )

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


_HELPER: _Helper | None = None


def _helper() -> _Helper:
    global _HELPER
    if _HELPER is None or _HELPER.process.poll() is not None:
        _HELPER = _Helper()
        atexit.register(_HELPER.close)
    return _HELPER


def _serve() -> None:
    """The helper process: imports, then forks one child per request line and answers its pid and exit code."""
    import importlib

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # as the quality gate sets it before its import
    for module in PRELOAD:
        importlib.import_module(module)
    _warm_dbt()
    if threading.active_count() != 1:
        raise RuntimeError(f"the helper started a thread ({threading.enumerate()}): forking would be unsafe")
    # what the helper imported stays out of the children's garbage collections: they would walk it, and copy every
    # page of it they touch
    gc.freeze()
    _answer("ready")
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _command(request)
        _answer(str(pid))
        _, status = os.waitpid(pid, 0)
        _answer(str(os.waitstatus_to_exitcode(status)))


def _warm_dbt() -> None:
    """What each command's dbt does first: parse the project (the runner keeps the manifest per process, by project
    and settings) and compile the macros' templates (dbt keeps them per process, by their text). A command whose
    settings change what dbt parses misses the first and parses for itself."""
    from dbt_common.clients.jinja import template_cache

    from orchestration.defs.dbt.runner import parsed_manifest
    from orchestration.settings import load_settings

    with tempfile.TemporaryDirectory() as data:
        manifest = parsed_manifest(load_settings(Path(data, "landing"), Path(data)))
    for macro in manifest.macros.values():
        template_cache.get_node_template(macro)


def _answer(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _command(request: dict) -> None:
    """In the child: become the command's process, run it, exit with its code. Never returns."""
    code = 1
    try:
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        _redirect(0, os.devnull, os.O_RDONLY)
        _redirect(1, request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        _redirect(2, request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        sys.argv = ["closedloop", *request["args"]]
        from orchestration.cli import main

        code = main(request["args"])
    except SystemExit as exc:  # argparse's usage errors and --help
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        try:
            atexit._run_exitfuncs()  # what the interpreter runs at a normal exit: logging, DuckDB, Dagster
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _redirect(fd: int, path: str, flags: int) -> None:
    target = os.open(path, flags, 0o644)
    os.dup2(target, fd)
    os.close(target)


if __name__ == "__main__":
    _serve()
