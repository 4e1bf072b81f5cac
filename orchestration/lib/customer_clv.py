"""Per-customer probabilistic CLV for the warehouse (SPEC §8 (f)): reads the BG/NBD summary dbt built
(intermediate.int_customers_summarised, weeks), fits BG/NBD and Gamma-Gamma (orchestration/lib/clv.py) and writes
intermediate.customer_clv, which mart_customer_ltv reads as a source.

The CLV settings are dbt vars (dbt_project.yml), read here from the same file so SQL and Python agree.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import yaml

from orchestration.lib import clv

# ordered: the fit sums over customers, and the same data must give the same digits every night
SUMMARY_SQL = ("select person_id, frequency, recency_weeks, age_weeks, monetary_value "
               "from intermediate.int_customers_summarised order by person_id")
TABLE = "intermediate.customer_clv"
# below these the maximum-likelihood estimates are noise: write the customers with the reason, no values
MIN_CUSTOMERS = 30
MIN_REPEAT_CUSTOMERS = 10

VARS = {  # dbt var → default when dbt_project.yml does not set it
    "closedloop__gross_margin": 1.0,
    "closedloop__clv_horizon_months": 12,
    "closedloop__clv_monthly_discount_rate": 0.01,
    "closedloop__service_cost_per_month": 0.0,
}


@dataclass
class ClvOutcome:
    customers: int
    repeat_customers: int
    status: str
    bgnbd: dict = field(default_factory=dict)
    gamma_gamma: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    seconds: float = 0.0

    def describe(self) -> str:
        if not self.status.startswith("fitted"):
            return f"{self.customers} customers ({self.repeat_customers} with repeat purchases): not fitted ({self.status})"
        bg, gg = self.bgnbd, self.gamma_gamma
        return (f"{self.customers} customers fitted in {self.seconds:.1f} s: BG/NBD r {bg['r']:.3f}, α {bg['alpha']:.3f} "
                f"weeks, a {bg['a']:.3f}, b {bg['b']:.3f}; Gamma-Gamma p {gg['p']:.3f}, q {gg['q']:.3f}, "
                f"γ {gg['gamma']:.2f}" + ("" if self.status == "fitted" else f" ({self.status}: treat with care)"))


def clv_settings(project_dir: Path) -> dict:
    """The CLV vars of dbt_project.yml (defaults where unset), as numbers."""
    with open(Path(project_dir) / "dbt_project.yml", encoding="utf-8") as f:
        found = (yaml.safe_load(f) or {}).get("vars") or {}
    return {name: float(found.get(name, default)) for name, default in VARS.items()}


def compute_customer_clv(summary: pa.Table, settings: dict) -> tuple[pa.Table, ClvOutcome]:
    """One row per customer of `summary` (text columns as read from the warehouse) with the CLV columns."""
    person_id = summary.column("person_id").to_pylist()
    number = {name: np.array(summary.column(name).to_pylist(), dtype=object) for name in summary.column_names[1:]}
    as_float = {name: np.array([np.nan if v is None else float(v) for v in values]) for name, values in number.items()}
    x, t_x, T, m = (as_float[k] for k in ("frequency", "recency_weeks", "age_weeks", "monetary_value"))
    n, repeat = len(person_id), int((x > 0).sum())
    horizon = int(settings["closedloop__clv_horizon_months"])
    outcome = ClvOutcome(n, repeat, "fitted", settings=settings)
    nulls = np.full(n, np.nan)
    columns = {"expected_purchases": nulls, "probability_alive": nulls, "expected_order_value": nulls, "clv": nulls}
    started = time.perf_counter()
    if n < MIN_CUSTOMERS:
        outcome.status = f"too_few_customers (< {MIN_CUSTOMERS})"
    elif repeat < MIN_REPEAT_CUSTOMERS:
        outcome.status = f"too_few_repeat_customers (< {MIN_REPEAT_CUSTOMERS})"
    else:
        try:
            outcome.bgnbd = clv.fit_bgnbd(x, t_x, T)
            outcome.gamma_gamma = clv.fit_gamma_gamma(x, m)
            columns = {
                "expected_purchases": clv.expected_purchases(outcome.bgnbd, horizon * clv.WEEKS_PER_MONTH, x, t_x, T),
                "probability_alive": clv.probability_alive(outcome.bgnbd, x, t_x, T),
                "expected_order_value": clv.expected_order_value(outcome.gamma_gamma, x, m),
                "clv": clv.customer_lifetime_value(
                    outcome.bgnbd, outcome.gamma_gamma, x, t_x, T, m, months=horizon,
                    monthly_discount_rate=settings["closedloop__clv_monthly_discount_rate"],
                    margin=settings["closedloop__gross_margin"],
                    service_cost_per_month=settings["closedloop__service_cost_per_month"]),
            }
            at_bound = _at_bound({**outcome.bgnbd, **outcome.gamma_gamma})
            if at_bound:
                outcome.status = f"fitted_at_bound: {', '.join(at_bound)}"
        except clv.FitError as exc:
            outcome.status = f"not_fitted: {exc}"
    outcome.seconds = time.perf_counter() - started
    table = pa.table({
        "person_id": pa.array(person_id, pa.string()),
        **{name: pa.array(values, pa.float64(), from_pandas=True) for name, values in columns.items()},
        "horizon_months": pa.array(np.full(n, horizon), pa.int64()),
        "model_status": pa.array([outcome.status] * n, pa.string()),
    })
    return table, outcome


def _at_bound(params: dict) -> list[str]:
    """Parameters the optimiser pushed to the edge of its range: the data cannot pin them down (e.g. Gamma-Gamma
    on a few dozen repeat customers whose order values barely vary), so the values built on them are shaky."""
    edge = clv.LOG_BOUNDS[1] - 0.5
    return [name for name, value in params.items()
            if name != "log_likelihood" and value > 0 and abs(math.log(value)) >= edge]


def refresh_customer_clv(warehouse, project_dir: Path) -> ClvOutcome:
    """Reads the summary from `warehouse` (orchestration.lib.warehouse), computes and replaces the CLV table."""
    table, outcome = compute_customer_clv(warehouse.read_text(SUMMARY_SQL), clv_settings(project_dir))
    warehouse.write(replace={TABLE: table})
    return outcome
