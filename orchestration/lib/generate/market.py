"""Exchange rates and ad spend: the daily series around the people.

Spend follows the clicks the touchpoints actually record (tracked clicks are a fraction of billed clicks), so
cost per lead and ROAS come out plausible at any scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from . import catalog as cat
from .people import Window
from .text import DAY, dates, decimals, numbers, pick
from .writer import Batch

CURRENCIES = ("USD", "EUR", "GBP")


@dataclass(frozen=True)
class Fx:
    """USD per unit of each currency, per day of the window (index 0 = window start)."""

    window: Window
    table: np.ndarray  # shape (days, len(CURRENCIES))

    def rate(self, currency: np.ndarray, seconds: np.ndarray) -> np.ndarray:
        day = np.clip((np.asarray(seconds) - self.window.start) // DAY, 0, len(self.table) - 1)
        return self.table[day, currency]

    def to_local(self, usd: np.ndarray, currency: np.ndarray, seconds: np.ndarray) -> np.ndarray:
        return usd / self.rate(currency, seconds)


def draw_fx(rng: np.random.Generator, window: Window) -> Fx:
    table = np.ones((window.days, len(CURRENCIES)))
    for j, code in enumerate(CURRENCIES[1:], start=1):
        steps = rng.normal(0.0, 0.004, window.days)
        table[:, j] = np.round(cat.FX_START[code] * np.exp(np.cumsum(steps) - steps[0]), 6)
    return Fx(window, table)


def fx_batch(fx: Fx, columns: tuple[str, ...]) -> Batch:
    days = len(fx.table)
    day = np.repeat(np.arange(days), len(CURRENCIES))
    when = fx.window.start + day * DAY
    code = np.tile(np.arange(len(CURRENCIES)), days)
    cols = {
        "rate_date": dates(when),
        "currency": pick(CURRENCIES, code),
        "rate_to_base": decimals(fx.table.ravel(), 6),
    }
    return Batch(pa.table({c: cols[c] for c in columns}), when)


def spend_batch(rng: np.random.Generator, fx: Fx, tracked_clicks: np.ndarray, columns: tuple[str, ...]) -> Batch:
    """One row per day per paid campaign; `tracked_clicks` is (days, entries) of touches through each entry."""
    paid = np.array([i for i, e in enumerate(cat.ENTRIES) if e.channel in cat.PAID])
    days = tracked_clicks.shape[0]
    tracked = tracked_clicks[:, paid].ravel()
    entry = np.tile(paid, days)
    day = np.repeat(np.arange(days), len(paid))
    n = len(entry)
    weight = np.array([e.weight for e in cat.ENTRIES])[entry]
    clicks = np.rint(tracked * rng.uniform(1.6, 2.6, n)).astype(np.int64) + rng.poisson(2.0 * weight)
    ctr = np.array([e.click_through for e in cat.ENTRIES])[entry]
    impressions = np.rint(clicks / ctr * np.exp(rng.normal(0, 0.15, n))).astype(np.int64) + rng.poisson(50, n)
    usd = clicks * np.array([e.cost_per_click for e in cat.ENTRIES])[entry] * np.exp(rng.normal(0, 0.2, n))
    when = fx.window.start + day * DAY
    currency = np.array([CURRENCIES.index(e.currency) for e in cat.ENTRIES])[entry]
    cols = {
        "spend_date": dates(when),
        "utm_source": pick([e.utm_source for e in cat.ENTRIES], entry),
        "utm_medium": pick([e.utm_medium for e in cat.ENTRIES], entry),
        "utm_campaign": pick([e.utm_campaign for e in cat.ENTRIES], entry),
        "spend": decimals(fx.to_local(usd, currency, when)),
        "currency": pick(CURRENCIES, currency),
        "impressions": numbers(impressions),
        "clicks": numbers(clicks),
    }
    return Batch(pa.table({c: cols[c] for c in columns}), when)
