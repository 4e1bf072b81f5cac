"""What `closedloop run` and `closedloop ui` set up before they load the Dagster definitions: the Dagster
instance's home in the data dir, and dbt's manifest (parsed only when the project changed)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from orchestration.lib.files import atomic_replace, atomic_write_text, replace_synced
from orchestration.settings import DBT_EXECUTABLE, DBT_PROFILES_DIR, DBT_PROJECT_DIR, Settings, load_settings

DAGSTER_YAML = """\
telemetry:
  enabled: false
run_queue:
  max_concurrent_runs: 1
event_log_storage:
  module: orchestration.lib.run_history
  class: RunHistoryEventLogStorage
"""
_EARLIER_DAGSTER_YAML = "telemetry:\n  enabled: false\nrun_queue:\n  max_concurrent_runs: 1\n"
# profile values read only when a command connects, never by the models: fixed while parsing, so one parse cache
# serves every data dir
PARSE_ENV = {
    "CLOSEDLOOP_DATA_DIR": str(DBT_PROJECT_DIR / "target" / "in_process"),
    "CLOSEDLOOP_SPARK_PORT": "10000",
}
_PER_DATA_DIR = {"CLOSEDLOOP_LANDING_DIR", "DBT_LOG_PATH", "DBT_TARGET_PATH"}


def prepare_dagster_home(settings: Settings) -> None:
    """A persistent Dagster instance in the data dir: run history for the UI (its event log recorded by
    orchestration/lib/run_history.py), telemetry off, one run at a time."""
    home = Path(os.environ["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    # written by closedloop, never by hand: brought up to date (earlier versions wrote the first lines only)
    if not config.exists() or config.read_text() == _EARLIER_DAGSTER_YAML:
        config.write_text(DAGSTER_YAML)


def prepare_dbt_manifest() -> None:
    """Dagster's dbt assets load target/manifest.json, so parse the project before loading the definitions —
    unless the project and the settings it reads are unchanged since the last parse (a parse takes seconds).
    One parse at a time, into a scratch folder whose files then replace the old ones: a process loading the
    manifest meanwhile reads the old one or the new one, whole."""
    from orchestration.lib.lock import waiting_lock
    from orchestration.lib.progress import progress

    target = DBT_PROJECT_DIR / "target"
    # parsed with the vars the night's dbt commands pass, so their partial parse is reused, not redone
    settings = load_settings()
    manifest, stamp = target / "manifest.json", target / "manifest.fingerprint"
    fingerprint = dbt_project_fingerprint()
    with waiting_lock(target / ".parse.lock"):
        if manifest.exists() and stamp.exists() and stamp.read_text() == fingerprint:
            return
        progress("dbt parse")
        scratch = Path(tempfile.mkdtemp(prefix=".parse-", dir=target))
        try:
            # parse only what changed, from the cache of this engine and these settings: the last parse here may
            # have been another data dir's or another engine's, whose profile would make dbt parse everything
            cache = parse_cache_dir(settings) / "partial_parse.msgpack"
            if cache.exists():
                shutil.copy2(cache, scratch)
            completed = subprocess.run(
                [
                    DBT_EXECUTABLE,
                    "parse",
                    "--quiet",
                    "--project-dir",
                    str(DBT_PROJECT_DIR),
                    "--profiles-dir",
                    str(DBT_PROFILES_DIR),
                    "--target-path",
                    str(scratch),
                    *settings.dbt_vars_args(),
                ],
                capture_output=True,
                text=True,
                env={**os.environ, **PARSE_ENV},
            )
            if completed.returncode != 0:
                raise RuntimeError(f"dbt parse failed:\n{completed.stdout}\n{completed.stderr}")
            parsed = scratch / "partial_parse.msgpack"
            if parsed.exists():  # the run's own dbt parses next: from tonight's cache
                cache.parent.mkdir(parents=True, exist_ok=True)
                atomic_replace(cache, lambda temporary: shutil.copy2(parsed, temporary))
            for name in ("partial_parse.msgpack", "manifest.json"):
                if (scratch / name).exists():
                    replace_synced(scratch / name, target / name)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        atomic_write_text(stamp, fingerprint)


def parse_cache_dir(settings: Settings) -> Path:
    """`target/in_process/<setup>`: dbt's parse cache for one engine, its connection settings and the vars. dbt's
    cache is valid for one profile and one set of vars, so processes on other engines or settings (the test suite
    runs several side by side) keep their own and do not invalidate each other's."""
    import hashlib

    env = settings.dbt_env()
    connection = sorted((k, v) for k, v in env.items() if k not in PARSE_ENV and k not in _PER_DATA_DIR)
    setup = hashlib.sha256((repr(connection) + " ".join(settings.dbt_vars_args())).encode()).hexdigest()[:16]
    return DBT_PROJECT_DIR / "target" / "in_process" / setup


def dbt_project_fingerprint() -> str:
    """The dbt project's files, the vars the job passes (`Settings.dbt_vars`) and the environment variables the
    files read (`env_var(...)`), but not where the data lives: that is read at run time, and every data dir shares
    one manifest."""
    import hashlib

    digest = hashlib.sha256(dbt_project_digest().encode())
    for name in sorted(_project_env_vars()):
        if name not in ("CLOSEDLOOP_LANDING_DIR", "CLOSEDLOOP_DATA_DIR"):
            digest.update(f"{name}={os.environ.get(name, '')}\0".encode())
    return digest.hexdigest()


def dbt_project_digest() -> str:
    """The dbt project's files and the vars the job passes: what the models compute, whatever the process."""
    import hashlib

    digest = hashlib.sha256()
    for path in _project_files():
        digest.update(str(path.relative_to(DBT_PROJECT_DIR)).encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(b"vars\0" + " ".join(load_settings().dbt_vars_args()).encode() + b"\0")
    return digest.hexdigest()


def _project_files() -> list[Path]:
    files = [DBT_PROJECT_DIR / "dbt_project.yml", *sorted((DBT_PROJECT_DIR / "dbt_project").rglob("*"))]
    return [path for path in files if path.is_file() and path.suffix in (".yml", ".sql", ".csv", ".md")]


def _project_env_vars() -> set[str]:
    import re

    names: set[str] = set()
    for path in _project_files():
        names |= {n.decode() for n in re.findall(rb"env_var\(\s*['\"]([A-Za-z0-9_]+)['\"]", path.read_bytes())}
    return names
