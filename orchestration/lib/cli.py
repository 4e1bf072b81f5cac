"""The `closedloop` command: generate, run, ui.

Exit codes of `run`: 0 published; 1 data refused (nothing published, the reason printed); 2 unusable arguments
or configuration; 3 an unexpected failure of closedloop itself (nothing published; the log says where).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import textwrap
import traceback
from pathlib import Path

from orchestration.settings import DBT_EXECUTABLE, DBT_PROFILES_DIR, DBT_PROJECT_DIR, Settings, apply_to_environment, load_settings

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_CRASH = 0, 1, 2, 3
# Errors that mean "the delivered data was refused", as opposed to a bug or a broken environment.
REFUSAL_ERRORS = {"LandingError", "MissingSourceError"}


class UsageError(Exception):
    pass


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except UsageError as exc:
        print(f"closedloop: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception:  # a bug or a broken environment, not bad data: keep the traceback
        traceback.print_exc()
        print("closedloop: unexpected failure; nothing was published", file=sys.stderr)
        return EXIT_CRASH


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="closedloop", description="A closed-loop marketing warehouse.")
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("generate", help="write a realistic synthetic landing zone")
    generate.add_argument("--out", required=True, type=Path, help="landing directory to write")
    generate.add_argument("--leads", type=int, default=5000)
    generate.add_argument("--days", type=int, default=365)
    generate.add_argument("--seed", type=int, default=42)
    generate.add_argument("--format", choices=("csv", "parquet"), default="csv")
    generate.set_defaults(handler=_generate)

    run = commands.add_parser("run", help="run the nightly job once, in-process")
    run.add_argument("--landing", type=Path, help="landing directory (default: <data dir>/landing)")
    run.add_argument("--data-dir", type=Path, help="data directory (default: data/)")
    run.set_defaults(handler=_run)

    ui = commands.add_parser("ui", help="start the Dagster UI on localhost")
    ui.add_argument("--port", type=int, default=3000)
    ui.add_argument("--data-dir", type=Path)
    ui.add_argument("--landing", type=Path)
    ui.set_defaults(handler=_ui)
    return parser


def _generate(args) -> int:
    from orchestration.lib.generate import generate_landing
    from orchestration.lib.progress import progress

    if args.leads <= 0 or args.days <= 0:
        raise UsageError("--leads and --days must be positive")
    try:
        summary = generate_landing(
            args.out, leads=args.leads, days=args.days, seed=args.seed, fmt=args.format, progress=progress
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    for source, rows in summary["rows"].items():
        print(f"{source:>20}: {rows:>12,} rows")
    print(f"landing zone written to {args.out.resolve()} ({summary['files']} files)")
    return EXIT_OK


def _run(args) -> int:
    settings = load_settings(args.landing, args.data_dir)
    if not settings.landing_dir.is_dir():
        raise UsageError(f"the landing directory {settings.landing_dir} does not exist (set --landing or CLOSEDLOOP_LANDING_DIR)")
    if settings.dbt_target not in ("duckdb", "postgres"):
        raise UsageError(f"CLOSEDLOOP_DBT_TARGET must be duckdb or postgres, not {settings.dbt_target!r}")
    if settings.dbt_target != "duckdb":
        raise UsageError("`closedloop run` publishes from the embedded DuckDB warehouse; unset CLOSEDLOOP_DBT_TARGET")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    apply_to_environment(settings)
    prepare_dagster_home(settings)

    from orchestration.lib.lock import LockBusy, exclusive_lock

    try:
        with exclusive_lock(settings.data_dir / ".closedloop.lock"):
            prepare_dbt_manifest()
            return _execute(settings)
    except LockBusy as exc:
        raise UsageError(f"{exc}: one writer at a time; wait for it to finish") from exc


def _execute(settings: Settings) -> int:
    import dagster as dg

    from orchestration.definitions import defs

    job = defs.resolve_job_def("nightly")
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            # failures are summarised below; Dagster's own console lines would bury them in stack traces
            run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
        )
    if result.success:
        _print_summary(settings, result.run_id)
        return EXIT_OK
    return _print_failure(settings, result)


def _print_summary(settings: Settings, run_id: str) -> None:
    import duckdb

    from orchestration.lib.landing import loaded_in_run

    loaded = loaded_in_run(settings.warehouse_path, run_id)
    with duckdb.connect(str(settings.serving_path), read_only=True) as con:
        marts = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables"
            " where table_schema = 'marts' order by 1"
        ).fetchall()
        counts = [(name, con.execute(f"select count(*) from {name}").fetchone()[0]) for (name,) in marts]
    print(f"closedloop run {run_id}: published")
    print("  loaded this run:" if loaded else "  loaded this run: nothing new (every landing file was loaded before)")
    for source, files, rows in loaded:
        print(f"    {source:<20} {rows:>12,} rows from {files} file(s)")
    print("  marts published:")
    for name, rows in counts:
        print(f"    {name:<28} {rows:>12,} rows")
    print(f"  serving file (BI):  {settings.serving_path}")
    print(f"  report:             {settings.report_path}")
    print(f"  parquet exports:    {settings.exports_dir}")
    print(f"  build warehouse:    {settings.warehouse_path}")
    print(f"  run logs:           {settings.dagster_home} (closedloop ui shows them)")


def _print_failure(settings: Settings, result) -> int:
    failures = []
    for event in result.all_events:
        if event.is_step_failure:
            failures.append((event.step_key, _root_error(event.step_failure_data.error)))
    refused = [(step, err) for step, err in failures if err.cls_name in REFUSAL_ERRORS]
    serving = (
        f"the last good serving file {settings.serving_path} is unchanged"
        if settings.serving_path.exists()
        else "there is no serving file yet"
    )
    lines = [f"closedloop run {result.run_id}: {'data refused' if refused else 'failed'}; nothing was published ({serving})."]
    for step, err in refused or failures:
        lines.append(f"- {step.replace('__', '/')}: {_message(err)}")
    print("\n".join(textwrap.fill(line, 110, subsequent_indent="  ") for line in lines), file=sys.stderr)
    if not refused:
        for _, err in failures:
            print(err.to_string(), file=sys.stderr)
        print(f"Run logs: closedloop ui, or {settings.dagster_home}.", file=sys.stderr)
    return EXIT_REFUSED if refused else EXIT_CRASH


def _message(error) -> str:
    """The exception's own message, without Dagster's `module.Class: ` prefix."""
    text = error.message.strip()
    prefix = f"{error.cls_name}: "
    if prefix in text:
        text = text.split(prefix, 1)[1]
    return text.splitlines()[0] if text else error.cls_name


def _root_error(error):
    """The innermost user error of a Dagster failure (Dagster wraps what the asset raised)."""
    while error.cause is not None and error.cls_name.startswith("Dagster"):
        error = error.cause
    return error


def _ui(args) -> int:
    settings = load_settings(args.landing, args.data_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    apply_to_environment(settings)
    prepare_dagster_home(settings)
    prepare_dbt_manifest()
    dagster = shutil.which("dagster", path=str(Path(sys.executable).parent)) or "dagster"
    command = [dagster, "dev", "-m", "orchestration.definitions", "-h", "127.0.0.1", "-p", str(args.port)]
    print(f"Dagster UI on http://127.0.0.1:{args.port} (Ctrl-C stops it)")
    os.execvpe(command[0], command, os.environ)


def prepare_dagster_home(settings: Settings) -> None:
    """A persistent Dagster instance in the data dir: run history for the UI, telemetry off, one run at a time."""
    home = Path(os.environ["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(
            "telemetry:\n  enabled: false\n"
            "run_queue:\n  max_concurrent_runs: 1\n"
        )


def prepare_dbt_manifest() -> None:
    """Dagster's dbt assets load target/manifest.json, so parse the project before loading the definitions."""
    from orchestration.lib.progress import progress

    progress("dbt parse")
    completed = subprocess.run(
        [DBT_EXECUTABLE, "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROFILES_DIR)],
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"dbt parse failed:\n{completed.stdout}\n{completed.stderr}")


if __name__ == "__main__":
    sys.exit(main())
