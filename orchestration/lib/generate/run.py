"""`generate_landing`: the whole synthetic landing zone, people processed in chunks, plus its ground truth."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from orchestration.lib.contract import CONTRACTS

from . import catalog as cat
from .crm import build_activities, build_deals, build_leads, draw_accounts, lead_rows
from .market import draw_fx, fx_batch, spend_batch
from .orders import build_orders
from .people import Window, draw_people, visitor_ratio
from .text import DAY
from .touches import build_touchpoints
from .value import customer_value
from .writer import Batch, LandingWriter

SOURCES = ("touchpoints", "leads", "deals", "deal_stage_history", "activities", "ad_spend", "orders", "fx_rates")
CHUNK_LEADS = 50_000  # lead people per chunk (with ~4× as many visitors): bounds memory at any scale
_FX_STREAM, _SPEND_STREAM = 1_000_001, 1_000_002


def generate_landing(
    out_dir: Path,
    leads: int = 5000,
    days: int = 365,
    seed: int = 42,
    fmt: str = "csv",
    end_date: date = date(2026, 10, 31),
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Writes out_dir/<source>/*.csv|*.parquet for every source and out_dir/ground_truth.json; returns
    {"rows": {source: n}, "files": n, "seconds": s, "ground_truth": path}."""
    if leads < 1 or days < 1:
        raise ValueError("leads and days must be at least 1")
    started = time.perf_counter()
    say = progress or (lambda _msg: None)
    out_dir = Path(out_dir)
    _clear_previous(out_dir)
    window = _window(end_date, days)
    columns = {s: CONTRACTS[s].columns for s in SOURCES}

    lead_people = max(1, round(leads / (1 + cat.DUPLICATE_RATE)))
    duplicates = leads - lead_people
    visitors = round(lead_people * visitor_ratio())
    n_chunks = math.ceil(lead_people / CHUNK_LEADS)
    plan = np.array([_split(lead_people, n_chunks), _split(duplicates, n_chunks), _split(visitors, n_chunks)])
    total_people = lead_people + visitors

    fx = draw_fx(np.random.default_rng([seed, _FX_STREAM]), window)
    writer = LandingWriter(out_dir, fmt, columns)
    stats = _Stats()
    clicks = np.zeros((window.days, len(cat.ENTRIES)), dtype=np.int64)
    next_touch = next_activity = next_order = pid_start = 0
    for k in range(n_chunks):
        rng = np.random.default_rng([seed, k])
        n_leads, n_dups, n_visitors = (int(x) for x in plan[:, k])
        people = draw_people(rng, n_leads, n_visitors, n_dups, pid_start, window)
        journeys = build_touchpoints(rng, people, window, next_touch, columns["touchpoints"])
        accounts = draw_accounts(rng, people, total_people)
        deals, deal_batch, history = build_deals(rng, people, accounts, window, fx, columns)
        rows = lead_rows(people, accounts)
        activities, last_activity = build_activities(rng, people, rows, window, next_activity, columns["activities"])
        lead_batch = build_leads(rng, people, rows, journeys, deals, last_activity, window, columns["leads"])
        orders = build_orders(rng, people, deals, window, fx, next_order, columns["orders"])

        writer.write("touchpoints", Batch(journeys.table, journeys.occurred))
        for source, batch in (
            ("leads", lead_batch),
            ("deals", deal_batch),
            ("deal_stage_history", history),
            ("activities", activities),
            ("orders", orders.batch),
        ):
            writer.write(source, batch)
        clicks += journeys.paid_clicks
        stats.add(people, deals, orders.customers, journeys.unlinked_cookies)
        next_touch += journeys.table.num_rows
        next_activity += activities.table.num_rows
        next_order += orders.batch.table.num_rows
        pid_start += people.n
        say(f"chunk {k + 1}/{n_chunks}: {pid_start:,} people, {next_touch:,} touchpoints")

    writer.write("ad_spend", spend_batch(np.random.default_rng([seed, _SPEND_STREAM]), fx, clicks, columns["ad_spend"]))
    writer.write("fx_rates", fx_batch(fx, columns["fx_rates"]))
    files = writer.close()

    truth_path = out_dir / "ground_truth.json"
    truth = _ground_truth(seed, leads, days, fmt, end_date, window, lead_people, duplicates, stats, writer.rows)
    truth_path.write_text(json.dumps(truth, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    seconds = round(time.perf_counter() - started, 2)
    say(f"wrote {files} files in {seconds} s")
    return {"rows": dict(writer.rows), "files": files, "seconds": seconds, "ground_truth": truth_path}


def _window(end_date: date, days: int) -> Window:
    end = datetime.combine(end_date + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    end_s = int(end.timestamp())
    return Window(start=end_s - days * DAY, end=end_s - 1)


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _clear_previous(out_dir: Path) -> None:
    """Remove files an earlier run wrote here, so appending starts from empty files. A folder with files but no
    ground_truth.json may hold real exports: never touch it."""
    if out_dir.is_dir() and any(out_dir.rglob("*.*")) and not (out_dir / "ground_truth.json").exists():
        raise ValueError(f"{out_dir} is not empty and was not written by closedloop generate; choose another --out")
    for source in SOURCES:
        for path in (out_dir / source).glob(f"{source}_????-??.*"):
            if path.suffix in (".csv", ".parquet"):
                path.unlink()


class _Stats:
    """Realised counts per first-touch channel, summed over chunks."""

    def __init__(self):
        shape = len(cat.CHANNELS)
        self.by_channel = {
            k: np.zeros(shape, dtype=np.int64)
            for k in ("people", "lead_people", "opportunities", "won", "lost", "open")
        }
        self.known_visitors = 0
        self.customers = 0
        self.unlinked_cookies = 0

    def add(self, people, deals, customers: int, unlinked_cookies: int) -> None:
        m = people.n_leads
        self._count("people", people.channel)
        self._count("lead_people", people.channel[:m])
        ch = people.channel[deals.person]
        self._count("opportunities", ch)
        for name, code in (("open", 0), ("won", 1), ("lost", 2)):
            self._count(name, ch[deals.outcome == code])
        self.known_visitors += int(people.known[m:].sum())
        self.customers += customers
        self.unlinked_cookies += unlinked_cookies

    def _count(self, name: str, channel: np.ndarray) -> None:
        self.by_channel[name] += np.bincount(channel, minlength=len(cat.CHANNELS))


def _ground_truth(seed, leads, days, fmt, end_date, window, lead_people, duplicates, stats, rows) -> dict:
    start = datetime.fromtimestamp(window.start, UTC).date()
    totals = {k: int(v.sum()) for k, v in stats.by_channel.items()}
    visitors = totals["people"] - totals["lead_people"]
    return {
        "generator": "closedloop generate",
        "seed": seed,
        "parameters": {
            "leads": leads,
            "days": days,
            "start_date": start.isoformat(),
            "end_date": end_date.isoformat(),
            "format": fmt,
            "site": cat.SITE,
        },
        "channel_effects": {
            "definition": (
                "channel = the channel of a person's first touch (the source_channel of their first lead). "
                "P(visitor becomes a lead | channel) = base_rates.lead * multipliers.lead[channel]; "
                "P(lead person gets an opportunity | channel) = base_rates.opportunity * "
                "multipliers.opportunity[channel]; P(closed opportunity is won | channel) = base_rates.won * "
                "multipliers.won[channel]."
            ),
            "first_touch_share": cat.FIRST_TOUCH_SHARE,
            "base_rates": cat.BASE_RATES,
            "multipliers": cat.MULTIPLIERS,
            "realised_by_channel": {
                c: {k: int(v[i]) for k, v in stats.by_channel.items()} for i, c in enumerate(cat.CHANNELS)
            },
        },
        "campaigns": [
            {
                "channel": e.channel,
                "utm_source": e.utm_source,
                "utm_medium": e.utm_medium,
                "utm_campaign": e.utm_campaign,
                "cost_per_click": e.cost_per_click,
                "spend_currency": e.currency,
            }
            for e in cat.ENTRIES
            if e.utm_campaign
        ],
        "purchase_process": {
            **cat.PURCHASE_PROCESS,
            "meaning": (
                "purchase rate lambda ~ Gamma(shape r, rate alpha) per week; after each repeat purchase "
                "the customer drops out with probability p ~ Beta(a, b)"
            ),
            "time_zero": "closed_at of the customer's won deal (the won deal is the first purchase)",
            "orders_are": "repeat purchases only, censored at end_date",
        },
        "order_value": {
            **cat.SPEND_PROCESS,
            "meaning": (
                "order value z ~ Gamma(shape p, rate nu), nu ~ Gamma(shape q, rate gamma) per customer, "
                "in USD before conversion to the deal currency; mean order value p*gamma/(q-1)"
            ),
            "mean_order_value": cat.SPEND_PROCESS["p"] * cat.SPEND_PROCESS["gamma"] / (cat.SPEND_PROCESS["q"] - 1),
        },
        "duplicates": {
            "lead_people": lead_people,
            "duplicate_leads": duplicates,
            "duplicate_contact_rate": round(duplicates / lead_people, 6),
            "definition": "duplicate lead rows / people with at least one lead",
            "kinds": "email case/whitespace (50 %), other email + same phone in another format (30 %), "
            "gmail dots or +tag (20 %, gmail users only; others get the first kind)",
        },
        "people": {
            "total": totals["people"],
            "lead_people": totals["lead_people"],
            "visitors_without_lead": visitors,
            "anonymous_visitors": visitors - stats.known_visitors,
            "known_without_lead": stats.known_visitors,
            "unlinked_cookies": stats.unlinked_cookies,
            "expected_after_identity_resolution": totals["people"] + stats.unlinked_cookies,
            "note": (
                "unlinked_cookies: known people (newsletter subscribers, event visitors) whose website visits "
                "never carry their email, so identity resolution sees the cookie as another person"
            ),
        },
        "funnel": {
            "lead_people": totals["lead_people"],
            "opportunities": totals["opportunities"],
            "won": totals["won"],
            "lost": totals["lost"],
            "open": totals["open"],
            "customers": stats.customers,
        },
        "currencies": {"base": "USD", "deal_currency": "USD outside EMEA; EMEA 55 % EUR, 35 % GBP, 10 % USD"},
        "customer_value": _customer_value(stats),
        "rows": dict(rows),
    }


def _customer_value(stats) -> dict:
    value = customer_value()
    won = stats.by_channel["won"]
    return {
        "definition": (
            "expected value per customer over their first `years` years after the won deal (USD): revenue, and "
            "gross margin discounted by (1 + annual_discount_rate)^t in year t (as LTV (d) before CAC, i.e. "
            "mart_ltv_segments.ltv_3y). The won deal's true margin is its product's; the warehouse, which sees "
            "no margin on deals, applies the default gross margin to it. No channel effect on value is planted, "
            "so every channel has the same expectation; a channel's realised mean varies by about "
            "deal_gross_margin_cv / sqrt(customers)."
        ),
        **value,
        "by_acquisition_channel": {
            c: {
                "expected_discounted_gross_margin": value["expected_discounted_gross_margin"],
                "expected_revenue": value["expected_revenue"],
                "won_deals": int(won[i]),
            }
            for i, c in enumerate(cat.CHANNELS)
        },
        "paid_channels": list(cat.PAID),
    }
