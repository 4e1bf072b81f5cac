"""BG/NBD and Gamma-Gamma (orchestration/lib/clv.py) against the published CDNOW estimates, and the behaviour of
expected purchases, P(alive) and CLV.

The CDNOW sample (2 357 customers, weeks) is read at set-up from the `lifetimes` source distribution on the package
index — its data file only, never its code — and is not committed."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile

import numpy as np
import pandas as pd
import pytest

from orchestration.lib import clv

CDNOW_FILE = "lifetimes/datasets/cdnow_customers_summary_with_transactions.csv"  # ID, x, t_x, T, zbar


@pytest.fixture(scope="session")
def cdnow(tmp_path_factory) -> pd.DataFrame:
    where = tmp_path_factory.mktemp("lifetimes_sdist")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--no-binary",
            ":all:",
            "lifetimes==0.11.3",
            "-d",
            str(where),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, f"could not download the lifetimes sdist: {result.stderr[-2000:]}"
    (sdist,) = where.glob("*.tar.gz")
    with tarfile.open(sdist) as tar:
        (member,) = [m for m in tar.getmembers() if m.name.endswith(CDNOW_FILE)]
        data = pd.read_csv(io.BytesIO(tar.extractfile(member).read()))
    assert len(data) == 2357
    return data


@pytest.fixture(scope="session")
def bgnbd(cdnow) -> dict:
    return clv.fit_bgnbd(cdnow["x"], cdnow["t_x"], cdnow["T"])


@pytest.fixture(scope="session")
def gamma_gamma(cdnow) -> dict:
    return clv.fit_gamma_gamma(cdnow["x"], cdnow["zbar"])


def test_bgnbd_reproduces_the_published_cdnow_estimates(bgnbd):
    # Fader, Hardie & Lee (2005): r 0.243, α 4.414, a 0.793, b 2.426, LL −9582.4
    assert bgnbd["r"] == pytest.approx(0.243, abs=5e-4)
    assert bgnbd["alpha"] == pytest.approx(4.414, abs=5e-3)
    assert bgnbd["a"] == pytest.approx(0.793, abs=5e-4)
    assert bgnbd["b"] == pytest.approx(2.426, abs=5e-3)
    assert bgnbd["log_likelihood"] == pytest.approx(-9582.4, abs=0.05)


def test_gamma_gamma_reproduces_the_published_cdnow_estimates(gamma_gamma):
    # Fader, Hardie & Lee (2005), iso-value curves: p 6.25, q 3.74, γ 15.44
    assert gamma_gamma["p"] == pytest.approx(6.25, abs=0.01)
    assert gamma_gamma["q"] == pytest.approx(3.74, abs=0.01)
    assert gamma_gamma["gamma"] == pytest.approx(15.44, abs=0.02)


def test_the_fit_is_a_maximum(cdnow, bgnbd):
    x, t_x, T = cdnow["x"], cdnow["t_x"], cdnow["T"]
    best = bgnbd["log_likelihood"]
    for key in ("r", "alpha", "a", "b"):
        for factor in (0.98, 1.02):
            assert clv.bgnbd_log_likelihood({**bgnbd, key: bgnbd[key] * factor}, x, t_x, T) < best


def test_conditional_expectation_of_the_papers_customer(bgnbd):
    # FHL 2005 §5: x = 2, t_x = 30.43, T = 38.86 expects 1.226 purchases in the next 39 weeks
    assert clv.expected_purchases(bgnbd, 39, [2], [30.43], [38.86])[0] == pytest.approx(1.226, abs=2e-3)


def test_a_fresh_customer_expects_what_a_new_customer_expects(bgnbd):
    # conditional on x = t_x = T = 0 the expectation is the unconditional E[X(t)]; long horizons take the
    # other branch of the hypergeometric evaluation, so both are checked against the direct series
    t = np.array([1.0, 10.0, 39.0, 200.0, 2000.0])
    zeros = np.zeros(len(t))
    assert clv.expected_purchases(bgnbd, t, zeros, zeros, zeros) == pytest.approx(
        clv.expected_purchases_new_customer(bgnbd, t), rel=1e-9
    )


def test_expected_purchases_grow_with_the_horizon_and_recency(bgnbd):
    horizons = np.array([0.0, 4.0, 13.0, 26.0, 52.0, 104.0, 520.0])
    for x, t_x in [(0, 0.0), (1, 5.0), (5, 30.0), (40, 38.0)]:
        e = np.array([clv.expected_purchases(bgnbd, h, [x], [t_x], [38.86])[0] for h in horizons])
        assert e[0] == 0 and (np.diff(e) > 0).all()
    # the same frequency bought more recently is more likely alive and expected to buy more
    recency = np.array([1.0, 10.0, 20.0, 30.0, 38.0])
    three = np.full(len(recency), 3.0)
    age = np.full(len(recency), 38.86)
    assert (np.diff(clv.probability_alive(bgnbd, three, recency, age)) > 0).all()
    assert (np.diff(clv.expected_purchases(bgnbd, 52, three, recency, age)) > 0).all()


def test_probability_alive(bgnbd):
    p = clv.probability_alive(bgnbd, [0, 2, 2, 10], [0.0, 38.86, 5.0, 5.0], [38.86] * 4)
    assert p[0] == 1.0  # never repeated: cannot have dropped out after a repeat purchase
    # bought at the very end: only the dropout right after that purchase remains, probability a ÷ (b + x − 1)
    assert p[1] == pytest.approx(1 / (1 + bgnbd["a"] / (bgnbd["b"] + 1)))
    assert p[3] < p[2] < p[1]  # a long silence after many purchases is the strongest sign of dropout
    assert p[3] < 0.01


def test_expected_order_value_shrinks_to_the_population_mean(gamma_gamma):
    population = gamma_gamma["p"] * gamma_gamma["gamma"] / (gamma_gamma["q"] - 1)
    value = clv.expected_order_value(gamma_gamma, [0, 1, 10, 1000], [np.nan, 100.0, 100.0, 100.0])
    assert value[0] == pytest.approx(population)
    assert population < value[1] < value[2] < value[3] < 100.0
    assert value[3] == pytest.approx(100.0, rel=0.01)


def test_clv_discounting_and_margin(bgnbd, gamma_gamma):
    args = (bgnbd, gamma_gamma, [3], [30.0], [38.86], [40.0])
    plain = clv.customer_lifetime_value(*args, monthly_discount_rate=0.0)[0]
    months = np.arange(13) * clv.WEEKS_PER_MONTH
    expected = (
        clv.expected_purchases(bgnbd, months[-1], [3], [30.0], [38.86])[0]
        * clv.expected_order_value(gamma_gamma, [3], [40.0])[0]
    )
    assert plain == pytest.approx(expected)  # undiscounted: purchases in 12 months × order value
    assert clv.customer_lifetime_value(*args)[0] < plain  # 1 %/month by default
    assert clv.customer_lifetime_value(*args, monthly_discount_rate=0.0, margin=0.4)[0] == pytest.approx(0.4 * plain)
    longer = clv.customer_lifetime_value(*args, months=24)[0]
    assert longer > clv.customer_lifetime_value(*args)[0]


def test_service_cost_equal_to_revenue_gives_zero():
    # docs/metrics.md *Customers, LTV and RFM*: 2 h a month at 500 = 12 000 a year against 12 000 a year of revenue
    # ⇒ CLV 0
    assert clv.discounted_value(np.full(12, 1000.0), 0.01, service_cost_per_month=2 * 500 / 1) == pytest.approx(
        0.0, abs=1e-9
    )
    # 2 000 every two months is 1 000 a month: same
    assert clv.discounted_value(np.full(12, 1000.0), 0.0, service_cost_per_month=2000 / 2) == 0.0
    # without cost, 12 × 1 000 discounted at 1 %/month
    assert clv.discounted_value(np.full(12, 1000.0), 0.01) == pytest.approx(sum(1000.0 / 1.01**i for i in range(1, 13)))


def test_service_cost_lowers_every_customers_clv_by_the_same_amount(bgnbd, gamma_gamma, cdnow):
    args = (bgnbd, gamma_gamma, cdnow["x"], cdnow["t_x"], cdnow["T"], cdnow["zbar"])
    base = clv.customer_lifetime_value(*args)
    costed = clv.customer_lifetime_value(*args, service_cost_per_month=5.0)
    assert base - costed == pytest.approx(np.full(len(base), sum(5.0 / 1.01**i for i in range(1, 13))))
    assert (base >= 0).all()


def test_fits_recover_planted_parameters():
    # a sample drawn from the models themselves: the fit finds what was planted
    rng = np.random.default_rng(3)
    n, planted = 20_000, {"r": 0.5, "alpha": 6.0, "a": 0.7, "b": 3.0}
    T = rng.uniform(20, 80, n)
    rate = rng.gamma(planted["r"], 1 / planted["alpha"], n)
    dropout = rng.beta(planted["a"], planted["b"], n)
    x, t_x = np.zeros(n), np.zeros(n)
    # purchases while alive: arrivals of a Poisson process, each followed by dropout with probability p
    arrivals = rng.poisson(rate * T)
    lives = rng.geometric(dropout)  # the repeat purchase after which the customer drops out
    for count in np.unique(arrivals[arrivals > 0]):  # loop over distinct counts, not customers
        who = np.flatnonzero(arrivals == count)
        times = np.sort(rng.random((len(who), count)) * T[who, None], axis=1)
        kept = np.minimum(count, lives[who])
        x[who] = kept
        t_x[who] = times[np.arange(len(who)), kept - 1]
    fit = clv.fit_bgnbd(x, t_x, T)
    for key, value in planted.items():
        assert fit[key] == pytest.approx(value, rel=0.15), (key, fit)
    spend = {"p": 6.0, "q": 4.0, "gamma": 600.0}
    nu = rng.gamma(spend["q"], 1 / spend["gamma"], n)
    repeat = x > 0
    mean_value = np.full(n, np.nan)
    mean_value[repeat] = rng.gamma(spend["p"] * x[repeat], 1 / nu[repeat]) / x[repeat]  # mean of x Gamma(p, ν)
    gg = clv.fit_gamma_gamma(x, mean_value)
    for key, value in spend.items():
        assert gg[key] == pytest.approx(value, rel=0.2), (key, gg)


def _summary_table(frame: pd.DataFrame, monetary: pd.Series | None = None):
    """int_customers_summarised's columns as the CLV step reads them from the warehouse (text), for `frame`."""
    import pyarrow as pa

    text = lambda values: pa.array([None if v != v else str(v) for v in values], pa.string())  # noqa: E731
    spend = frame["zbar"] if monetary is None else monetary
    return pa.table(
        {
            "person_id": text(frame["ID"]),
            "frequency": text(frame["x"]),
            "recency_weeks": text(frame["t_x"]),
            "age_weeks": text(frame["T"]),
            "monetary_value": text(spend.where(frame["x"] > 0)),
        }
    )


