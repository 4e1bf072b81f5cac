"""The `closedloop` command: generate, run, erase, ui.

Exit codes of `run`: 0 published, or nothing new; 1 data refused (nothing published, the reason printed); 2
unusable arguments or configuration; 3 an unexpected failure of closedloop itself (nothing published; the log
says where).
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import signal
import sys
import textwrap
import traceback
from pathlib import Path

from orchestration.lib.prepare import prepare_dagster_home, prepare_dbt_manifest
from orchestration.settings import Settings, apply_to_environment, load_settings

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_CRASH = 0, 1, 2, 3
# Errors that mean "someone else is using the data dir": another writer, a read-write session on the serving file.
BUSY_ERRORS = {"LockBusy", "ServingBusy"}


class UsageError(Exception):
    pass


def main(argv: list[str] | None = None) -> int:
    # a reader that stops early (`closedloop run | head`) ends the command quietly, as with any Unix tool; the
    # summary is printed only once the night's work is done
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    # a night makes millions of small objects that die young (dbt's per-node contexts, Dagster's events): the
    # collector's default of a pass every 700 allocations spent about 4 s of a small night (docs/benchmarks.md)
    gc.set_threshold(50_000, 20, 10)
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
    finally:
        # the heap goes with the process: Python's last collection of it at exit took about 3 s after a night
        gc.freeze()


def _parser() -> argparse.ArgumentParser:
    from importlib.metadata import version

    parser = argparse.ArgumentParser(
        prog="closedloop",
        description="A closed-loop marketing warehouse: touchpoints joined to people, deals and sales every night, "
        "published as marts for BI. Settings come from CLOSEDLOOP_* environment variables (see the README).",
    )
    parser.add_argument("--version", action="version", version=f"closedloop {version('closedloop')}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=summary, description=summary, formatter_class=_DefaultsHelp)

    generate = command("generate", "Write a realistic synthetic landing zone for every source, with ground_truth.json.")
    generate.add_argument("--out", required=True, type=Path, help="landing directory to write")
    generate.add_argument("--leads", type=int, default=5000, help="number of CRM leads")
    generate.add_argument("--days", type=int, default=365, help="days of history")
    generate.add_argument("--seed", type=int, default=42, help="random seed (same seed, same files)")
    generate.add_argument("--format", choices=("csv", "parquet"), default="csv", help="file format")
    generate.set_defaults(handler=_generate)

    run = command(
        "run",
        "Run the nightly job once, in-process: load new landing files, build, gate, publish (a night with nothing new "
        "since the last published one stops at once). Exit 0 published or nothing new, 1 data refused, "
        "2 unusable arguments or the data dir busy, 3 unexpected failure.",
    )
    run.add_argument(
        "--landing", type=Path, help="landing directory (default: CLOSEDLOOP_LANDING_DIR, else <data dir>/landing)"
    )
    run.add_argument("--data-dir", type=Path, help="data directory (default: CLOSEDLOOP_DATA_DIR, else data/)")
    run.add_argument(
        "--force",
        action="store_true",
        help="run even when nothing is new since the last published night (by default such a night stops at once)",
    )
    run.set_defaults(handler=_run)

    erase = command("erase", "Erase a person: purge their rows everywhere and suppress them on every later load.")
    person = erase.add_mutually_exclusive_group(required=True)
    person.add_argument("--email", help="the person's email (any spelling that normalises to it)")
    person.add_argument("--phone", help="the person's phone (without a country code: CLOSEDLOOP_DEFAULT_REGION)")
    erase.add_argument("--data-dir", type=Path, help="data directory (default: CLOSEDLOOP_DATA_DIR, else data/)")
    erase.set_defaults(handler=_erase)

    unload = command(
        "unload",
        "Take a delivered landing file back out of raw and the quarantine, so a bad delivery "
        "cannot block every later night; deliver the fixed file and run again.",
    )
    unload.add_argument("file", help="the landing file, as a path or <source>/<file name> inside the landing zone")
    unload.add_argument(
        "--landing", type=Path, help="landing directory (default: CLOSEDLOOP_LANDING_DIR, else <data dir>/landing)"
    )
    unload.add_argument("--data-dir", type=Path, help="data directory (default: CLOSEDLOOP_DATA_DIR, else data/)")
    unload.set_defaults(handler=_unload)

    ui = command("ui", "Start the Dagster UI (and its daemon: schedule and sensor) on localhost.")
    ui.add_argument("--port", type=int, default=3000, help="port on 127.0.0.1")
    ui.add_argument("--data-dir", type=Path, help="data directory (default: CLOSEDLOOP_DATA_DIR, else data/)")
    ui.add_argument(
        "--landing", type=Path, help="landing directory (default: CLOSEDLOOP_LANDING_DIR, else <data dir>/landing)"
    )
    ui.set_defaults(handler=_ui)
    return parser


class _DefaultsHelp(argparse.ArgumentDefaultsHelpFormatter):
    """Shows an option's default after its help, unless it has none (those say in words where it comes from)."""

    def _get_help_string(self, action):
        return action.help if action.default is None else super()._get_help_string(action)


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
        raise UsageError(
            f"the landing directory {settings.landing_dir} does not exist (set --landing or CLOSEDLOOP_LANDING_DIR)"
        )
    if settings.dbt_target not in ("duckdb", "postgres", "spark"):
        raise UsageError(f"CLOSEDLOOP_DBT_TARGET must be duckdb, postgres or spark, not {settings.dbt_target!r}")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    apply_to_environment(settings)
    prepare_dagster_home(settings)

    from orchestration.lib.lock import LockBusy, ensure_free

    try:
        ensure_free(settings.lock_path)  # fail before the parse; the job itself takes the lock for the run
    except LockBusy as exc:
        raise UsageError(f"{exc}: one writer at a time; wait for it to finish") from exc
    if not args.force:
        from orchestration.lib.night_state import nothing_new

        last_run = nothing_new(settings)
        if last_run is not None:
            _print_nothing_new(settings, last_run)
            return EXIT_OK
    prepare_dbt_manifest()
    return _execute(settings)


