"""What the last published night was built from, so that a night with nothing new stops before it starts.

The marts depend on the data, never on the clock (the funnel's "now" is the newest time in the data:
docs/architecture.md), so a night whose inputs are those of the last published night would publish the same
bytes. Its inputs are: the content of every landing file, the warehouse's load-once bookkeeping (an `unload` or
an erasure changes it), the dbt project with its vars, every other setting, the pipeline's own code and the
serving file itself (replaced or removed by hand, it must be published again). A published night records them in
`<data dir>/state/published_night.json`; `closedloop run` and the nightly schedule compare before starting.
Landing files are recognised by name, size and modification time; a file that changed by those is hashed again,
so a file touched or copied again is still not new.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import duckdb

from orchestration.lib.files import atomic_write_text
from orchestration.lib.landing import discover, file_hash, remember_hash
from orchestration.lib.sql import table_exists
from orchestration.settings import SOURCES, Settings

STATE_FILE = Path("state") / "published_night.json"
CODE_DIR = Path(__file__).resolve().parents[1]  # orchestration/
# settings that change how or where a run looks, not what it publishes (the files are compared by content); a local
# Spark session sets spark_port to its Thrift server's free port for the length of the run
_NOT_PUBLISHED = ("landing_dir", "data_dir", "quiet", "keep_runs", "landing_settle_seconds", "spark_port")


def record_published_night(settings: Settings, run_id: str) -> Path:
    """Writes what tonight's published marts were built from (called once everything is published)."""
    files = {}
    for name, path in _landing_files(settings):
        stat = path.stat()
        files[name] = [stat.st_size, stat.st_mtime_ns, file_hash(path)]
    state = {
        "run_id": run_id,
        "inputs": _inputs(settings),
        "serving": _serving_stamp(settings),
        "files": files,
    }
    path = settings.data_dir / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(path, json.dumps(state, indent=1, sort_keys=True))


def nothing_new(settings: Settings) -> str | None:
    """The run id of the last published night when tonight would publish the same (nothing new landed, nothing
    else changed); None when the night must run."""
    try:
        state = json.loads((settings.data_dir / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    if state.get("serving") != _serving_stamp(settings) or _serving_written(settings):
        return None
    if state.get("inputs") != _inputs(settings):
        return None
    known = state.get("files", {})
    loaded = {entry[2] for entry in known.values()}
    for name, path in _landing_files(settings):
        stat = path.stat()
        entry = known.get(name)
        if entry and entry[:2] == [stat.st_size, stat.st_mtime_ns]:
            continue
        if file_hash(path) not in loaded:
            return None
    return state.get("run_id")


def remember_landing_hashes(settings: Settings) -> None:
    """Lets the load-once check reuse the hashes of the last published night's files that are unchanged by name,
    size and modification time, instead of reading every landing file again."""
    try:
        known = json.loads((settings.data_dir / STATE_FILE).read_text()).get("files", {})
    except (OSError, ValueError):
        return
    for name, (size, mtime_ns, digest) in known.items():
        remember_hash(settings.landing_dir / name, size, mtime_ns, digest)


def _inputs(settings: Settings) -> dict[str, str]:
    from orchestration.lib.prepare import dbt_project_digest

    return {
        "dbt_project": dbt_project_digest(),
        "settings": _settings_digest(settings),
        "code": _code_digest(),
        "warehouse": _warehouse_digest(settings),
    }


def _landing_files(settings: Settings):
    for source in SOURCES:
        for path in discover(settings.landing_dir, source):
            yield f"{source}/{path.name}", path


def _serving_stamp(settings: Settings) -> list[int] | None:
    try:
        stat = settings.serving_path.stat()
    except FileNotFoundError:
        return None
    return [stat.st_size, stat.st_mtime_ns, stat.st_ino]


def _serving_written(settings: Settings) -> bool:
    """A session that opened the serving file read-write (and may have written to it since the publish): the run
    then goes on, to replace the file or to say who holds it."""
    from orchestration.lib.publish import write_lock_holder

    return Path(f"{settings.serving_path}.wal").exists() or write_lock_holder(settings.serving_path) is not None


def _settings_digest(settings: Settings) -> str:
    from orchestration.lib.privacy import KEY_FILE

    values = {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings) if f.name not in _NOT_PUBLISHED}
    key_file = settings.data_dir / KEY_FILE  # the published cookie ids are keyed hashes
    values["key_file"] = key_file.read_text() if key_file.exists() else ""
    return hashlib.sha256(repr(sorted(values.items())).encode()).hexdigest()


def _code_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(CODE_DIR.rglob("*.py")):
        digest.update(str(path.relative_to(CODE_DIR)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _warehouse_digest(settings: Settings) -> str | None:
    """The files loaded into raw and the suppressed identifiers: an unload or an erasure changes them."""
    if not settings.warehouse_path.exists():
        return None
    try:
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            loaded = con.execute("select string_agg(file_hash, ',' order by file_hash) from raw._loaded_files")
            hashes = loaded.fetchone()[0] or ""
            suppressed = (
                table_exists(con, "raw", "_suppressed")
                and con.execute("select count(*) from raw._suppressed").fetchone()[0]
            )
    except duckdb.Error:  # no raw tables yet, or a warehouse another process holds
        return None
    return hashlib.sha256(f"{hashes}\0{suppressed}".encode()).hexdigest()