def test_too_few_customers_is_a_clear_error():
    with pytest.raises(clv.FitError, match="repeat purchases"):
        clv.fit_bgnbd([0, 0, 0], [0, 0, 0], [10, 20, 30])
    with pytest.raises(clv.FitError):
        clv.fit_gamma_gamma([1], [20.0])
    with pytest.raises(ValueError, match="recency"):
        clv.fit_bgnbd([1, 2], [5, 50], [10, 20])


def test_customer_clv_table_fits_or_says_why(cdnow, tmp_path, monkeypatch):
    from orchestration.lib.customer_clv import MIN_CUSTOMERS, ClvSettings, compute_customer_clv, fit_table
    from orchestration.settings import load_settings

    summary = _summary_table

    # the knobs come from Settings (CLOSEDLOOP_* variables), the same values dbt's vars read
    monkeypatch.setenv("CLOSEDLOOP_DEFAULT_GROSS_MARGIN", "0.5")
    settings = ClvSettings.from_settings(load_settings(data_dir=tmp_path))
    assert settings.default_gross_margin == 0.5 and settings.horizon_months == 12 and settings.npv_years == 3
    table, outcome = compute_customer_clv(summary(cdnow), settings)
    assert outcome.status == "fitted" and outcome.bgnbd["r"] == pytest.approx(0.243, abs=5e-4)
    assert table.num_rows == len(cdnow) and table.column("clv").null_count == 0
    assert table.column("clv").to_pylist()[0] == pytest.approx(
        clv.customer_lifetime_value(outcome.bgnbd, outcome.gamma_gamma, [2], [30.43], [38.86], [22.35], margin=0.5)[0]
    )
    # the projection of LTV (d): per customer-year beyond the data end, the conditional expectation's increments
    years = outcome.years.to_pandas()
    assert set(years["customer_year"]) == {1, 2, 3} and (years["expected_purchases"] >= 0).all()
    first = years[years["person_id"] == str(cdnow["ID"].iloc[0])].set_index("customer_year")
    week = 365.25 / 7
    assert first.loc[2, "expected_purchases"] == pytest.approx(
        clv.expected_purchases(outcome.bgnbd, 2 * week - 38.86, [2], [30.43], [38.86])[0]
        - clv.expected_purchases(outcome.bgnbd, week - 38.86, [2], [30.43], [38.86])[0],
        rel=1e-3,
    )
    fit = fit_table(outcome).to_pandas().set_index(["model", "parameter"])
    assert fit.loc[("bgnbd", "r"), "value"] == pytest.approx(0.243, abs=5e-4)
    assert fit.loc[("gamma_gamma", "q"), "customers_used"] == (cdnow["x"] > 0).sum()
    assert set(fit["fit_status"]) == {"fitted"}
    few, outcome = compute_customer_clv(summary(cdnow.head(MIN_CUSTOMERS - 1)), settings)
    assert outcome.years.num_rows == 0 and fit_table(outcome).column("value").null_count == 7
    assert outcome.status.startswith("too_few_customers")
    assert few.column("clv").null_count == few.num_rows == MIN_CUSTOMERS - 1
    assert set(few.column("model_status").to_pylist()) == {outcome.status}


