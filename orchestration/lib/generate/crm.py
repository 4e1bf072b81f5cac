"""The CRM side: deals and their stage history, sales activities and the lead records themselves.

Lead rows are the lead people's own leads followed by their duplicates. Everything is censored at the window end:
a deal whose close falls later is still open, an activity planned later has not happened yet.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from orchestration.lib import contract

from . import catalog as cat
from . import identity
from .market import CURRENCIES, Fx
from .people import People, Window
from .text import DAY, NULL, categorical, decimals, ids, messy, pick, timestamps, where
from .touches import Journeys
from .writer import Batch

_REGIONS = list(cat.REGIONS)
_OWNERS = [o for r in _REGIONS for o in cat.OWNERS[r]]
_OWNER_START = np.cumsum([0] + [len(cat.OWNERS[r]) for r in _REGIONS])[:-1]
_OWNER_COUNT = np.array([len(cat.OWNERS[r]) for r in _REGIONS])
_PRODUCTS = list(cat.PRODUCTS)
_STAGES = contract.DEAL_STAGES
_LIFECYCLE = {s: i for i, s in enumerate(contract.LIFECYCLE_STAGES)}
_HIGH = np.array([t in cat.HIGH_INTENT for t in cat.TOUCH_TYPES])
_MEDIUM = np.array([t in cat.MEDIUM_INTENT for t in cat.TOUCH_TYPES])
LEAD_ID_WIDTH = 9


@dataclass
class Accounts:
    """CRM attributes of each lead person (index < n_leads)."""

    owner: np.ndarray
    product: np.ndarray
    lead_number: np.ndarray
    dup_number: np.ndarray


@dataclass
class Deals:
    person: np.ndarray  # lead-person index of each deal
    created: np.ndarray
    closed: np.ndarray  # -1 while open
    outcome: np.ndarray  # 0 open, 1 won, 2 lost
    currency: np.ndarray
    product: np.ndarray
    updated: np.ndarray
    lead_number: np.ndarray


def draw_owners(rng: np.random.Generator, region: np.ndarray) -> np.ndarray:
    return _OWNER_START[region] + rng.integers(0, 1 << 30, len(region)) % _OWNER_COUNT[region]


def draw_accounts(rng: np.random.Generator, people: People, total_people: int) -> Accounts:
    m = people.n_leads
    pid = people.pid[:m]
    return Accounts(
        owner=draw_owners(rng, people.region[:m]),
        product=categorical(rng, [w for w, _, _ in cat.PRODUCTS.values()], m),
        lead_number=pid,
        dup_number=total_people + pid,
    )


def build_deals(
    rng: np.random.Generator,
    people: People,
    accounts: Accounts,
    window: Window,
    fx: Fx,
    columns: dict[str, tuple[str, ...]],
) -> tuple[Deals, Batch, Batch]:
    m = people.n_leads
    ch = people.channel[:m]
    delay = np.maximum(np.exp(rng.normal(np.log(10.0), 0.8, m)) * DAY, 3600).astype(np.int64)
    created = people.t_lead[:m] + delay
    person = np.flatnonzero(people.is_opp & (created <= window.end))
    created = created[person]
    n = len(person)
    p_won = cat.BASE_RATES["won"] * np.array([cat.MULTIPLIERS["won"][c] for c in cat.CHANNELS])
    won = rng.random(n) < p_won[ch[person]]
    exit_stage = np.where(won, 3, categorical(rng, cat.LOST_AT, n))
    medians = np.array(cat.STAGE_MEDIAN_DAYS)
    duration = np.maximum(np.exp(rng.normal(np.log(medians), 0.7, (n, 4))) * DAY, 3600).astype(np.int64)
    duration[np.arange(4) > exit_stage[:, None]] = 0
    entered = created[:, None] + np.hstack([np.zeros((n, 1), np.int64), np.cumsum(duration, axis=1)[:, :3]])
    close = created + duration.sum(axis=1)
    is_closed = close <= window.end
    outcome = np.where(is_closed, np.where(won, 1, 2), 0)
    reached = (np.arange(4) <= exit_stage[:, None]) & (entered <= window.end)
    current = reached.sum(axis=1) - 1
    stage = np.where(outcome == 1, 4, np.where(outcome == 2, 5, current))
    closed = np.where(is_closed, close, -1)
    updated = np.where(is_closed, close, entered[np.arange(n), current])

    region = people.region[person]
    emea = region == _REGIONS.index("emea")
    currency = np.where(emea, categorical(rng, (0.1, 0.55, 0.35), n), 0)
    product = np.where(rng.random(n) < 0.8, accounts.product[person], categorical(rng, [1] * len(_PRODUCTS), n))
    usd = np.array([v[1] for v in cat.PRODUCTS.values()])[product] * np.exp(rng.normal(0, 0.6, n))
    amount = np.maximum(np.round(fx.to_local(usd, currency, created) / 100) * 100, 500)
    owner = np.where(rng.random(n) < 0.9, accounts.owner[person], draw_owners(rng, region))
    on_dup = people.dup[person] & (people.t_dup[person] < created) & (rng.random(n) < 0.2)
    lead_number = np.where(on_dup, accounts.dup_number[person], accounts.lead_number[person])
    lost = outcome == 2

    cols = {
        "deal_id": ids("D", people.pid[person], LEAD_ID_WIDTH),
        "lead_id": ids("L", lead_number, LEAD_ID_WIDTH),
        "created_at": timestamps(created),
        "updated_at": timestamps(updated),
        "stage": pick(_STAGES, stage),
        "amount": decimals(amount),
        "currency": pick(CURRENCIES, currency),
        "closed_at": where(is_closed, timestamps(np.maximum(closed, 0)), NULL),
        "outcome": pick(contract.DEAL_OUTCOMES, outcome),
        "loss_reason": where(
            lost, messy(rng, pick(list(cat.LOSS_REASONS), categorical(rng, cat.LOSS_REASONS, n)), 0.02), NULL
        ),
        "product": where(rng.random(n) < 0.95, pick(_PRODUCTS, product), NULL),
        "owner": pick(_OWNERS, owner),
    }
    deals = Batch(pa.table({c: cols[c] for c in columns["deals"]}), created)
    history = _stage_history(people.pid[person], entered, reached, closed, outcome, columns["deal_stage_history"])
    return Deals(person, created, closed, outcome, currency, product, updated, lead_number), deals, history


def _stage_history(pid, entered, reached, closed, outcome, columns) -> Batch:
    n = len(pid)
    times = np.hstack([entered, closed[:, None]])
    final = np.where(outcome == 1, 4, 5)
    stage = np.hstack([np.tile(np.arange(4), (n, 1)), final[:, None]])
    keep = np.hstack([reached, (outcome > 0)[:, None]])
    deal = np.repeat(pid, 5).reshape(n, 5)
    cols = {
        "deal_id": ids("D", deal[keep], LEAD_ID_WIDTH),
        "stage": pick(_STAGES, stage[keep]),
        "entered_at": timestamps(times[keep]),
    }
    return Batch(pa.table({c: cols[c] for c in columns}), times[keep])


@dataclass
class LeadRows:
    """Primary leads (one per lead person) followed by duplicate leads."""

    person: np.ndarray
    is_dup: np.ndarray
    created: np.ndarray
    owner: np.ndarray
    number: np.ndarray
    tier: np.ndarray  # 0 high, 1 medium, 2 low intent


def lead_rows(people: People, accounts: Accounts) -> LeadRows:
    m = people.n_leads
    dups = np.flatnonzero(people.dup)
    person = np.concatenate([np.arange(m), dups])
    is_dup = np.arange(len(person)) >= m
    conv = people.conversion_type[person]
    tier = np.where(is_dup, 2, np.where(_HIGH[conv], 0, np.where(_MEDIUM[conv], 1, 2)))
    return LeadRows(
        person=person,
        is_dup=is_dup,
        created=np.where(is_dup, people.t_dup[person], people.t_lead[person]),
        owner=accounts.owner[person],
        number=np.where(is_dup, accounts.dup_number[person], accounts.lead_number[person]),
        tier=tier,
    )


def build_activities(
    rng: np.random.Generator, people: People, rows: LeadRows, window: Window, id_start: int, columns: tuple[str, ...]
) -> tuple[Batch, np.ndarray]:
    """Follow-up attempts per lead: the first after an intent-dependent delay, then every day or so."""
    k = len(rows.person)
    opp = people.is_opp[rows.person] & ~rows.is_dup
    mql = people.is_mql[rows.person] & ~rows.is_dup
    attempts = np.where(opp, rng.integers(2, 7, k), 1 + categorical(rng, (0.25, 0.2, 0.2, 0.15, 0.1, 0.1), k))
    attempts[~opp & (rng.random(k) < 0.04)] = 0  # never followed up
    bands = np.array([[120, 3600], [3600, DAY], [DAY, 3 * DAY], [3 * DAY, 14 * DAY]])
    mix = np.array([[0.45, 0.35, 0.15, 0.05], [0.15, 0.4, 0.3, 0.15], [0.05, 0.3, 0.4, 0.25]])
    band = (rng.random(k)[:, None] > np.cumsum(mix[rows.tier], axis=1)).sum(axis=1)
    first = bands[band, 0] + (rng.random(k) * (bands[band, 1] - bands[band, 0])).astype(np.int64)

    row = np.repeat(np.arange(k), attempts)
    n = len(row)
    gap = (np.exp(rng.normal(np.log(20 * 3600), 0.9, n))).astype(np.int64)
    start = np.cumsum(attempts) - attempts
    pos = np.arange(n) - np.repeat(start, attempts)
    gap[pos == 0] = first[row[pos == 0]]
    # time since lead creation = running sum of the gaps within each lead
    steps = np.cumsum(gap)
    begun = start[attempts > 0]
    t = rows.created[row] + steps - np.repeat(steps[begun] - gap[begun], attempts[attempts > 0])
    t = np.where(rng.random(n) < 0.85, _office_hours(rng, t), t)
    order = np.lexsort((t, row))
    row, t = row[order], t[order]
    last = np.r_[row[1:] != row[:-1], True] if n else np.zeros(0, bool)
    p_connect = np.where(opp, 1.0, np.where(mql, 0.5, 0.3))[row]
    connected = last & (rng.random(n) < p_connect)
    kinds = np.where(connected, categorical(rng, (0.5, 0.1, 0.3, 0.1), n), categorical(rng, (0.6, 0.3, 0.0, 0.1), n))
    outcome = np.select(
        [connected & (kinds == 0), connected & (kinds == 2), connected, kinds == 0],
        [0, 4, 3, np.where(rng.random(n) < 0.55, 1, 2)],
        1,
    )
    keep = t <= window.end
    row, t, kinds, outcome = row[keep], t[keep], kinds[keep], outcome[keep]
    m = len(row)
    cols = {
        "activity_id": ids("A", id_start + np.arange(m), 10),
        "lead_id": ids("L", rows.number[row], LEAD_ID_WIDTH),
        "occurred_at": timestamps(t, style=np.where(rng.random(m) < 0.2, 1, 0)),
        "activity_type": messy(rng, pick(contract.ACTIVITY_TYPES, kinds), 0.01),
        "outcome": where(rng.random(m) < 0.95, pick(contract.ACTIVITY_OUTCOMES, outcome), NULL),
        "owner": pick(_OWNERS, rows.owner[row]),
    }
    last_activity = np.full(k, -1, dtype=np.int64)
    np.maximum.at(last_activity, row, t)
    return Batch(pa.table({c: cols[c] for c in columns}), t), last_activity


def _office_hours(rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """Move a time outside Mon-Fri 09:00-18:00 UTC to shortly after the next opening."""
    day, clock = t // DAY, t % DAY
    weekday = (day + 3) % 7
    open_now = (weekday < 5) & (clock >= 9 * 3600) & (clock < 18 * 3600)
    today = (weekday < 5) & (clock < 9 * 3600)
    ahead = np.where(weekday == 4, 3, np.where(weekday == 5, 2, 1))  # Fri/Sat/else to the next weekday
    next_day = np.where(today, day, day + ahead)
    return np.where(open_now, t, next_day * DAY + 9 * 3600 + rng.integers(0, 5400, len(t)))


def build_leads(
    rng: np.random.Generator,
    people: People,
    rows: LeadRows,
    journeys: Journeys,
    deals: Deals,
    last_activity: np.ndarray,
    window: Window,
    columns: tuple[str, ...],
) -> Batch:
    k = len(rows.person)
    p, dup = rows.person, rows.is_dup
    kind = people.dup_kind[p]
    # phone-only leads: the lead-creating form carried a phone, the CRM record lost the email
    phone_only = ~dup & journeys.conversion_phone[p] & (rng.random(k) < 0.08)
    has_phone = phone_only | (people.dup[p] & (kind == 1)) | (rng.random(k) < np.where(dup, 0.3, 0.55))
    style = rng.integers(0, 6, k)
    style = np.where(dup & (kind == 1), (style + 1 + rng.integers(0, 5, k)) % 6, style)
    email_style = np.where(dup & (kind == 2), 1 + people.pid[p] % 2, identity.CANONICAL)
    address = identity.email(people, p, email_style, dup & (kind == 1))
    address = where(dup & (kind == 0), messy(rng, address, 1.0), messy(rng, address, 0.06))
    entry = np.where(dup, journeys.dup_entry[p], journeys.first_entry[p])
    entries = cat.ENTRIES
    channel = pick(cat.CHANNELS, np.array([cat.CH[e.channel] for e in entries])[entry])

    deal_updated = np.full(people.n_leads, -1, dtype=np.int64)
    deal_updated[deals.person] = deals.updated
    updated = np.minimum(
        np.maximum.reduce([rows.created, last_activity, np.where(dup, -1, deal_updated[p])]), window.end
    )
    consent = rng.random(k) < 0.7
    need = rng.integers(0, len(cat.NEEDS), k)
    stage = _lifecycle(rng, people, rows, deals, window)
    cols = {
        "lead_id": ids("L", rows.number, LEAD_ID_WIDTH),
        "created_at": timestamps(rows.created, style=np.where(rng.random(k) < 0.2, 1, 0)),
        "updated_at": timestamps(updated),
        "email": where(phone_only, NULL, address),
        "phone": where(has_phone, identity.phone(people, p, style), NULL),
        "first_name": messy(rng, identity.first_name(people, p), 0.04),
        "last_name": messy(rng, identity.last_name(people, p), 0.04),
        "company": where(rng.random(k) < 0.95, identity.company(people, p), NULL),
        "source_channel": messy(rng, channel, 0.03),
        "source_campaign": pick([e.campaign_label for e in entries], entry),
        "source_detail": pick([e.detail_label for e in entries], entry),
        "first_contact_at": timestamps(np.where(dup, rows.created, people.t_first[p])),
        "product_interest": pick(_PRODUCTS, categorical(rng, [w for w, _, _ in cat.PRODUCTS.values()], k)),
        "segment": pick(list(cat.SEGMENTS), people.segment[p]),
        "region": pick(_REGIONS, people.region[p]),
        "owner": pick(_OWNERS, rows.owner),
        "lifecycle_stage": messy(rng, pick(contract.LIFECYCLE_STAGES, stage), 0.02),
        "declared_need": where(rng.random(k) < 0.65, pick(cat.NEEDS, need), NULL),
        "consent_marketing": pick(("false", "true"), consent.astype(np.int8)),
        "consent_at": where(consent, timestamps(rows.created), NULL),
    }
    return Batch(pa.table({c: cols[c] for c in columns}), rows.created)


def _lifecycle(rng: np.random.Generator, people: People, rows: LeadRows, deals: Deals, window: Window) -> np.ndarray:
    """Where each lead stands at the window end, consistent with its deal and how far it got."""
    k = len(rows.person)
    p, dup = rows.person, rows.is_dup
    outcome = np.full(people.n_leads, -1)
    outcome[deals.person] = deals.outcome
    o = np.where(dup, -1, outcome[p])
    age = (window.end - rows.created) / DAY
    s = _LIFECYCLE

    def draw(weights: dict[str, float]) -> np.ndarray:
        codes = np.array([s[x] for x in weights])
        return codes[categorical(rng, weights, k)]

    return np.select(
        [
            o == 1,
            o == 2,
            o == 0,
            ~dup & people.is_opp[p],  # the opportunity is not created yet
            ~dup & people.is_sql[p],
            ~dup & people.is_mql[p],
            age < 7,
        ],
        [
            s["customer"],
            draw({"opportunity": 0.5, "recycled": 0.3, "nurture": 0.2}),
            s["opportunity"],
            s["sql"],
            np.where(age < 30, s["sql"], draw({"recycled": 0.5, "disqualified": 0.5})),
            np.where(age < 30, s["mql"], draw({"nurture": 0.35, "recycled": 0.25, "disqualified": 0.2, "mql": 0.2})),
            s["new"],
        ],
        np.where(
            age < 30,
            draw({"working": 0.6, "new": 0.4}),
            np.where(
                dup,
                draw({"working": 0.3, "nurture": 0.4, "recycled": 0.15, "disqualified": 0.15}),
                draw({"nurture": 0.5, "disqualified": 0.3, "working": 0.2}),
            ),
        ),
    )