def _execute(settings: Settings) -> int:
    import dagster as dg

    from orchestration.definitions import defs

    job = defs.resolve_job_def("nightly")
    # what is loaded by now (Dagster, dbt, the definitions) lives until the process ends: kept out of the garbage
    # collector's passes, which walked all of it again and again during a night (docs/benchmarks.md)
    gc.freeze()
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            # failures are summarised below; Dagster's own console lines would bury them in stack traces
            run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
        )
    if result.success:
        _print_summary(settings, result.run_id)
        _print_erasures(result)
        return EXIT_OK
    return _print_failure(settings, result)


def _print_summary(settings: Settings, run_id: str) -> None:
    import duckdb

    from orchestration.lib.landing import loaded_in_run
    from orchestration.lib.sql import list_tables

    loaded = loaded_in_run(settings.warehouse_path, run_id)
    with duckdb.connect(str(settings.serving_path), read_only=True) as con:
        marts = [f"{schema}.{table}" for schema, table in list_tables(con, "marts")]
        counts = [(name, con.execute(f"select count(*) from {name}").fetchone()[0]) for name in marts]
        gate = con.execute(
            "select rows_checked, rows_quarantined from quality.runs where run_id = ?", [run_id]
        ).fetchone()
    print(f"closedloop run {run_id}: published")
    print("  loaded this run:" if loaded else "  loaded this run: nothing new (every landing file was loaded before)")
    for source, files, rows in loaded:
        print(f"    {source:<20} {rows:>12,} rows from {files} file(s)")
    print("  marts published:")
    width = max((len(name) for name, _ in counts), default=28)
    for name, rows in counts:
        print(f"    {name:<{width}} {rows:>12,} rows")
    if gate:
        print(f"  quality gate:       passed; {gate[0]:,} rows checked, {gate[1]:,} quarantined (quality.quarantine)")
    _print_paths(settings)
    _print_ltv_against_truth(settings)