def test_parameters_the_data_cannot_pin_down_are_flagged(cdnow):
    from orchestration.lib.customer_clv import ClvSettings, compute_customer_clv

    # every repeat customer spends exactly 20 on average: Gamma-Gamma's spread parameters run off to the bound
    summary = _summary_table(cdnow, cdnow["zbar"] * 0 + 20)
    settings = ClvSettings(default_gross_margin=1.0)
    table, outcome = compute_customer_clv(summary, settings)
    assert outcome.status.startswith("fitted_at_bound:") and "p" in outcome.status.split(": ")[1].split(", ")
    assert "treat with care" in outcome.describe()
    assert table.column("clv").null_count == 0  # the values are still given, flagged in model_status


def _series_2f1(a: float, b: float, c: float, z: float) -> float:
    """2F1(a, b; c; z) summed term by term (|z| < 1): the oracle for the library's evaluation."""
    total, term, n = 1.0, 1.0, 0
    while abs(term) > 1e-17 * abs(total) or n < 10:
        term *= (a + n) * (b + n) / ((c + n) * (n + 1)) * z
        total += term
        n += 1
    return total


def test_expected_purchases_stay_finite_when_the_fit_is_at_the_bound():
    # fitted on 125 customers of a 2,000-lead sample: a and b ran off towards the bound. Euler's form of the
    # hypergeometric function overflows there (2F1 → inf times a power → 0 gave NaN, and the night failed on the
    # NaN in mart_ltv_segments); the direct series converges, and the formula must follow it
    params = {"r": 0.2422, "alpha": 3.877, "a": 65608.8, "b": 102371.3}
    r, alpha, a, b = params.values()
    for x, t_x, age, t in [(0, 0.0, 30.0, 126.0), (2, 10.0, 50.0, 104.0), (5, 40.0, 45.0, 520.0)]:
        z = t / (alpha + age + t)
        assert z > 0.5  # the branch that took Euler's form
        tail = ((alpha + age) / (alpha + age + t)) ** (r + x) * _series_2f1(r + x, b + x, a + b + x - 1, z)
        odds = a / (b + x - 1) * ((alpha + age) / (alpha + t_x)) ** (r + x) if x else 0.0
        expected = (a + b + x - 1) / (a - 1) * (1 - tail) / (1 + odds)
        assert clv.expected_purchases(params, t, [x], [t_x], [age])[0] == pytest.approx(expected, rel=1e-9)


def test_a_fit_whose_values_are_not_finite_is_not_published(cdnow, monkeypatch):
    from orchestration.lib.customer_clv import ClvSettings, compute_customer_clv

    summary = _summary_table(cdnow)
    real = clv.expected_purchases

    def one_nan(params, t, *customers):  # what the overflow above gave: NaN for some customers
        values = real(params, t, *customers)
        values[..., :1] = np.nan
        return values

    monkeypatch.setattr(clv, "expected_purchases", one_nan)
    table, outcome = compute_customer_clv(summary, ClvSettings())
    assert outcome.status.startswith("not_fitted: the fitted model gives") and "not finite" in outcome.status
    assert table.column("clv").null_count == table.num_rows and outcome.years.num_rows == 0
