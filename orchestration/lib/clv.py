"""Probabilistic customer lifetime value (docs/metrics.md *Customers, LTV and RFM*, formula (f)): BG/NBD for the
purchase process and Gamma-Gamma for order values, fitted by maximum likelihood, then conditional expected purchases,
P(alive) and CLV per customer.

Formulas: Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative to the Pareto/NBD
model" (BG/NBD likelihood eq. 6, conditional expectation eq. 10, P(alive) from the technical note), and Fader,
Hardie & Lee (2005), "RFM and CLV: using iso-value curves for customer base analysis" (Gamma-Gamma for the mean of a
customer's repeat order values).

Inputs are array-likes per customer in the usual BG/NBD units:
- `frequency` x: repeat purchases (purchases after the first);
- `recency` t_x: time of the last purchase since the first (0 when x = 0);
- `T`: age, time from the first purchase to the end of the data;
- `monetary_value` m_x: mean value of the repeat purchases (used only where x > 0).
Time is in whatever unit the caller chose (the warehouse uses weeks); fitted `alpha` is in that unit.

Everything is vectorised over customers (no Python loop per customer) and computed in log space with `gammaln`,
`betaln` and `logaddexp`; the likelihoods have analytic gradients, so L-BFGS-B needs one pass over the data per
step. One million customers fit in a few seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

WEEKS_PER_MONTH = 365.25 / 7 / 12  # 4.348: the warehouse's BG/NBD time unit is the week

# bounds of the log-parameters: keeps the optimiser away from overflow without constraining any sensible fit
LOG_BOUNDS = (-12.0, 12.0)


class FitError(ValueError):
    """The data cannot identify the model (too few customers, or no repeat purchases)."""


@dataclass(frozen=True)
class _Summary:
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray


def _as_summary(frequency, recency, T) -> _Summary:
    x = np.asarray(frequency, dtype=float)
    t_x = np.asarray(recency, dtype=float)
    age = np.asarray(T, dtype=float)
    if not (x.shape == t_x.shape == age.shape) or x.ndim != 1:
        raise ValueError("frequency, recency and T must be one-dimensional and of the same length")
    if not (np.isfinite(x).all() and np.isfinite(t_x).all() and np.isfinite(age).all()):
        raise ValueError("frequency, recency and T must be finite")
    if (x < 0).any() or (t_x < 0).any() or (t_x > age + 1e-9).any():
        raise ValueError("need frequency ≥ 0 and 0 ≤ recency ≤ T")
    if ((x == 0) & (t_x > 0)).any():
        raise ValueError("a customer without repeat purchases has recency 0")
    return _Summary(x, t_x, age)


# ---------------------------------------------------------------------------------------------------------------
# BG/NBD


def _bgnbd_terms(r, alpha, a, b, s: _Summary):
    """Per-customer log-likelihood and its gradient in (r, alpha, a, b)."""
    x, t_x, T = s.x, s.t_x, s.T
    repeat = x > 0
    rx = r + x
    log_alpha_T = np.log(alpha + T)
    log_alpha_tx = np.log(alpha + t_x)
    bx1 = np.where(repeat, b + x - 1.0, 1.0)  # b + x − 1 > 0 whenever x ≥ 1; a dummy 1 where the term is unused
    # L = A1 · A2 · (A3 + δ(x>0) A4), each factor in logs
    log_a1 = special.gammaln(rx) - special.gammaln(r) + r * np.log(alpha)
    log_a2 = special.betaln(a, b + x) - special.betaln(a, b)
    log_a3 = -rx * log_alpha_T
    log_a4 = np.where(repeat, np.log(a) - np.log(bx1) - rx * log_alpha_tx, -np.inf)
    log_mix = np.logaddexp(log_a3, log_a4)
    ll = log_a1 + log_a2 + log_mix
    # weights of the two branches of the mixture (sum to 1)
    w4 = np.exp(log_a4 - log_mix)
    w3 = 1.0 - w4
    dig_rx = special.digamma(rx)
    dig_abx = special.digamma(a + b + x)
    dig_ab = special.digamma(a + b)
    d_r = dig_rx - special.digamma(r) + np.log(alpha) - w3 * log_alpha_T - w4 * log_alpha_tx
    d_alpha = r / alpha - w3 * rx / (alpha + T) - w4 * rx / (alpha + t_x)
    d_a = dig_ab - dig_abx + w4 / a
    d_b = special.digamma(b + x) - dig_abx - special.digamma(b) + dig_ab - w4 / bx1
    return ll, (d_r, d_alpha, d_a, d_b)


def bgnbd_log_likelihood(params: dict, frequency, recency, T) -> float:
    """Total log-likelihood of a BG/NBD parameter set ({r, alpha, a, b}) on a customer summary."""
    s = _as_summary(frequency, recency, T)
    ll, _ = _bgnbd_terms(params["r"], params["alpha"], params["a"], params["b"], s)
    return float(ll.sum())


def _maximise(objective, start: np.ndarray, what: str) -> np.ndarray:
    result = optimize.minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[LOG_BOUNDS] * len(start),
        options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9},
    )
    if not np.isfinite(result.fun):
        raise FitError(f"{what}: the likelihood is not finite at the optimum ({result.message})")
    return result.x


def fit_bgnbd(frequency, recency, T) -> dict:
    """Maximum-likelihood BG/NBD: {r, alpha, a, b, log_likelihood} (alpha in the time unit of recency and T)."""
    s = _as_summary(frequency, recency, T)
    n = len(s.x)
    if n < 2 or not (s.x > 0).any():
        raise FitError(
            f"BG/NBD needs customers with repeat purchases (got {n} customers, {int((s.x > 0).sum())} with repeats)"
        )
    # fit with time rescaled so alpha starts near 1 (alpha scales with the time unit; r, a, b do not)
    scale = float(np.mean(s.T)) or 1.0
    scaled = _Summary(s.x, s.t_x / scale, s.T / scale)

    def objective(theta):
        r, alpha, a, b = np.exp(theta)
        ll, grads = _bgnbd_terms(r, alpha, a, b, scaled)
        # mean negative log-likelihood and its gradient in the log-parameters (chain rule: dθ = p · dp)
        value = -ll.sum() / n
        grad = -np.array([g.sum() for g in grads]) * np.array([r, alpha, a, b]) / n
        return value, grad

    r, alpha, a, b = np.exp(_maximise(objective, np.zeros(4), "BG/NBD"))
    params = {"r": float(r), "alpha": float(alpha * scale), "a": float(a), "b": float(b)}
    params["log_likelihood"] = bgnbd_log_likelihood(params, s.x, s.t_x, s.T)
    return params


def probability_alive(params: dict, frequency, recency, T) -> np.ndarray:
    """P(the customer is still active at T | x, t_x, T); 1 for a customer without repeat purchases."""
    s = _as_summary(frequency, recency, T)
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    repeat = s.x > 0
    log_odds = (
        np.log(a)
        - np.log(np.where(repeat, b + s.x - 1.0, 1.0))
        + (r + s.x) * (np.log(alpha + s.T) - np.log(alpha + s.t_x))
    )
    # 1 / (1 + e^log_odds), stably
    return np.where(repeat, special.expit(-log_odds), 1.0)


def expected_purchases(params: dict, t, frequency, recency, T) -> np.ndarray:
    """Conditional expected number of purchases in the next `t` time units (FHL 2005 eq. 10), per customer.

    `t` may be a scalar or an array broadcastable against the customers."""
    s = _as_summary(frequency, recency, T)
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    t = np.asarray(t, dtype=float)
    x, t_x, age = s.x, s.t_x, s.T
    rx = r + x
    z = t / (alpha + age + t)
    # ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x−1; z); with Euler's transformation when z > ½, where the series
    # converges slowly:  2F1(A,B;C;z) = (1−z)^(C−A−B) 2F1(C−A, C−B; C; z) and 1 − z = (α+T)/(α+T+t)
    c = a + b + x - 1.0
    log_base = np.log1p(-z)  # log((α+T)/(α+T+t))
    with np.errstate(invalid="ignore", over="ignore"):  # the branch not taken may overflow
        direct_tail = np.exp(rx * log_base) * special.hyp2f1(rx, b + x, c, z)
        euler_tail = np.exp((a - 1.0) * log_base) * special.hyp2f1(c - rx, a - 1.0, c, z)  # (1−z)^(r+x+C−A−B)
    # Euler's form overflows when a and b are large (a fit at the bound of b, from few customers: 2F1 → inf times
    # a power → 0); the direct series still converges there, only more slowly
    tail = np.where((z > 0.5) & np.isfinite(euler_tail), euler_tail, direct_tail)
    numerator = (a + b + x - 1.0) / (a - 1.0) * (1.0 - tail)
    repeat = x > 0
    denominator = 1.0 + np.where(
        repeat,
        np.exp(
            np.log(a) - np.log(np.where(repeat, b + x - 1.0, 1.0)) + rx * (np.log(alpha + age) - np.log(alpha + t_x))
        ),
        0.0,
    )
    return numerator / denominator


def expected_purchases_new_customer(params: dict, t) -> np.ndarray:
    """E[X(t)]: expected purchases of a customer just acquired, in the next `t` time units (FHL 2005 eq. 9)."""
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    t = np.asarray(t, dtype=float)
    z = t / (alpha + t)
    return (a + b - 1.0) / (a - 1.0) * (1.0 - (alpha / (alpha + t)) ** r * special.hyp2f1(r, b, a + b - 1.0, z))


# ---------------------------------------------------------------------------------------------------------------
# Gamma-Gamma


def _gg_terms(p, q, gamma, x, m):
    px = p * x
    log_gx = np.log(gamma + m * x)
    ll = (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(gamma)
        + (px - 1.0) * np.log(m)
        + px * np.log(x)
        - (px + q) * log_gx
    )
    dig = special.digamma(px + q)
    d_p = x * (dig - special.digamma(px) + np.log(m) + np.log(x) - log_gx)
    d_q = dig - special.digamma(q) + np.log(gamma) - log_gx
    d_gamma = q / gamma - (px + q) / (gamma + m * x)
    return ll, (d_p, d_q, d_gamma)


def _gg_inputs(frequency, monetary_value):
    x = np.asarray(frequency, dtype=float)
    m = np.asarray(monetary_value, dtype=float)
    if x.shape != m.shape or x.ndim != 1:
        raise ValueError("frequency and monetary_value must be one-dimensional and of the same length")
    use = (x > 0) & np.isfinite(m) & (m > 0)
    return x[use], m[use]


def gamma_gamma_log_likelihood(params: dict, frequency, monetary_value) -> float:
    """Total log-likelihood of {p, q, gamma} over the customers with repeat purchases and a positive mean value."""
    x, m = _gg_inputs(frequency, monetary_value)
    ll, _ = _gg_terms(params["p"], params["q"], params["gamma"], x, m)
    return float(ll.sum())


def fit_gamma_gamma(frequency, monetary_value) -> dict:
    """Maximum-likelihood Gamma-Gamma on customers with x > 0 (m_x = mean of their repeat order values):
    {p, q, gamma, log_likelihood}. Customers with x = 0 or a non-positive mean are left out."""
    x, m = _gg_inputs(frequency, monetary_value)
    if len(x) < 2:
        raise FitError(f"Gamma-Gamma needs customers with repeat purchases (got {len(x)})")
    # values rescaled so gamma starts near its right order (gamma scales with the currency; p and q do not)
    scale = float(np.mean(m))
    ms = m / scale
    n = len(x)

    def objective(theta):
        p, q, gamma = np.exp(theta)
        ll, grads = _gg_terms(p, q, gamma, x, ms)
        return -ll.sum() / n, -np.array([g.sum() for g in grads]) * np.array([p, q, gamma]) / n

    p, q, gamma = np.exp(_maximise(objective, np.array([0.0, np.log(2.0), 0.0]), "Gamma-Gamma"))
    params = {"p": float(p), "q": float(q), "gamma": float(gamma * scale)}
    params["log_likelihood"] = gamma_gamma_log_likelihood(params, x, m)
    return params


def expected_order_value(params: dict, frequency, monetary_value) -> np.ndarray:
    """E[value of the next order | x, m_x]: a weighted mean of the population mean p·γ/(q−1) and the customer's own
    mean, the weight of the own mean growing with x. Customers with x = 0 get the population mean (needs q > 1)."""
    p, q, gamma = params["p"], params["q"], params["gamma"]
    if q <= 1:
        raise FitError(f"Gamma-Gamma q = {q:.3f} ≤ 1: the mean order value is not defined")
    x = np.asarray(frequency, dtype=float)
    m = np.nan_to_num(np.asarray(monetary_value, dtype=float), nan=0.0)
    m = np.where(x > 0, m, 0.0)
    return p * (gamma + m * x) / (p * x + q - 1.0)


# ---------------------------------------------------------------------------------------------------------------
# CLV


def discounted_value(monthly_revenue, monthly_discount_rate: float = 0.01, service_cost_per_month: float = 0.0):
    """Σ_i (revenue_i − service cost) ÷ (1 + d)^i over months i = 1..H, with `monthly_revenue` shaped
    (customers, H) or (H,). A service cost equal to the monthly revenue gives 0."""
    revenue = np.asarray(monthly_revenue, dtype=float)
    months = revenue.shape[-1]
    factors = (1.0 + monthly_discount_rate) ** -np.arange(1, months + 1)
    return (revenue - service_cost_per_month) @ factors


def customer_lifetime_value(
    bgnbd: dict,
    gamma_gamma: dict,
    frequency,
    recency,
    T,
    monetary_value,
    *,
    months: int = 12,
    monthly_discount_rate: float = 0.01,
    margin: float = 1.0,
    service_cost_per_month: float = 0.0,
    time_units_per_month: float = WEEKS_PER_MONTH,
) -> np.ndarray:
    """CLV over `months` months per customer: for each month i, the expected purchases in month i (difference of
    the conditional expectations at i and i−1 months) × expected order value × margin, less the service cost per
    customer per month, discounted by (1 + d)^i."""
    ends = np.arange(months + 1) * time_units_per_month
    cumulative = np.stack([expected_purchases(bgnbd, t, frequency, recency, T) for t in ends], axis=-1)
    purchases = np.diff(cumulative, axis=-1)  # (customers, months)
    value = expected_order_value(gamma_gamma, frequency, monetary_value)
    return discounted_value(purchases * (value * margin)[:, None], monthly_discount_rate, service_cost_per_month)