def _print_nothing_new(settings: Settings, last_run: str) -> None:
    print(f"closedloop run: nothing new since the published night {last_run}; nothing rebuilt or republished")
    print(
        "  every landing file was loaded before, and the dbt project, the settings, the code and the serving file are"
        " those of that night (closedloop run --force runs anyway)"
    )
    _print_paths(settings)


def _print_paths(settings: Settings) -> None:
    megabytes = settings.serving_path.stat().st_size / 1e6
    print(f"  serving file (BI):  {settings.serving_path} ({megabytes:,.1f} MB; open it read-only)")
    if settings.serving_url:
        from orchestration.lib.serving_postgres import describe_url

        print(f"  PostgreSQL (BI):    {describe_url(settings.serving_url)} (schemas marts, quality)")
    print(f"  report:             {settings.report_path}")
    print(f"  data docs (GX):     {settings.quality_dir / 'docs' / 'index.html'}")
    print(f"  dbt docs:           {settings.data_dir / 'docs' / 'dbt' / 'index.html'}")
    print(f"  parquet exports:    {settings.exports_dir}")
    if settings.dbt_target == "postgres":
        from orchestration.lib.postgres import postgres_settings_from_env

        pg = postgres_settings_from_env()
        print(
            f"  build warehouse:    PostgreSQL {pg['user']}@{pg['host']}:{pg['port']}/{pg['dbname']}"
            f" (landing files loaded through {settings.warehouse_path})"
        )
    elif settings.dbt_target == "spark":
        print(
            f"  build warehouse:    Spark, tables under {settings.data_dir / 'spark' / 'warehouse'}"
            f" (landing files loaded through {settings.warehouse_path})"
        )
    else:
        print(f"  build warehouse:    {settings.warehouse_path}")
    print(f"  run logs:           {settings.dagster_home} (closedloop ui shows them)")


def _print_ltv_against_truth(settings: Settings) -> None:
    """On a generated landing zone: per paid channel, the published LTV (ltv_3y) beside the generator's true
    expected value (ground_truth.json), with LTV:CAC, its band and confidence."""
    import json

    import duckdb

    truth_path = settings.landing_dir / "ground_truth.json"
    if not truth_path.is_file():
        return
    truth = json.loads(truth_path.read_text(encoding="utf-8")).get("customer_value")
    if not truth:
        return
    channels = ["all", *truth["paid_channels"]]
    with duckdb.connect(str(settings.serving_path), read_only=True) as con:
        rows = {
            r[0]: r[1:]
            for r in con.execute(
                "select segment_value, customers, ltv_3y, ltv_to_cac, ltv_to_cac_band, confidence"
                " from marts.mart_ltv_segments"
                " where segment_type = 'overall' or (segment_type = 'acquisition_channel' and segment_value in ("
                + ", ".join("?" for _ in truth["paid_channels"])
                + "))",
                truth["paid_channels"],
            ).fetchall()
        }
    print(f"  LTV ({truth['years']}-year discounted gross margin per customer) against the generator's truth:")
    for channel in channels:
        expected = truth["expected_discounted_gross_margin"]
        customers, ltv, ratio, band, confidence = rows.get(channel, (0, None, None, None, None))
        published = "—" if ltv is None else f"{ltv:,.0f} ({(ltv - expected) / expected:+.0%})"
        ratio_text = "—" if ratio is None else f"{ratio:.2f}"
        print(
            f"    {channel:<14} {customers or 0:>4} customers  published {published:<18} true {expected:,.0f}"
            f"  LTV:CAC {ratio_text} {band or ''} ({confidence or 'no row'})"
        )


