"""Per-customer probabilistic CLV for the warehouse (docs/metrics.md "Customers, LTV and RFM", (f)): reads the BG/NBD
summary dbt built (intermediate.int_customers_summarised, weeks), fits BG/NBD and Gamma-Gamma
(orchestration/lib/clv.py) and writes three tables dbt reads as sources:
- intermediate.customer_clv: per customer, expected purchases, P(alive), expected order value and CLV;
- intermediate.customer_clv_years: per customer × customer-year 1..H, the revenue expected in the part of that
  year after the data end (the projection of LTV (d));
- intermediate.customer_clv_fit: the fitted parameters, log-likelihoods, customers used and fit status.

The settings come from orchestration.settings (Settings), which exports the same values to dbt's vars.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from orchestration.lib import clv

# ordered: the fit sums over customers, and the same data must give the same digits every night
SUMMARY_SQL = (
    "select person_id, frequency, recency_weeks, age_weeks, monetary_value, recurring_gross_margin "
    "from intermediate.int_customers_summarised order by person_id"
)
TABLE = "intermediate.customer_clv"
YEARS_TABLE = "intermediate.customer_clv_years"
FIT_TABLE = "intermediate.customer_clv_fit"
WEEKS_PER_YEAR = 365.25 / 7
# below these the maximum-likelihood estimates are noise: write the customers with the reason, no values
MIN_CUSTOMERS = 30
MIN_REPEAT_CUSTOMERS = 10


@dataclass(frozen=True)
class ClvSettings:
    """The knobs of the CLV step; `from_settings` takes them from orchestration.settings.Settings."""

    default_gross_margin: float = 0.7
    horizon_months: int = 12
    monthly_discount_rate: float = 0.01
    service_cost_per_month: float = 0.0
    npv_years: int = 3

    @classmethod
    def from_settings(cls, settings) -> ClvSettings:
        return cls(
            settings.default_gross_margin,
            settings.clv_horizon_months,
            settings.clv_monthly_discount_rate,
            settings.service_cost_per_month,
            settings.ltv_npv_years,
        )


@dataclass
class ClvOutcome:
    customers: int
    repeat_customers: int
    status: str
    bgnbd: dict = field(default_factory=dict)
    gamma_gamma: dict = field(default_factory=dict)
    settings: ClvSettings = field(default_factory=ClvSettings)
    seconds: float = 0.0
    gamma_gamma_customers: int = 0
    years: pa.Table | None = None  # customer_clv_years rows

    def describe(self) -> str:
        if not self.status.startswith("fitted"):
            return (
                f"{self.customers} customers ({self.repeat_customers} with repeat purchases):"
                f" not fitted ({self.status})"
            )
        bg, gg = self.bgnbd, self.gamma_gamma
        return (
            f"{self.customers} customers fitted in {self.seconds:.1f} s: BG/NBD r {bg['r']:.3f}, α {bg['alpha']:.3f} "
            f"weeks, a {bg['a']:.3f}, b {bg['b']:.3f}; Gamma-Gamma p {gg['p']:.3f}, q {gg['q']:.3f}, "
            f"γ {gg['gamma']:.2f}" + ("" if self.status == "fitted" else f" ({self.status}: treat with care)")
        )


def compute_customer_clv(summary: pa.Table, settings: ClvSettings) -> tuple[pa.Table, ClvOutcome]:
    """One row per customer of `summary` (text columns as read from the warehouse) with the CLV columns. A summary
    without recurring_gross_margin takes settings.default_gross_margin for every customer."""
    person_id = summary.column("person_id").to_pylist()
    number = {name: np.array(summary.column(name).to_pylist(), dtype=object) for name in summary.column_names[1:]}
    as_float = {name: np.array([np.nan if v is None else float(v) for v in values]) for name, values in number.items()}
    x, t_x, T, m = (as_float[k] for k in ("frequency", "recency_weeks", "age_weeks", "monetary_value"))
    n, repeat = len(person_id), int((x > 0).sum())
    margin = as_float.get("recurring_gross_margin", np.full(n, np.nan))
    margin = np.where(np.isnan(margin), settings.default_gross_margin, margin)
    horizon = int(settings.horizon_months)
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
            fitted = {
                "expected_purchases": clv.expected_purchases(outcome.bgnbd, horizon * clv.WEEKS_PER_MONTH, x, t_x, T),
                "probability_alive": clv.probability_alive(outcome.bgnbd, x, t_x, T),
                "expected_order_value": clv.expected_order_value(outcome.gamma_gamma, x, m),
                "clv": clv.customer_lifetime_value(
                    outcome.bgnbd,
                    outcome.gamma_gamma,
                    x,
                    t_x,
                    T,
                    m,
                    months=horizon,
                    monthly_discount_rate=settings.monthly_discount_rate,
                    margin=margin,
                    service_cost_per_month=settings.service_cost_per_month,
                ),
            }
            years = _projected_years(outcome, person_id, x, t_x, T, fitted["expected_order_value"])
            _check_finite(fitted, years)
            columns, outcome.years = fitted, years
            outcome.gamma_gamma_customers = int(((x > 0) & np.isfinite(m) & (m > 0)).sum())
            at_bound = _at_bound({**outcome.bgnbd, **outcome.gamma_gamma})
            if at_bound:
                outcome.status = f"fitted_at_bound: {', '.join(at_bound)}"
        except clv.FitError as exc:
            outcome.status = f"not_fitted: {exc}"
    outcome.seconds = time.perf_counter() - started
    table = pa.table(
        {
            "person_id": pa.array(person_id, pa.string()),
            **{name: pa.array(values, pa.float64(), from_pandas=True) for name, values in columns.items()},
            "horizon_months": pa.array(np.full(n, horizon), pa.int64()),
            "model_status": pa.array([outcome.status] * n, pa.string()),
        }
    )
    if outcome.years is None:
        outcome.years = _projected_years(outcome, [], *(np.array([]),) * 4)
    return table, outcome


def _check_finite(columns: dict[str, np.ndarray], years: pa.Table) -> None:
    """Refuses a fit whose values are not all finite: NaN would reach the marts (and fail their decimal casts)
    or, turned into nulls, pass for a customer the model was not run on."""
    projected = (years.column(name).to_numpy() for name in ("expected_purchases", "expected_revenue"))
    values = [*columns.values(), *projected]
    bad = sum(int((~np.isfinite(np.asarray(v, dtype=float))).sum()) for v in values)
    if bad:
        raise clv.FitError(f"the fitted model gives {bad} value(s) that are not finite")


def _projected_years(outcome: ClvOutcome, person_id, x, t_x, T, order_value) -> pa.Table:
    """Per customer and customer-year t = 1..H (year t spans weeks (t−1)·52.18 to t·52.18 after the first
    purchase), the purchases and revenue expected between the data end (age T) and the end of year t, for the years
    not over by then: E[X(end − T)] − E[X(start − T)] with both offsets floored at 0."""
    ids, years, purchases, revenue = [], [], [], []
    for t in range(1, int(outcome.settings.npv_years) + 1):
        start = np.maximum((t - 1) * WEEKS_PER_YEAR - T, 0.0)
        end = (t * WEEKS_PER_YEAR) - T
        open_ = end > 0
        if not open_.any():
            continue
        sel = (x[open_], t_x[open_], T[open_])
        expected = clv.expected_purchases(outcome.bgnbd, end[open_], *sel) - clv.expected_purchases(
            outcome.bgnbd, start[open_], *sel
        )
        ids += [p for p, keep in zip(person_id, open_, strict=True) if keep]
        years += [t] * int(open_.sum())
        purchases.append(expected)
        revenue.append(expected * order_value[open_])
    join = lambda parts: np.concatenate(parts) if parts else np.array([])  # noqa: E731
    return pa.table(
        {
            "person_id": pa.array(ids, pa.string()),
            "customer_year": pa.array(years, pa.int64()),
            "expected_purchases": pa.array(join(purchases), pa.float64()),
            "expected_revenue": pa.array(join(revenue), pa.float64()),
        }
    )


def fit_table(outcome: ClvOutcome) -> pa.Table:
    """intermediate.customer_clv_fit: one row per model × parameter (null values when not fitted)."""
    rows = []
    for model, names, fitted, used in (
        ("bgnbd", ("r", "alpha", "a", "b"), outcome.bgnbd, outcome.customers),
        ("gamma_gamma", ("p", "q", "gamma"), outcome.gamma_gamma, outcome.gamma_gamma_customers),
    ):
        for name in names:
            rows.append((model, name, fitted.get(name), fitted.get("log_likelihood"), used if fitted else 0))
    model, parameter, value, ll, used = (list(c) for c in zip(*rows, strict=True))
    return pa.table(
        {
            "model": pa.array(model, pa.string()),
            "parameter": pa.array(parameter, pa.string()),
            "value": pa.array(value, pa.float64()),
            "log_likelihood": pa.array(ll, pa.float64()),
            "customers_used": pa.array(used, pa.int64()),
            "fit_status": pa.array([outcome.status] * len(rows), pa.string()),
        }
    )


def _at_bound(params: dict) -> list[str]:
    """Parameters the optimiser pushed to the edge of its range: the data cannot pin them down (e.g. Gamma-Gamma
    on a few dozen repeat customers whose order values barely vary), so the values built on them are shaky."""
    edge = clv.LOG_BOUNDS[1] - 0.5
    return [
        name
        for name, value in params.items()
        if name != "log_likelihood" and value > 0 and abs(math.log(value)) >= edge
    ]


def refresh_customer_clv(warehouse, settings) -> ClvOutcome:
    """Reads the summary from `warehouse` (orchestration.lib.warehouse), computes and replaces the CLV tables.
    `settings`: orchestration.settings.Settings (or a ClvSettings)."""
    if not isinstance(settings, ClvSettings):
        settings = ClvSettings.from_settings(settings)
    table, outcome = compute_customer_clv(warehouse.read_text(SUMMARY_SQL), settings)
    warehouse.write(replace={TABLE: table, YEARS_TABLE: outcome.years, FIT_TABLE: fit_table(outcome)})
    return outcome
