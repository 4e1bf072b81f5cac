"""Repeat orders after a won deal: BG/NBD purchases and Gamma-Gamma order values (parameters in catalog).

Per customer: purchase rate λ ~ Gamma(r, rate α) per week; after each repeat purchase the customer drops out with
probability p ~ Beta(a, b); order value z ~ Gamma(p, rate ν) with ν ~ Gamma(q, rate γ) per customer (USD).
The won deal's close is time zero; orders are censored at the window end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from . import catalog as cat
from . import identity
from .crm import LEAD_ID_WIDTH, Deals
from .market import CURRENCIES, Fx
from .people import People, Window
from .text import DAY, NULL, decimals, ids, messy, pick, timestamps, where
from .writer import Batch

WEEK = 7 * DAY


@dataclass
class Orders:
    batch: Batch
    customers: int


def build_orders(
    rng: np.random.Generator,
    people: People,
    deals: Deals,
    window: Window,
    fx: Fx,
    id_start: int,
    columns: tuple[str, ...],
) -> Orders:
    won = np.flatnonzero(deals.outcome == 1)
    c = len(won)
    t0 = deals.closed[won]
    age = (window.end - t0) / WEEK
    bg, gg = cat.PURCHASE_PROCESS, cat.SPEND_PROCESS
    rate = rng.gamma(bg["r"], 1 / bg["alpha"], c)
    dropout = rng.beta(bg["a"], bg["b"], c)
    # purchases while alive: the first min(M, N) arrivals of a Poisson process seen up to `age`, where
    # M ~ Poisson(λ·age) arrivals happen by then and N ~ Geometric(p) is the purchase after which they drop out
    arrivals = rng.poisson(rate * age)
    alive_for = rng.geometric(np.clip(dropout, 1e-9, 1.0))
    owner = np.repeat(np.arange(c), arrivals)
    at = rng.random(len(owner)) * age[owner]
    order = np.lexsort((at, owner))
    owner, at = owner[order], at[order]
    rank = np.arange(len(owner)) - np.repeat(np.cumsum(arrivals) - arrivals, arrivals)
    keep = rank < alive_for[owner]
    owner, at = owner[keep], at[keep]

    scale = rng.gamma(gg["q"], 1 / gg["gamma"], c)  # ν per customer
    usd = rng.gamma(gg["p"], 1 / scale[owner])
    when = np.minimum(t0[owner] + (at * WEEK).astype(np.int64) + 60, window.end)
    currency = deals.currency[won][owner]
    amount = np.maximum(fx.to_local(usd, currency, when), 0.01)
    n = len(owner)
    person = deals.person[won][owner]
    has_email = rng.random(n) < 0.85
    has_phone = ~has_email | (rng.random(n) < 0.25)
    product_margin = np.array([v[2] for v in cat.PRODUCTS.values()])
    margin = np.clip(product_margin[deals.product[won][owner]] + rng.normal(0, 0.03, n), 0.05, 0.95)
    cols = {
        "order_id": ids("O", id_start + np.arange(n), 10),
        "ordered_at": timestamps(when),
        "email": where(has_email, messy(rng, identity.email(people, person), 0.05), NULL),
        "phone": where(has_phone, identity.phone(people, person, rng.integers(0, 6, n)), NULL),
        "lead_id": where(rng.random(n) < 0.7, ids("L", deals.lead_number[won][owner], LEAD_ID_WIDTH), NULL),
        "amount": decimals(amount),
        "currency": pick(CURRENCIES, currency),
        "gross_margin": where(rng.random(n) < 0.8, decimals(margin), NULL),
    }
    return Orders(Batch(pa.table({c: cols[c] for c in columns}), when), c)
