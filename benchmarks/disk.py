"""How much disk a data dir takes after many nights: runs `closedloop run` night after night on one generated
landing zone, one new day of touchpoints per night, and prints the data dir's size per folder after each night.

    python benchmarks/disk.py [--nights 30] [--leads 300] [--keep-runs 14] [--workdir DIR]

dbt's working folders and the Dagster run history are pruned to the last CLOSEDLOOP_KEEP_RUNS runs, so after the
first KEEP_RUNS nights they stop growing; what still grows is what the data grows (the warehouse, the serving
file, the quality history and the Great Expectations Data Docs, one page set per run).
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
CLOSEDLOOP = str(Path(sys.executable).parent / "closedloop")
FOLDERS = ("dbt", "dagster", "quality", "logs", "exports", "report", "docs")


def size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def deliver_day(landing: Path, night: int) -> None:
    """A small file of new touchpoints, as a nightly export would bring."""
    template = next((landing / "touchpoints").glob("*.csv"))
    with template.open(newline="") as handle:
        reader = csv.DictReader(handle)
        rows = [row for _, row in zip(range(50), reader, strict=False)]
    out = landing / "touchpoints" / f"touchpoints_night_{night:03d}.csv"
    with out.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=reader.fieldnames)
        writer.writeheader()
        for i, row in enumerate(rows):
            writer.writerow(dict(row, touchpoint_id=f"night{night}-{i}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nights", type=int, default=30)
    parser.add_argument("--leads", type=int, default=300)
    parser.add_argument("--keep-runs", type=int, default=14)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="closedloop-disk-"))
    landing, data = work / "landing", work / "data"
    from orchestration.lib.generate import generate_landing

    generate_landing(landing, leads=args.leads, days=90, seed=3)
    env = {**os.environ, "CLOSEDLOOP_KEEP_RUNS": str(args.keep_runs)}
    print(
        f"{'night':>5} {'seconds':>8} {'total MB':>9} "
        + " ".join(f"{f:>8}" for f in ("warehouse", "serving", *FOLDERS))
    )
    for night in range(1, args.nights + 1):
        if night > 1:
            deliver_day(landing, night)
        started = time.monotonic()
        run = subprocess.run(
            [CLOSEDLOOP, "run", "--landing", str(landing), "--data-dir", str(data)],
            env=env,
            capture_output=True,
            text=True,
        )
        if run.returncode != 0:
            sys.exit(f"night {night} failed:\n{run.stderr}")
        sizes = [size(data / "warehouse.duckdb"), size(data / "serving.duckdb"), *(size(data / f) for f in FOLDERS)]
        print(
            f"{night:>5} {time.monotonic() - started:>8.1f} {size(data) / 1e6:>9.1f} "
            + " ".join(f"{s / 1e6:>8.1f}" for s in sizes),
            flush=True,
        )
    print(f"data dir: {data}")


if __name__ == "__main__":
    main()
