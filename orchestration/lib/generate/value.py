"""The true expected value of a customer, from the processes the generator plants (catalog): the won deal
(product mix × median amount × lognormal(0, 0.6)), repeat orders from the BG/NBD purchase process and the
Gamma-Gamma order values, and each product's gross margin. Written to ground_truth.json so the published LTV can be
checked against it."""

from __future__ import annotations

import math

import numpy as np

from orchestration.lib import clv

from . import catalog as cat

WEEKS_PER_YEAR = 365.25 / 7
DEAL_SIGMA = 0.6  # log-sd of a deal's amount around its product's median (crm.build_deals)
ACCOUNT_PRODUCT_SHARE = 0.8  # a deal is for the account's product, else any product with equal odds


def customer_value(years: int = 3, annual_discount_rate: float = 0.10) -> dict:
    """Expected value per customer over the first `years` customer-years (year t discounted by (1 + d)^t, as LTV
    (d)): revenue and gross margin, split into the won deal (year 1) and repeat orders. The generator plants no
    channel effect on deal size or buying, so the expectation is the same for every acquisition channel."""
    weights = np.array([w for w, _, _ in cat.PRODUCTS.values()])
    weights = weights / weights.sum()
    p_product = ACCOUNT_PRODUCT_SHARE * weights + (1 - ACCOUNT_PRODUCT_SHARE) / len(weights)
    median = np.array([m for _, m, _ in cat.PRODUCTS.values()], dtype=float)
    margin = np.array([g for _, _, g in cat.PRODUCTS.values()])
    lognormal_mean = math.exp(DEAL_SIGMA**2 / 2)
    deal = float(p_product @ median) * lognormal_mean
    deal_margin = float(p_product @ (median * margin)) * lognormal_mean
    # per-customer spread of the deal's margin (the bulk of the value): sets the tolerance of a channel's mean
    second_moment = float(p_product @ (median * margin) ** 2) * math.exp(2 * DEAL_SIGMA**2)
    deal_margin_cv = math.sqrt(second_moment - deal_margin**2) / deal_margin

    bg = {k: cat.PURCHASE_PROCESS[k] for k in ("r", "alpha", "a", "b")}
    gg = cat.SPEND_PROCESS
    order_value = gg["p"] * gg["gamma"] / (gg["q"] - 1)
    order_margin = float(p_product @ margin)  # an order's margin is its deal's product's (plus noise)
    cumulative = clv.expected_purchases_new_customer(bg, np.arange(years + 1) * WEEKS_PER_YEAR)
    per_year = np.diff(cumulative)
    revenue_years = [deal + per_year[0] * order_value] + [per_year[t] * order_value for t in range(1, years)]
    discount = [(1 + annual_discount_rate) ** (t + 1) for t in range(years)]
    margin_years = [(deal_margin if t == 0 else 0.0) + per_year[t] * order_value * order_margin for t in range(years)]
    return {
        "years": years,
        "annual_discount_rate": annual_discount_rate,
        "expected_deal_revenue": round(deal, 2),
        "expected_deal_gross_margin": round(deal_margin, 2),
        "expected_repeat_purchases_by_year": [round(float(v), 4) for v in per_year],
        "expected_order_value": order_value,
        "expected_order_margin": round(order_margin, 4),
        "expected_revenue_by_year": [round(float(v), 2) for v in revenue_years],
        "expected_revenue": round(float(sum(revenue_years)), 2),
        "expected_discounted_gross_margin": round(
            float(sum(m / d for m, d in zip(margin_years, discount, strict=True))), 2
        ),
        "deal_gross_margin_cv": round(deal_margin_cv, 4),
    }
