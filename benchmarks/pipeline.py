"""Times each stage of the nightly pipeline on generated data and prints a table.

    python benchmarks/pipeline.py --leads 100000 [--days 365] [--workdir DIR]

Stages: generate, extract (landing → raw), dbt staging, the quality gate, identity resolution, dbt marts, publish
(+ exports and report); then the same on a second night: the newest month of files is held back from the first
night and delivered on the second, to time the incremental path. Each stage runs in its own process so its peak memory
(max RSS) is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def stage_generate(work: Path, leads: int, days: int) -> dict:
    from orchestration.lib.generate import generate_landing

    summary = generate_landing(work / "landing", leads=leads, days=days, seed=1)
    return {"rows": sum(summary["rows"].values()), "touchpoints": summary["rows"]["touchpoints"]}


def stage_extract(work: Path) -> dict:
    import duckdb

    from orchestration.lib.contract import CONTRACTS
    from orchestration.lib.landing import discover, ensure_raw_tables, load_source

    rows = 0
    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
    with duckdb.connect(str(work / "data" / "warehouse.duckdb")) as con:
        ensure_raw_tables(con)
        for source in CONTRACTS:
            rows += load_source(con, source, discover(work / "landing", source), "bench", loaded_at).rows
    return {"rows": rows}


def stage_dbt(work: Path, select: str) -> dict:
    from orchestration.settings import DBT_EXECUTABLE, DBT_PROFILES_DIR, DBT_PROJECT_DIR

    env = {**os.environ, "CLOSEDLOOP_DATA_DIR": str(work / "data"), "CLOSEDLOOP_DBT_TARGET": "duckdb"}
    command = [DBT_EXECUTABLE, "build", "--select", *select.split(), "--project-dir", str(DBT_PROJECT_DIR),
               "--profiles-dir", str(DBT_PROFILES_DIR), "--target-path", str(work / "target"),
               "--log-path", str(work / "logs")]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(result.stdout[-3000:])
    return {}


def stage_identity(work: Path) -> dict:
    """Identity resolution (the identity asset's work): edges in, people, hashes and the duplicate rate out."""
    from orchestration.lib.people import resolve_identity
    from orchestration.lib.warehouse import open_warehouse

    data = work / "data"
    with open_warehouse("duckdb", data / "warehouse.duckdb") as warehouse:
        outcome = resolve_identity(warehouse, b"benchmark", "bench", 0.05)
    return {"rows": outcome.identifiers, "people": outcome.people}


def stage_gate(work: Path, night: str) -> dict:
    """The quality gate: Great Expectations suites in SQL, quarantine, quality tables, Data Docs."""
    from orchestration.lib.quality import warehouse_url
    from orchestration.lib.quality.gate import run_gate
    from orchestration.settings import Settings

    data = work / "data"
    settings = Settings(landing_dir=work / "landing", data_dir=data)
    outcome = run_gate(warehouse_url(settings), data / "quality", f"bench-{night}", 0.02)
    if not outcome.passed:
        print(f"gate blocked (the benchmark goes on): {outcome.blocking_reason}")
    return {"rows": sum(d.rows_checked for d in outcome.datasets)}


def stage_publish(work: Path) -> dict:
    from orchestration.lib.publish import export_parquet, publish
    from orchestration.lib.report import write_report

    data = work / "data"
    published = publish(data / "warehouse.duckdb", data / "serving.duckdb", "bench")
    export_parquet(data / "serving.duckdb", data / "exports")
    write_report(data / "serving.duckdb", data / "report" / "index.html")
    return {"rows": sum(published.tables.values())}


# the pipeline's two selections (orchestration/defs/dbt/assets.py); the gate and identity run between them
STAGING = "fqn:staging fqn:quality resource_type:seed int_identity__edges"
MARTS = "fqn:intermediate fqn:marts --exclude int_identity__edges"


def run_stage(name: str, work: Path, args) -> tuple[float, float, dict]:
    """Runs one stage in a child process; returns (seconds, peak RSS in MB, stage output)."""
    out = work / f"{name}.json"
    command = [sys.executable, __file__, "--stage", name, "--workdir", str(work), "--leads", str(args.leads),
               "--days", str(args.days), "--night", getattr(args, "night", "full")]
    start = time.monotonic()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"stage {name} failed")
    # ru_maxrss covers the child and, for dbt stages, the dbt process it waited for
    return seconds, usage.ru_maxrss / 1024, json.loads(out.read_text()) if out.exists() else {}


def hold_back_newest_month(landing: Path, held: Path) -> int:
    moved = 0
    for folder in landing.iterdir():
        files = sorted(folder.glob("*.*"))
        if len(files) > 1:
            (held / folder.name).mkdir(parents=True, exist_ok=True)
            shutil.move(str(files[-1]), held / folder.name / files[-1].name)
            moved += 1
    return moved


def deliver(held: Path, landing: Path) -> None:
    for folder in held.iterdir():
        for file in folder.iterdir():
            shutil.move(str(file), landing / folder.name / file.name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--stage")
    parser.add_argument("--night", default="full")
    args = parser.parse_args()

    if args.stage:
        work = args.workdir
        result = {
            "generate": lambda: stage_generate(work, args.leads, args.days),
            "extract": lambda: stage_extract(work),
            "dbt_staging": lambda: stage_dbt(work, STAGING),
            "gate": lambda: stage_gate(work, args.night),
            "identity": lambda: stage_identity(work),
            "dbt_marts": lambda: stage_dbt(work, MARTS),
            "publish": lambda: stage_publish(work),
        }[args.stage]()
        (work / f"{args.stage}.json").write_text(json.dumps(result))
        return

    work = args.workdir or REPO / "benchmarks" / "out" / f"leads_{args.leads}"
    shutil.rmtree(work, ignore_errors=True)
    (work / "data").mkdir(parents=True)
    rows = []
    seconds, rss, generated = run_stage("generate", work, args)
    rows.append(("generate", seconds, rss, generated.get("rows")))
    hold_back_newest_month(work / "landing", work / "held")
    for night in ("full", "incremental"):
        if night == "incremental":
            deliver(work / "held", work / "landing")
        args.night = night
        for stage in ("extract", "dbt_staging", "gate", "identity", "dbt_marts", "publish"):
            seconds, rss, output = run_stage(stage, work, args)
            rows.append((f"{night}: {stage}", seconds, rss, output.get("rows")))

    print(f"\nclosedloop pipeline benchmark: {args.leads:,} leads, {generated.get('touchpoints', 0):,} touchpoints,"
          f" {os.cpu_count()} cores")
    print(f"{'stage':<28}{'seconds':>10}{'peak MB':>10}{'rows':>14}")
    for name, seconds, rss, count in rows:
        print(f"{name:<28}{seconds:>10.1f}{rss:>10.0f}{(f'{count:,}' if count is not None else ''):>14}")
    warehouse = work / "data" / "warehouse.duckdb"
    print(f"warehouse size: {warehouse.stat().st_size / 1e6:,.0f} MB; serving size:"
          f" {(work / 'data' / 'serving.duckdb').stat().st_size / 1e6:,.0f} MB")


if __name__ == "__main__":
    main()
