"""Who the people are and how far each goes: first-touch channel, timeline, funnel, duplicate contacts.

A chunk holds `n_leads` people who become leads followed by `n_visitors` who never do. Lead people are drawn
conditionally on the lead count, so P(lead | channel) stays base × multiplier while the lead count is exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import catalog as cat
from .text import DAY, categorical

_HOUR_WEIGHTS = np.array([1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 10, 10, 9, 10, 10, 9, 8, 6, 5, 4, 3, 2, 2, 1], float)
_KNOWN = np.array([c in cat.IDENTIFIED_ONLY for c in cat.CHANNELS])


@dataclass(frozen=True)
class Window:
    start: int  # first second (epoch, UTC)
    end: int  # last second

    @property
    def days(self) -> int:
        return (self.end + 1 - self.start) // DAY


@dataclass
class People:
    """Columns about every person of a chunk; lead people come first (index < n_leads)."""

    pid: np.ndarray  # global person number, unique over the run
    n_leads: int
    channel: np.ndarray  # first-touch channel (index into CHANNELS)
    known: np.ndarray  # has a known email from the first touch on (subscribers, event visitors)
    region: np.ndarray
    segment: np.ndarray
    first_name: np.ndarray
    last_name: np.ndarray
    company: np.ndarray
    free_mail: np.ndarray  # personal mailbox instead of a work address
    free_domain: np.ndarray
    tld: np.ndarray
    t_first: np.ndarray  # first touch (epoch seconds)
    t_lead: np.ndarray  # lead creation; -1 for visitors
    # lead people only (length n_leads)
    is_opp: np.ndarray  # will get an opportunity (if its creation falls before the end)
    is_mql: np.ndarray
    is_sql: np.ndarray
    conversion_type: np.ndarray  # touch type index of the lead-creating touch
    dup: np.ndarray  # has a duplicate lead
    dup_kind: np.ndarray  # 0 email written differently, 1 other email + same phone, 2 gmail dots/+tag
    t_dup: np.ndarray

    @property
    def n(self) -> int:
        return len(self.pid)


def lead_probabilities() -> np.ndarray:
    base = cat.BASE_RATES["lead"]
    return np.array([base * cat.MULTIPLIERS["lead"][c] for c in cat.CHANNELS])


def visitor_ratio() -> float:
    """Visitors who never become leads, per lead person, implied by the shares and lead probabilities."""
    share = np.array([cat.FIRST_TOUCH_SHARE[c] for c in cat.CHANNELS])
    p_lead = float(share @ lead_probabilities())
    return (1 - p_lead) / p_lead


def draw_people(
    rng: np.random.Generator, n_leads: int, n_visitors: int, n_dups: int, pid_start: int, window: Window
) -> People:
    share = np.array([cat.FIRST_TOUCH_SHARE[c] for c in cat.CHANNELS])
    p_lead = lead_probabilities()
    channel = np.concatenate(
        [
            categorical(rng, share * p_lead, n_leads),
            categorical(rng, share * (1 - p_lead), n_visitors),
        ]
    ).astype(np.int8)
    n = n_leads + n_visitors
    t_first = _first_touch_times(rng, n, window)
    t_lead = np.full(n, -1, dtype=np.int64)
    t_lead[:n_leads] = _lead_times(rng, t_first[:n_leads], window)
    free_mail = rng.random(n) < 0.3
    free_domain = rng.integers(0, len(cat.FREE_DOMAINS), n)
    gmail = free_mail & (np.asarray(cat.FREE_DOMAINS)[free_domain] == "gmail.com")
    funnel = _draw_funnel(rng, channel[:n_leads])
    return People(
        pid=pid_start + np.arange(n, dtype=np.int64),
        n_leads=n_leads,
        channel=channel,
        known=_KNOWN[channel],
        region=categorical(rng, cat.REGIONS, n).astype(np.int8),
        segment=categorical(rng, cat.SEGMENTS, n).astype(np.int8),
        first_name=rng.integers(0, len(cat.FIRST_NAMES), n),
        last_name=rng.integers(0, len(cat.LAST_NAMES), n),
        company=rng.integers(0, len(cat.COMPANY_WORDS_A) * len(cat.COMPANY_WORDS_B) * len(cat.COMPANY_SUFFIXES), n),
        free_mail=free_mail,
        free_domain=free_domain,
        tld=rng.integers(0, len(cat.WORK_TLDS), n),
        t_first=t_first,
        t_lead=t_lead,
        **funnel,
        **_draw_duplicates(rng, t_lead[:n_leads], gmail[:n_leads], n_dups, window),
    )


def _first_touch_times(rng: np.random.Generator, n: int, window: Window) -> np.ndarray:
    """Traffic grows ~30 % over the window, is lighter at weekends and peaks in office hours."""
    growth = 0.3
    u = rng.random(n)
    x = (np.sqrt(1 + 2 * growth * u * (1 + growth / 2)) - 1) / growth
    day = np.minimum((x * window.days).astype(np.int64), window.days - 1)
    weekday = (window.start // DAY + day + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    move = (weekday >= 5) & (rng.random(n) < 0.55)
    day = np.where(move & (day + 2 < window.days), day + 2, day)
    hour = categorical(rng, _HOUR_WEIGHTS, n)
    return window.start + day * DAY + hour * 3600 + rng.integers(0, 3600, n)


def _lead_times(rng: np.random.Generator, t_first: np.ndarray, window: Window) -> np.ndarray:
    """Days from first touch to lead: lognormal, median 9 days; squeezed into the window when it would end after."""
    journey = (np.exp(rng.normal(np.log(9.0), 1.1, len(t_first))) * DAY).astype(np.int64)
    room = window.end - t_first
    journey = np.where(journey < room, journey, (rng.random(len(t_first)) * room).astype(np.int64))
    return t_first + np.maximum(journey, np.minimum(120, room))


def _draw_funnel(rng: np.random.Generator, channel: np.ndarray) -> dict[str, np.ndarray]:
    m = len(channel)
    p_opp = cat.BASE_RATES["opportunity"] * np.array([cat.MULTIPLIERS["opportunity"][c] for c in cat.CHANNELS])
    is_opp = rng.random(m) < p_opp[channel]
    is_mql = is_opp | (rng.random(m) < 0.36)
    is_sql = is_opp | (is_mql & (rng.random(m) < 0.3))
    conversion = np.zeros(m, dtype=np.int8)
    group = np.where(is_opp, 0, np.where(is_mql, 1, 2))
    for g, name in enumerate(("opportunity", "mql", "other")):
        rows = np.flatnonzero(group == g)
        codes = np.array([cat.TT[t] for t in cat.CONVERSION_TYPES[name]], dtype=np.int8)
        conversion[rows] = codes[categorical(rng, cat.CONVERSION_TYPES[name], len(rows))]
    return {"is_opp": is_opp, "is_mql": is_mql, "is_sql": is_sql, "conversion_type": conversion}


def _draw_duplicates(
    rng: np.random.Generator, t_lead: np.ndarray, gmail: np.ndarray, n_dups: int, window: Window
) -> dict[str, np.ndarray]:
    """The same person entered again under another lead id, some weeks later, through another form."""
    m = len(t_lead)
    dup = np.zeros(m, dtype=bool)
    dup[rng.choice(m, size=min(n_dups, m), replace=False)] = True
    kind = categorical(rng, (0.5, 0.3, 0.2), m).astype(np.int8)
    kind = np.where((kind == 2) & ~gmail, 0, kind).astype(np.int8)
    delay = (np.exp(rng.normal(np.log(25.0), 1.0, m)) * DAY).astype(np.int64)
    room = window.end - t_lead
    delay = np.where(delay < room, delay, (rng.random(m) * room).astype(np.int64))
    t_dup = np.where(dup, t_lead + np.maximum(delay, np.minimum(60, room)), -1)
    return {"dup": dup, "dup_kind": kind, "t_dup": t_dup}
