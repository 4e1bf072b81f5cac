"""Incremental equals rebuild on a generated sample: three nights run incrementally, then one run from scratch over
the same landing zone; prints each night's seconds, the rebuild's, and every mart's rows and whether both agree.

    python benchmarks/rebuild_parity.py --leads 5000 [--days 120] [--workdir DIR]

Exits 1 when a mart differs. The nights are those of orchestration/lib/rebuild_check.py (the test suite runs the
same on 150 leads: tests/e2e/test_incremental_equals_rebuild.py).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=5000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument(
        "--max-quarantine-rate",
        default="0.05",
        help="the planted conflicts quarantine 2 leads: on a small sample that is above 2 %%",
    )
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()

    from orchestration.lib.generate import generate_landing
    from orchestration.lib.rebuild_check import plan_nights, replay

    root = args.workdir or Path(tempfile.mkdtemp(prefix="closedloop-parity-"))
    for name in ("generated", "landing", "incremental", "rebuild"):
        shutil.rmtree(root / name, ignore_errors=True)
    generate_landing(root / "generated", leads=args.leads, days=args.days, seed=args.seed)
    nights = plan_nights(root / "generated")
    result = replay(nights, root, env={"CLOSEDLOOP_MAX_QUARANTINE_RATE": args.max_quarantine_rate})

    print(f"incremental equals rebuild, {args.leads:,} leads over {args.days} days ({root})")
    for night, seconds in zip(nights, result.night_seconds, strict=True):
        print(f"  {night.name:<95} {seconds:7.1f} s")
    print(f"  {'rebuild: one run over the final landing zone':<95} {result.rebuild_seconds:7.1f} s")
    print(f"  {'mart':<36} {'incremental rows':>16} {'rebuild rows':>13}  same")
    for name in sorted(set(result.incremental) | set(result.rebuild)):
        left, right = result.incremental.get(name, (0, "")), result.rebuild.get(name, (0, ""))
        print(f"  {name:<36} {left[0]:>16,} {right[0]:>13,}  {'yes' if left == right else 'NO'}")
    print(f"  {len(result.differences)} mart(s) differ")
    return 1 if result.differences else 0


if __name__ == "__main__":
    raise SystemExit(main())