def _print_erasures(result) -> None:
    """Erasure work of the run, from the steps' metadata: rows the loaders suppressed, requests the erasure step
    applied (printed only when there was some)."""
    totals = {"rows_suppressed": 0, "requests_applied": 0, "requests_unusable": 0, "rows_erased": 0}
    for event in result.get_asset_materialization_events():
        for name, value in event.materialization.metadata.items():
            if name in totals:
                totals[name] += int(value.value)
    if totals["requests_applied"] or totals["requests_unusable"]:
        unusable = totals["requests_unusable"]
        print(
            f"  erasure requests:   {totals['requests_applied']} applied, {totals['rows_erased']:,} rows removed"
            + (f"; {unusable} named no valid email or phone (ignored)" if unusable else "")
        )
    if totals["rows_suppressed"]:
        print(f"  suppression list:   {totals['rows_suppressed']:,} delivered rows of erased people left out")


def _erase(args) -> int:
    from orchestration.lib.erasure import ErasureError, erase, parse_request
    from orchestration.lib.lock import LockBusy, exclusive_lock
    from orchestration.lib.publish import ServingBusy

    settings = load_settings(None, args.data_dir)
    try:
        seeds = parse_request(args.email, args.phone, settings.default_phone_region)
    except ErasureError as exc:
        raise UsageError(str(exc)) from exc
    prepare_dbt_manifest()  # which columns hold personal data: the dbt YAML's tags, read from the manifest
    try:
        with exclusive_lock(settings.lock_path, holder="erase"):
            result = erase(settings, seeds)
    except LockBusy as exc:
        raise UsageError(f"{exc}: one writer at a time; erase again when it has finished") from exc
    except ServingBusy as exc:
        raise UsageError(f"erase is not finished: {exc} `closedloop erase` again finishes it.") from exc
    found = ", ".join(f"{count} {kind}" for kind, count in result.identifiers.items())
    print(f"closedloop erase: done (keys of the person found: {found})")
    removed = {table: rows for table, rows in result.removed.items() if rows}
    print("  rows removed:" if removed else "  rows removed: none (no rows of this person in the data dir)")
    for table, rows in removed.items():
        print(f"    {table:<40} {rows:>10,}")
    print(
        f"  suppression list:   {result.suppressed} new identifier hash(es) in raw._suppressed,"
        " applied on every later load"
    )
    for path in result.rewritten:
        print(f"  rewritten:          {path}")
    return EXIT_OK


def _unload(args) -> int:
    from datetime import UTC, datetime

    from orchestration.lib.lock import LockBusy, exclusive_lock
    from orchestration.lib.spark import engine_session
    from orchestration.lib.unload import UnloadError, unload

    settings = load_settings(args.landing, args.data_dir)
    try:
        with exclusive_lock(settings.lock_path, holder="unload"), engine_session(settings) as spark:
            result = unload(
                settings.warehouse_path,
                settings.landing_dir,
                args.file,
                datetime.now(UTC).replace(tzinfo=None),
                spark,
            )
    except LockBusy as exc:
        raise UsageError(f"{exc}: one writer at a time; unload when it has finished") from exc
    except UnloadError as exc:
        raise UsageError(str(exc)) from exc
    print(
        f"closedloop unload: {result.source}/{result.file_name}: {len(result.versions)} delivery(ies),"
        f" {result.rows:,} rows taken out of raw.{result.source}"
    )
    for digest, run_id, rows in result.versions:
        print(f"    content {digest[:12]}…  loaded by run {run_id}  {rows:,} rows")
    if result.kept_current:
        print("  the file now in the landing zone is loaded and stays")
    if result.keys_released:
        print(f"  {result.keys_released:,} touchpoint id(s) released from the quarantine, checked again next run")
    print("  the next `closedloop run` rebuilds the marts without it; the serving file changes only then")
    return EXIT_OK


