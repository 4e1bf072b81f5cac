"""Times the BG/NBD and Gamma-Gamma fits of orchestration/lib/clv.py on generated customers and prints a table.

    python benchmarks/clv.py [--customers 1000000] [--seed 1] [--lifetimes-python /tmp/lt/bin/python]

Customers are drawn from the purchase process the generator plants (orchestration/lib/generate/catalog.py:
BG/NBD per week and Gamma-Gamma order values), with ages spread over two years, so the fitted parameters can be
compared with the planted ones. With --lifetimes-python (a Python that has `lifetimes` installed — a throwaway
venv: it is not a project dependency) the same summary is fitted by lifetimes' BetaGeoFitter and GammaGammaFitter
in that interpreter, for the timing beside ours.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from orchestration.lib import clv  # noqa: E402
from orchestration.lib.generate.catalog import PURCHASE_PROCESS, SPEND_PROCESS  # noqa: E402

# run by the lifetimes interpreter: reads the summary, fits, prints JSON
LIFETIMES_FIT = """
import json, sys, time
import numpy as np, pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
d = np.load(sys.argv[1])
summary = pd.DataFrame({k: d[k] for k in ("x", "t_x", "T", "m")})
started = time.perf_counter()
bg = BetaGeoFitter().fit(summary["x"], summary["t_x"], summary["T"])
bg_seconds = time.perf_counter() - started
repeat = summary[summary["x"] > 0]
started = time.perf_counter()
gg = GammaGammaFitter().fit(repeat["x"], repeat["m"])
gg_seconds = time.perf_counter() - started
print(json.dumps({"bgnbd": {k: float(v) for k, v in bg.params_.items()}, "bgnbd_seconds": bg_seconds,
                  "gamma_gamma": {k: float(v) for k, v in gg.params_.items()}, "gamma_gamma_seconds": gg_seconds}))
"""


def draw_customers(n: int, seed: int, max_age_weeks: float = 104.0) -> dict[str, np.ndarray]:
    """x, t_x, T (weeks) and m (mean repeat order value) of `n` customers drawn from the planted processes."""
    rng = np.random.default_rng(seed)
    bg, gg = PURCHASE_PROCESS, SPEND_PROCESS
    age = rng.uniform(1.0, max_age_weeks, n)
    rate = rng.gamma(bg["r"], 1 / bg["alpha"], n)
    dropout = rng.beta(bg["a"], bg["b"], n)
    arrivals = rng.poisson(rate * age)  # repeat purchases of a customer who never drops out
    lives = rng.geometric(np.clip(dropout, 1e-12, 1.0))  # the repeat purchase after which they drop out
    x = np.minimum(arrivals, lives)
    # the last kept purchase is the x-th smallest of `arrivals` uniform times on (0, age): for the kth order
    # statistic of n uniforms, Beta(k, n − k + 1)
    t_x = np.zeros(n)
    repeat = x > 0
    t_x[repeat] = age[repeat] * rng.beta(x[repeat], arrivals[repeat] - x[repeat] + 1)
    nu = rng.gamma(gg["q"], 1 / gg["gamma"], n)
    m = np.full(n, np.nan)
    m[repeat] = rng.gamma(gg["p"] * x[repeat], 1 / nu[repeat]) / x[repeat]  # mean of x Gamma(p, ν) values
    return {"x": x.astype(float), "t_x": t_x, "T": age, "m": m}


def timed(fn, *args):
    started = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--lifetimes-python", help="a Python interpreter with lifetimes installed")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    d = draw_customers(args.customers, args.seed)
    print(
        f"customers: {args.customers:,} drawn in {time.perf_counter() - started:.1f} s; "
        f"{int((d['x'] > 0).sum()):,} with repeat purchases, {int(d['x'].sum()):,} repeat purchases"
    )

    bg, bg_seconds = timed(clv.fit_bgnbd, d["x"], d["t_x"], d["T"])
    gg, gg_seconds = timed(clv.fit_gamma_gamma, d["x"], d["m"])
    _, clv_seconds = timed(lambda: clv.customer_lifetime_value(bg, gg, d["x"], d["t_x"], d["T"], d["m"]))

    theirs = None
    if args.lifetimes_python:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "summary.npz"
            np.savez(path, **d)
            run = subprocess.run(
                [args.lifetimes_python, "-c", LIFETIMES_FIT, str(path)], capture_output=True, text=True
            )
            if run.returncode != 0:
                print(f"lifetimes failed:\n{run.stderr[-2000:]}")
            else:
                theirs = json.loads(run.stdout.strip().splitlines()[-1])

    print()
    print(f"{'fit':<22}{'closedloop':>12}{'lifetimes':>12}")
    print(f"{'BG/NBD seconds':<22}{bg_seconds:>12.2f}{theirs['bgnbd_seconds'] if theirs else float('nan'):>12.2f}")
    print(
        f"{'Gamma-Gamma seconds':<22}{gg_seconds:>12.2f}"
        f"{theirs['gamma_gamma_seconds'] if theirs else float('nan'):>12.2f}"
    )
    print(f"{'12-month CLV seconds':<22}{clv_seconds:>12.2f}")
    print()
    print(f"{'parameter':<10}{'planted':>10}{'fitted':>12}{'error %':>10}{'lifetimes':>12}")
    theirs_names = {"r": "r", "alpha": "alpha", "a": "a", "b": "b", "p": "p", "q": "q", "gamma": "v"}
    for planted, fitted, key in [(PURCHASE_PROCESS, bg, "bgnbd"), (SPEND_PROCESS, gg, "gamma_gamma")]:
        for name in ("r", "alpha", "a", "b") if key == "bgnbd" else ("p", "q", "gamma"):
            other = theirs[key][theirs_names[name]] if theirs else float("nan")
            error = 100 * (fitted[name] - planted[name]) / planted[name]
            print(f"{name:<10}{planted[name]:>10.3f}{fitted[name]:>12.4f}{error:>+10.2f}{other:>12.4f}")
    print(f"\nlog-likelihood: BG/NBD {bg['log_likelihood']:,.1f}, Gamma-Gamma {gg['log_likelihood']:,.1f}")


if __name__ == "__main__":
    main()
