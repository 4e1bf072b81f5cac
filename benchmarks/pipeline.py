"""What a night costs: three `closedloop run` nights on generated data, beside the floor, and the growth with size.

    python benchmarks/pipeline.py --leads 100000 [1000000] [--days 365] [--workdir DIR] [--target duckdb|postgres|spark]
                                  [--nights full]

After an untimed warm-up night on 200 leads (what happens once per change of the dbt project: its parse and the
dbt docs site), for each size: generate N leads with the newest month of files held back, then run `closedloop
run` three times: a full night, a night with one new month delivered, and a night with nothing new. Each night
gives its seconds, its stage times (from the run's progress lines: startup, extract, dbt staging, the quality
gate, identity, dbt intermediate, attribution, customers, dbt marts, publish with the exports and the report), its
peak memory (the largest sum of the resident memory of the run's processes: Python, dbt and, on spark, the JVM,
sampled every half second), its CPU seconds (user + system of the run's processes; not a PostgreSQL server's) and
its slowest dbt nodes. The floor is measured on the same files in the same run: one DuckDB pass over every landing
file plus one synced write of the published bytes (the serving file and the Parquet exports). Given two sizes, the
growth exponent k of the full night (time ∝ leads^k) is printed last.
`--nights full` runs the full night only (Spark at 1 M leads takes hours a night on two cores).

`--stages` times each stage of a full and an incremental night in its own process instead (duckdb and postgres),
with the dbt seconds per model folder and the Markov solve beside the `ChannelAttribution` package. On postgres
the database of the CLOSEDLOOP_PG_* settings is used (an empty one: the benchmark drops nothing). Without
`--stages`, each work dir gets a database of its own on that server, dropped and created again by the benchmark.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
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
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    with duckdb.connect(str(work / "data" / "warehouse.duckdb")) as con:
        ensure_raw_tables(con)
        for source in CONTRACTS:
            rows += load_source(con, source, discover(work / "landing", source), "bench", loaded_at).rows
    return {"rows": rows}


def stage_copy(work: Path, target: str) -> dict:
    """The postgres target only: the raw rows of new files to the server (the last extract step's work)."""
    from orchestration.lib.postgres import LOADED_FILES, copy_raw_to_postgres, postgres_settings_from_env

    if target != "postgres":
        return {}
    copied = copy_raw_to_postgres(work / "data" / "warehouse.duckdb", postgres_settings_from_env())
    return {"rows": sum(n for table, n in copied.items() if table != LOADED_FILES)}


def stage_dbt(work: Path, select: str, target: str) -> dict:
    from orchestration.settings import DBT_EXECUTABLE, DBT_PROFILES_DIR, DBT_PROJECT_DIR

    env = {**os.environ, "CLOSEDLOOP_DATA_DIR": str(work / "data"), "CLOSEDLOOP_DBT_TARGET": target}
    command = [
        DBT_EXECUTABLE,
        "build",
        "--select",
        *select.split(),
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROFILES_DIR),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(result.stdout[-3000:])
    return {}


def stage_identity(work: Path, target: str) -> dict:
    """Identity resolution (the identity asset's work): edges in, people, hashes and the duplicate rate out."""
    from orchestration.lib.people import resolve_identity
    from orchestration.lib.warehouse import open_warehouse

    data = work / "data"
    with open_warehouse(target, data / "warehouse.duckdb") as warehouse:
        outcome = resolve_identity(warehouse, b"benchmark", "bench", 0.05)
    return {"rows": outcome.identifiers, "people": outcome.people}


def stage_gate(work: Path, night: str, target: str) -> dict:
    """The quality gate: Great Expectations suites in SQL, quarantine, quality tables, Data Docs."""
    from orchestration.lib.quality import warehouse_url
    from orchestration.lib.quality.gate import run_gate
    from orchestration.settings import Settings

    data = work / "data"
    settings = Settings(landing_dir=work / "landing", data_dir=data, dbt_target=target)
    outcome = run_gate(warehouse_url(settings), data / "quality", f"bench-{night}", 0.02)
    if not outcome.passed:
        print(f"gate blocked (the benchmark goes on): {outcome.blocking_reason}")
    return {"rows": sum(d.rows_checked for d in outcome.datasets)}


def stage_attribution(work: Path, target: str) -> dict:
    """Markov and Shapley (the attribution asset's work) over int_attribution_paths_counted."""
    from orchestration.lib.attribution import solve_attribution
    from orchestration.lib.warehouse import open_warehouse

    with open_warehouse(target, work / "data" / "warehouse.duckdb") as warehouse:
        outcome = solve_attribution(warehouse)
    return {"rows": outcome.paths, "capped_sets": outcome.capped_sets}


def stage_clv(work: Path, target: str) -> dict:
    """BG/NBD + Gamma-Gamma per customer (the customer_clv asset's work)."""
    from orchestration.lib.customer_clv import ClvSettings, refresh_customer_clv
    from orchestration.lib.warehouse import open_warehouse

    with open_warehouse(target, work / "data" / "warehouse.duckdb") as warehouse:
        outcome = refresh_customer_clv(warehouse, ClvSettings())
    return {"rows": outcome.customers}


def stage_publish(work: Path, target: str) -> dict:
    from orchestration.defs.resources import dbt_project
    from orchestration.lib.publish import export_parquet, publish
    from orchestration.lib.report import write_report
    from orchestration.lib.serving_docs import docs_from_manifest

    data = work / "data"
    docs = docs_from_manifest(dbt_project.manifest_path)
    published = publish(data / "warehouse.duckdb", data / "serving.duckdb", "bench", docs, target)
    export_parquet(data / "serving.duckdb", data / "exports")
    write_report(data / "serving.duckdb", data / "report" / "index.html")
    return {"rows": sum(published.tables.values())}


# the pipeline's three selections (orchestration/defs/dbt/assets.py): the gate and identity run after staging, the
# Python models after intermediate
STAGING = "fqn:staging fqn:quality resource_type:seed tag:identity_graph --exclude resource_type:unit_test"
# as the nightly run (orchestration/defs/dbt/assets.py): models that read a Python step build with the marts
INTERMEDIATE = (
    "fqn:intermediate resource_type:snapshot --exclude tag:identity_graph tag:after_python resource_type:unit_test"
)
MARTS = "fqn:marts tag:after_python --exclude resource_type:unit_test"
STAGES = (
    "extract",
    "copy",
    "dbt_staging",
    "gate",
    "identity",
    "dbt_intermediate",
    "attribution",
    "clv",
    "dbt_marts",
    "publish",
)


def dbt_timings(work: Path, night: str) -> list[tuple[str, float]]:
    """(node, seconds) of the night's dbt runs (from the run_results.json each dbt stage keeps)."""
    timings = []
    for stage in ("dbt_staging", "dbt_intermediate", "dbt_marts"):
        path = work / f"run_results_{night}_{stage}.json"
        if path.exists():
            for result in json.loads(path.read_text())["results"]:
                timings.append((result["unique_id"], result["execution_time"]))
    return timings


def area_seconds(work: Path, night: str) -> dict[str, float]:
    """dbt seconds per model folder (e.g. intermediate/attribution, marts/funnel), tests under their model's folder."""
    manifest = work / "target" / "manifest.json"
    if not manifest.exists():  # a whole-run benchmark (spark): the job's manifest
        manifest = REPO / "target" / "manifest.json"
    nodes = json.loads(manifest.read_text())["nodes"]

    def area(unique_id: str) -> str:
        node = nodes.get(unique_id, {})
        if node.get("resource_type") == "test" and node.get("depends_on", {}).get("nodes"):
            node = nodes.get(node["depends_on"]["nodes"][-1], node)
        return "/".join(node.get("fqn", ["?", "other"])[1:-1]) or node.get("resource_type", "other")

    totals: dict[str, float] = {}
    for unique_id, seconds in dbt_timings(work, night):
        totals[area(unique_id)] = totals.get(area(unique_id), 0.0) + seconds
    return dict(sorted(totals.items(), key=lambda t: -t[1]))


def markov_versus_channelattribution(work: Path) -> str:
    """Our exact solve (as the attribution asset runs it) and ChannelAttribution's simulation, on the same
    aggregated deal_won paths; the simulation is run at its default tolerance and at a 10× tighter one."""
    import duckdb

    from orchestration.lib.markov import count_transitions, solve

    with duckdb.connect(str(work / "data" / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select channel_path, conversions, non_conversions from"
            " intermediate.int_attribution_paths_counted where conversion_type = 'deal_won'"
        ).fetchall()
    paths, conv, non = zip(*rows, strict=True)
    started = time.perf_counter()
    channels, counts = count_transitions(paths, conv, non)
    ours = solve(channels, counts[0])
    ours_s = time.perf_counter() - started
    line = f"Markov on {len(rows):,} aggregated deal_won paths: exact solve {ours_s:.2f}s"
    try:
        import ChannelAttribution as ca
        import pandas as pd
    except ImportError:
        return line + " (ChannelAttribution not installed)"
    data = pd.DataFrame(rows, columns=["path", "conv", "null"])
    for conv_par in (0.05, 0.005):
        started = time.perf_counter()
        theirs = ca.markov_model(
            data,
            "path",
            "conv",
            var_null="null",
            out_more=True,
            verbose=False,
            flg_pro=False,
            max_step=1000,
            ncore=os.cpu_count(),
            conv_par=conv_par,
        )
        seconds = time.perf_counter() - started
        effects = dict(
            zip(theirs["removal_effects"]["channel_name"], theirs["removal_effects"]["removal_effect"], strict=True)
        )
        worst = max(abs(effects.get(c, 0) - e) for c, e in ours.removal_effects.items())
        line += (
            f"; ChannelAttribution (conv_par {conv_par}) {seconds:.2f}s, largest removal-effect difference {worst:.4f}"
        )
    return line


def run_stage(name: str, work: Path, args) -> tuple[float, float, dict]:
    """Runs one stage in a child process; returns (seconds, peak RSS in MB, stage output)."""
    out = work / f"{name}.json"
    command = [
        sys.executable,
        __file__,
        "--stage",
        name,
        "--workdir",
        str(work),
        "--leads",
        str(args.leads),
        "--days",
        str(args.days),
        "--night",
        getattr(args, "night", "full"),
        "--target",
        args.target,
    ]
    start = time.monotonic()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"stage {name} failed")
    # ru_maxrss covers the child and, for dbt stages, the dbt process it waited for
    return seconds, usage.ru_maxrss / 1024, json.loads(out.read_text()) if out.exists() else {}


# the progress line prefixes of `closedloop run`, in order, and the stage each begins
RUN_STAGES = (
    ("dbt parse", "dbt_parse"),
    ("extract", "extract"),
    ("dbt staging", "dbt_staging"),
    ("quality gate", "gate"),
    ("identity", "identity"),
    ("dbt intermediate", "dbt_intermediate"),
    ("attribution", "attribution"),
    ("customers", "clv"),
    ("dbt marts", "dbt_marts"),
    ("publish", "publish"),
    ("report", "publish"),
    ("dbt docs", "publish"),
)


def bench_database(work: Path) -> str:
    """On postgres, the database of a work dir's nights: one per work dir, so the warm-up's tables never meet the
    measured nights' (the server of the CLOSEDLOOP_PG_* settings; the role must be allowed to create databases)."""
    return f"closedloop_bench_{work.name}"


def fresh_database(work: Path, target: str) -> None:
    """postgres: drops and creates the work dir's database (see bench_database); other targets: nothing."""
    if target != "postgres":
        return
    import psycopg2

    from orchestration.lib.postgres import postgres_settings_from_env

    con = psycopg2.connect(**postgres_settings_from_env())
    try:
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(f'drop database if exists "{bench_database(work)}"')
            cur.execute(f'create database "{bench_database(work)}"')
    finally:
        con.close()


def run_night(work: Path, target: str) -> tuple[list[tuple[str, float]], float, float, float]:
    """One `closedloop run` on the work dir: (stage, seconds) from its progress lines, total seconds, peak MB, and
    CPU seconds (user + system) of the run and every process it waited for: the run's own work, which another job
    on the machine does not add to (two runs here still differed by up to 14 %)."""
    env = {**os.environ, "CLOSEDLOOP_DBT_TARGET": target, "CLOSEDLOOP_QUIET": "0"}
    if target == "postgres":
        env["CLOSEDLOOP_PG_DATABASE"] = bench_database(work)
    command = [
        str(Path(sys.executable).parent / "closedloop"),
        "run",
        "--landing",
        str(work / "landing"),
        "--data-dir",
        str(work / "data"),
    ]
    start, cpu_before = time.monotonic(), _children_cpu_seconds()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = [0.0]
    sampler = threading.Thread(target=_sample_memory, args=(process, peak), daemon=True)
    sampler.start()
    begun: list[tuple[str, float]] = [("startup", 0.0)]  # Python and Dagster imports, before the first line
    with (work / "run.log").open("a") as log:
        for line in process.stdout:
            log.write(line)
            if not line.startswith("[") or "s] " not in line:
                continue
            at, text = float(line[1 : line.index("s]")]), line[line.index("s] ") + 3 :]
            stage = next((name for prefix, name in RUN_STAGES if text.startswith(prefix)), None)
            if stage and begun[-1][0] != stage:
                begun.append((stage, at))
    if process.wait() != 0:
        raise SystemExit(f"closedloop run failed: see {work / 'run.log'}")
    total, cpu = time.monotonic() - start, _children_cpu_seconds() - cpu_before
    ends = [at for _, at in begun[1:]] + [total]
    return [(stage, end - at) for (stage, at), end in zip(begun, ends, strict=True)], total, peak[0], cpu


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def keep_run_results(work: Path, night: str, since: float) -> None:
    """Keeps the run_results.json of the night's dbt invocations (the job's per-invocation folders written since
    `since`, a time.time())."""
    root = work / "data" / "dbt" / "target"
    for stage in ("dbt_staging", "dbt_intermediate", "dbt_marts"):
        folders = [f for f in root.glob(stage + "-*") if f.stat().st_mtime >= since]
        newest = max(folders, key=lambda f: f.stat().st_mtime, default=None)
        if newest and (newest / "run_results.json").exists():
            shutil.copy(newest / "run_results.json", work / f"run_results_{night}_{stage}.json")


def _sample_memory(process: subprocess.Popen, peak: list[float]) -> None:
    while process.poll() is None:
        peak[0] = max(peak[0], _tree_rss_mb(process.pid))
        time.sleep(0.5)


def _tree_rss_mb(root: int) -> float:
    """Resident memory of a process and its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
            children.setdefault(int(fields[1]), []).append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total / 2**20


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


def read_floor(landing: Path) -> float:
    """Seconds of one DuckDB pass over every landing file (each parsed whole, as text): the least any night that
    reads its input can cost."""
    import duckdb

    readers = {
        ".csv": "read_csv({}, all_varchar = true, union_by_name = true)",
        ".jsonl": "read_json({}, format = 'newline_delimited', union_by_name = true)",
        ".parquet": "read_parquet({}, union_by_name = true)",
    }
    started = time.perf_counter()
    with duckdb.connect() as con:
        for folder in sorted(f for f in landing.iterdir() if f.is_dir()):
            for suffix, reader in readers.items():
                files = sorted(str(f) for f in folder.glob(f"*{suffix}"))
                if files:
                    con.execute(f"select count(*) from {reader.format(files)}").fetchone()
    return time.perf_counter() - started


def write_floor(published: list[Path], scratch: Path) -> float:
    """Seconds to write the published bytes (the serving file and the Parquet exports) once, synced to disk."""
    started = time.perf_counter()
    for index, path in enumerate(published):
        copy = scratch / f"floor-{index}"
        shutil.copyfile(path, copy)
        with copy.open("rb+") as handle:
            os.fsync(handle.fileno())
        copy.unlink()
    return time.perf_counter() - started


def published_files(data: Path) -> list[Path]:
    """The serving file and every Parquet export, the files of a folder export (fct_attribution.parquet) among them."""
    exports = sorted((data / "exports").glob("*.parquet"))
    return [
        data / "serving.duckdb",
        *[f for e in exports for f in (sorted(e.glob("*.parquet")) if e.is_dir() else [e])],
    ]


NIGHTS = ("full", "one new month", "nothing new")


def warm_up(args, work: Path) -> float:
    """One untimed night on 200 leads, so the nights measured do not include what happens once per change of the
    dbt project (its parse, the dbt docs site): a new checkout pays it on its first night only. Its seconds."""
    from orchestration.lib.generate import generate_landing

    shutil.rmtree(work, ignore_errors=True)
    fresh_database(work, args.target)
    generate_landing(work / "landing", leads=200, days=60, seed=2)
    started = time.monotonic()
    run_night(work, args.target)
    return time.monotonic() - started


def benchmark_size(args, leads: int) -> dict:
    """Three `closedloop run` nights on `leads` generated leads: a full night (the newest month of files held
    back), one new month delivered, then nothing new; with the floor measured on the same files."""
    work = (args.workdir or REPO / "benchmarks" / "out") / f"leads_{leads}"
    shutil.rmtree(work, ignore_errors=True)
    fresh_database(work, args.target)
    (work / "data").mkdir(parents=True)
    args.leads = leads
    seconds, _, generated = run_stage("generate", work, args)
    hold_back_newest_month(work / "landing", work / "held")
    nights = {}
    for night in args.nights:
        if night == "one new month":
            deliver(work / "held", work / "landing")
        since = time.time()
        stages, total, peak, cpu = run_night(work, args.target)
        keep_run_results(work, night, since)
        nights[night] = {"stages": stages, "seconds": total, "peak_mb": peak, "cpu_seconds": cpu}
    read = read_floor(work / "landing")
    write = write_floor(published_files(work / "data"), work)
    published = sum(f.stat().st_size for f in published_files(work / "data"))
    result = {
        "leads": leads,
        "touchpoints": generated.get("touchpoints", 0),
        "generate_seconds": seconds,
        "nights": nights,
        "floor": {"read": read, "write": write, "published_bytes": published},
    }
    (work / "results.json").write_text(json.dumps(result, indent=1))
    return result


def report_size(result: dict, work: Path) -> None:
    nights, floor = result["nights"], result["floor"]
    full = nights["full"]["seconds"]
    floor_seconds = floor["read"] + floor["write"]
    print(
        f"\n{result['leads']:,} leads, {result['touchpoints']:,} touchpoints; floor {floor_seconds:.2f} s"
        f" (one read of the landing files {floor['read']:.2f} s + one write of the"
        f" {floor['published_bytes'] / 1e6:,.0f} MB published {floor['write']:.2f} s)"
    )
    print(f"{'night':<16}{'seconds':>10}{'of full':>10}{'÷ floor':>10}{'peak MB':>10}{'CPU s':>10}")
    for night, measured in nights.items():
        print(
            f"{night:<16}{measured['seconds']:>10.1f}{measured['seconds'] / full:>10.0%}"
            f"{measured['seconds'] / floor_seconds:>10.1f}{measured['peak_mb']:>10.0f}"
            f"{measured['cpu_seconds']:>10.1f}"
        )
    print(
        "stage seconds: "
        + "; ".join(
            f"{night}: " + ", ".join(f"{stage} {seconds:.1f}" for stage, seconds in measured["stages"])
            for night, measured in nights.items()
        )
    )
    for night in nights:
        slowest = sorted(dbt_timings(work, night), key=lambda t: -t[1])[:8]
        if slowest:
            print(
                f"slowest dbt nodes, {night}: "
                + ", ".join(f"{name.split('.')[-1]} {seconds:.1f}s" for name, seconds in slowest)
            )


def growth_exponent(small: dict, large: dict) -> float:
    """The exponent k in time ∝ leads^k between two sizes' full nights (1: linear)."""
    import math

    ratio = large["nights"]["full"]["seconds"] / small["nights"]["full"]["seconds"]
    return math.log(ratio) / math.log(large["leads"] / small["leads"])


def stages_benchmark(args) -> None:
    """--stages: each stage of a full and an incremental night in its own process (duckdb, postgres)."""
    work = args.workdir or REPO / "benchmarks" / "out" / f"stages_{args.leads}"
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
        for stage in STAGES:
            if stage == "copy" and args.target != "postgres":
                continue
            seconds, rss, output = run_stage(stage, work, args)
            rows.append((f"{night}: {stage}", seconds, rss, output.get("rows")))
            if stage.startswith("dbt_") and (work / "target" / "run_results.json").exists():
                shutil.copy(work / "target" / "run_results.json", work / f"run_results_{night}_{stage}.json")

    print(
        f"\nclosedloop pipeline benchmark, stage by stage ({args.target}): {args.leads:,} leads,"
        f" {generated.get('touchpoints', 0):,} touchpoints, {os.cpu_count()} cores"
    )
    print(f"{'stage':<28}{'seconds':>10}{'peak MB':>10}{'rows':>14}")
    for name, seconds, rss, count in rows:
        print(f"{name:<28}{seconds:>10.1f}{rss:>10.0f}{(f'{count:,}' if count is not None else ''):>14}")
    for night in ("full", "incremental"):
        slowest = sorted(dbt_timings(work, night), key=lambda t: -t[1])[:8]
        print(
            f"slowest dbt nodes, {night} night: "
            + ", ".join(f"{name.split('.')[-1]} {seconds:.1f}s" for name, seconds in slowest)
        )
        print(
            f"dbt seconds per folder, {night} night: "
            + ", ".join(f"{name} {seconds:.1f}" for name, seconds in area_seconds(work, night).items())
        )
    if args.target == "duckdb":  # it reads the paths from the DuckDB file
        print(markov_versus_channelattribution(work))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, nargs="+", default=[100_000])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--stages", action="store_true", help="time each stage in its own process instead")
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--night", default="full", help=argparse.SUPPRESS)
    parser.add_argument("--target", choices=("duckdb", "postgres", "spark"), default="duckdb")
    parser.add_argument("--nights", choices=("all", "full"), default="all", help="`full`: the full night only")
    args = parser.parse_args()
    args.nights = NIGHTS if args.nights == "all" else NIGHTS[:1]

    if args.stage:
        args.leads = args.leads[0]
        work = args.workdir
        result = {
            "generate": lambda: stage_generate(work, args.leads, args.days),
            "extract": lambda: stage_extract(work),
            "copy": lambda: stage_copy(work, args.target),
            "dbt_staging": lambda: stage_dbt(work, STAGING, args.target),
            "gate": lambda: stage_gate(work, args.night, args.target),
            "identity": lambda: stage_identity(work, args.target),
            "dbt_intermediate": lambda: stage_dbt(work, INTERMEDIATE, args.target),
            "attribution": lambda: stage_attribution(work, args.target),
            "clv": lambda: stage_clv(work, args.target),
            "dbt_marts": lambda: stage_dbt(work, MARTS, args.target),
            "publish": lambda: stage_publish(work, args.target),
        }[args.stage]()
        (work / f"{args.stage}.json").write_text(json.dumps(result))
        return
    if args.stages:
        if args.target == "spark":
            raise SystemExit("--stages: Spark's session belongs to one run; time spark without --stages")
        args.leads = args.leads[0]
        stages_benchmark(args)
        return

    sizes = sorted(args.leads)
    warm = warm_up(args, (args.workdir or REPO / "benchmarks" / "out") / "warm_up")
    results = [benchmark_size(args, leads) for leads in sizes]
    print(f"\nclosedloop nightly benchmark ({args.target}), `closedloop run` per night, {os.cpu_count()} cores")
    print(f"warm-up night on 200 leads (dbt parse and docs, once per change of the project): {warm:.1f} s")
    for result in results:
        report_size(result, (args.workdir or REPO / "benchmarks" / "out") / f"leads_{result['leads']}")
    for small, large in itertools.pairwise(results):
        print(
            f"growth exponent of the full night, {small['leads']:,} → {large['leads']:,} leads:"
            f" {growth_exponent(small, large):.2f} (1.0 = linear)"
        )


if __name__ == "__main__":
    main()