def _print_failure(settings: Settings, result) -> int:
    failures = []
    for event in result.all_events:
        if event.is_step_failure:
            failures.append((event.step_key, _root_error(event.step_failure_data.error)))
        elif event.event_type_value == "RESOURCE_INIT_FAILURE" and event.event_specific_data.error:
            # the run's resources open first: the writer lock, a read-write session on the serving file
            failures.append(("settings", _root_error(event.event_specific_data.error)))
    busy = [err for _, err in failures if err.cls_name in BUSY_ERRORS]
    if busy:
        after = (
            " Nothing was published; the next run publishes this night." if busy[0].cls_name == "ServingBusy" else ""
        )
        print(f"closedloop: {_message(busy[0])}{after}", file=sys.stderr)
        return EXIT_USAGE
    from orchestration.lib.refused_night import REFUSAL_ERRORS

    refused = [(step, err) for step, err in failures if err.cls_name in REFUSAL_ERRORS]
    lines = [
        f"closedloop run {result.run_id}: {'data refused' if refused else 'failed'};"
        f" {_published_state(settings, result)}."
    ]
    for step, err in refused or failures:
        if err.cls_name == "DagsterAssetCheckFailedError":
            lines.append(_gate_reason(settings, result.run_id) or f"- {step}: {_message(err)}")
        else:
            lines.append(f"- {step.replace('__', '/')}: {_message(err)}")
    lines += _committed_before_refusal(settings, result.run_id)
    # never break inside a path or key: users copy them from here
    wrap = textwrap.TextWrapper(110, subsequent_indent="  ", break_long_words=False, break_on_hyphens=False)
    print("\n".join(wrap.fill(line) for line in lines), file=sys.stderr)
    if not refused:
        for _, err in failures:
            print(err.to_string(), file=sys.stderr)
        print(f"Run logs: closedloop ui, or {settings.dagster_home}.", file=sys.stderr)
    return EXIT_REFUSED if refused else EXIT_CRASH


def _published_state(settings: Settings, result) -> str:
    """What readers see now: whether this run replaced the serving file before it failed."""
    published = any(event.asset_key.path == ["serving", "marts"] for event in result.get_asset_materialization_events())
    if published:
        return f"the serving file {settings.serving_path} was published, a later step failed"
    if not settings.serving_path.exists():
        return "nothing was published (there is no serving file yet)"
    if _latest_run_recorded(settings, result.run_id):
        return (
            f"the marts were not refreshed: {settings.serving_path} keeps the last good night's marts, and its"
            " quality tables and the report record this refused run"
        )
    return f"nothing was published (the last good serving file {settings.serving_path} is unchanged)"


def _latest_run_recorded(settings: Settings, run_id: str) -> bool:
    import duckdb

    try:
        with duckdb.connect(str(settings.serving_path), read_only=True) as con:
            return bool(con.execute("select count(*) from quality.runs where run_id = ?", [run_id]).fetchone()[0])
    except duckdb.Error:
        return False


def _committed_before_refusal(settings: Settings, run_id: str) -> list[str]:
    """Files load one transaction each, so a refused run may have committed the files before the bad one: they
    stay in raw (the next run does not load them again) and are published by the next run that passes."""
    from orchestration.lib.landing import loaded_in_run

    try:
        loaded = loaded_in_run(settings.warehouse_path, run_id) if settings.warehouse_path.exists() else []
    except Exception:  # a warehouse this run could not even open has nothing to report
        return []
    if not loaded:
        return []
    parts = ", ".join(f"{source} {rows:,} rows from {files} file(s)" for source, files, rows in loaded)
    return [f"Loaded into raw by this run before it stopped, kept for the next run: {parts}."]


def _gate_reason(settings: Settings, run_id: str) -> str | None:
    """The paragraph the quality gate recorded for this run (dataset, rule, rows, sample keys, report)."""
    import duckdb

    from orchestration.lib.sql import sql_literal
    from orchestration.lib.warehouse import open_warehouse

    query = f"select blocking_reason from quality.runs where run_id = {sql_literal(run_id)}"
    if settings.dbt_target == "spark":  # the session ended with the run; the refused-night hook published the row
        with duckdb.connect(str(settings.serving_path), read_only=True) as con:
            found = con.execute(query).fetchall()
        return found[0][0] if found else None
    with open_warehouse(settings.dbt_target, settings.warehouse_path) as warehouse:
        rows = warehouse.read_text(query)
    return rows.column("blocking_reason")[0].as_py() if rows.num_rows else None


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


if __name__ == "__main__":
    sys.exit(main())
