"""Touchpoints: every person's journey as rows, from the first anonymous visit to the emails after the sale.

Each person gets slots (first touch, anonymous visits before the lead, the lead-creating form, touches after it,
the form of a duplicate lead); each slot gets a time, a channel, a traffic entry (campaign or referrer) and a
touch type, then the columns are written as the tracking tools would export them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from . import catalog as cat
from . import identity
from .people import People, Window
from .text import DAY, NULL, categorical, hex_ids, ids, join, messy, optional, pick, sparse, timestamps, where

FIRST, PRE, CONV, POST, DUP, VISIT = range(6)

_ENTRY_CHANNEL = np.array([cat.CH[e.channel] for e in cat.ENTRIES])
_ENTRY_TYPE = np.array([cat.TT[e.touch_type] if e.touch_type else -1 for e in cat.ENTRIES])
_TAGGED = np.array([c in cat.TAGGED for c in cat.CHANNELS])
_PAID = np.array([c in cat.PAID for c in cat.CHANNELS])
# touches recorded from a send or attendee list: an email, no cookie, no page
_LIST_BASED = np.array([t in ("email_open", "event_visit", "webinar_attended") for t in cat.TOUCH_TYPES])
_CARRIES_EMAIL = np.array(
    [
        t
        in (
            "email_open",
            "email_click",
            "event_visit",
            "webinar_attended",
            "webinar_registration",
            "content_download",
            "form_submit",
            "demo_request",
            "contact_request",
        )
        for t in cat.TOUCH_TYPES
    ]
)
# which type table each channel uses (-1: never an anonymous touch)
_ANON_GROUP = np.array(
    [list(cat.ANON_TYPES).index(cat.ANON_TABLE[c]) if c in cat.ANON_TABLE else -1 for c in cat.CHANNELS]
)
_KNOWN_GROUP = np.array([list(cat.KNOWN_TYPES).index(cat.KNOWN_TABLE[c]) for c in cat.CHANNELS])
_OFFSETS = np.array([-300, 60, 330, -180])  # a local UTC offset per region (minutes), for offset timestamps
_PATH_TYPES = list(cat.PATHS)
_ALL_PATHS = [p for t in _PATH_TYPES for p in cat.PATHS[t]]
_PATH_START = np.full(len(cat.TOUCH_TYPES), 0)
_PATH_COUNT = np.full(len(cat.TOUCH_TYPES), 1)
for _t in _PATH_TYPES:
    _PATH_START[cat.TT[_t]] = _ALL_PATHS.index(cat.PATHS[_t][0])
    _PATH_COUNT[cat.TT[_t]] = len(cat.PATHS[_t])


@dataclass
class Journeys:
    table: pa.Table  # touchpoint columns in contract order
    occurred: np.ndarray  # epoch seconds per row
    first_entry: np.ndarray  # traffic entry of each person's first touch
    dup_entry: np.ndarray  # traffic entry of each lead person's duplicate form (-1: none)
    conversion_phone: np.ndarray  # the lead-creating touch carried a phone number
    unlinked_cookies: int  # known people whose web visits never carry their email: a second "person"
    paid_clicks: np.ndarray  # tagged paid touches per (day, entry), for ad_spend


def build_touchpoints(
    rng: np.random.Generator, people: People, window: Window, id_start: int, columns: tuple[str, ...]
) -> Journeys:
    owner, kind = _layout(rng, people)
    t = _times(rng, people, owner, kind, window)
    keep = t <= window.end
    owner, kind, t = owner[keep], kind[keep], t[keep]
    order = np.lexsort((kind, t))  # time order; ties keep the journey order
    owner, kind, t = owner[order], kind[order], t[order]

    channel = _channels(rng, people, owner, kind)
    entry = _entries(rng, channel)
    is_first = kind == FIRST
    first_entry = np.zeros(people.n, dtype=np.int64)
    first_entry[owner[is_first]] = entry[is_first]
    # later touches through the same channel come back through the same campaign (retargeting, same list)
    reuse = (channel == people.channel[owner]) & (channel != cat.CH["events"])
    entry = np.where(reuse, first_entry[owner], entry)
    touch_type = _types(rng, people, owner, kind, channel, entry)
    dup_entry = np.full(people.n_leads, -1, dtype=np.int64)
    dup_entry[owner[kind == DUP]] = entry[kind == DUP]

    cols, has_email, has_phone = _identity_columns(rng, people, owner, kind, touch_type)
    conversion_phone = np.zeros(people.n_leads, dtype=bool)
    conversion_phone[owner[kind == CONV]] = has_phone[kind == CONV]
    cols.update(_web_columns(rng, channel, entry, touch_type))
    n = len(t)
    style = categorical(rng, (0.7, 0.2, 0.1), n)
    cols["touchpoint_id"] = ids("T", id_start + np.arange(n), 10)
    cols["occurred_at"] = timestamps(t, _OFFSETS[people.region[owner]], style)
    cols["touchpoint_type"] = messy(rng, pick(cat.TOUCH_TYPES, touch_type), 0.005)
    table = pa.table({c: cols.get(c, pa.nulls(n, pa.string())) for c in columns})

    day = (t - window.start) // DAY
    paid = _PAID[channel]
    paid_clicks = np.bincount(
        day[paid] * len(cat.ENTRIES) + entry[paid], minlength=window.days * len(cat.ENTRIES)
    ).reshape(window.days, len(cat.ENTRIES))
    web = ~_LIST_BASED[touch_type]
    linked = np.bincount(owner, web & has_email, minlength=people.n) > 0
    has_web = np.bincount(owner, web, minlength=people.n) > 0
    unlinked = int((has_web & ~linked & (people.known | (np.arange(people.n) < people.n_leads))).sum())
    return Journeys(table, t, first_entry, dup_entry, conversion_phone, unlinked, paid_clicks)


def _layout(rng: np.random.Generator, people: People) -> tuple[np.ndarray, np.ndarray]:
    """Slots per person: leads get first, pre-lead visits, the converting form, later touches, a duplicate form;
    visitors get a first touch and a few more visits."""
    m, n = people.n_leads, people.n
    pre = rng.poisson(3.0, m)
    post_mean = np.where(people.is_opp, 20.0, np.where(people.is_mql, 11.0, 5.0))
    post = rng.poisson(post_mean)
    dup = people.dup.astype(np.int64)
    visits = rng.poisson(np.where(people.known[m:], 6.0, 1.1))
    counts = np.concatenate([2 + pre + post + dup, 1 + visits])
    owner = np.repeat(np.arange(n), counts)
    pos = np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts)
    kind = np.full(len(owner), VISIT, dtype=np.int8)
    lead_row = owner < m
    o = np.where(lead_row, owner, 0)
    n_pre, last = pre[o], counts[owner] - 1
    kind[lead_row & (pos <= n_pre)] = PRE
    kind[lead_row & (pos == n_pre + 1)] = CONV
    kind[lead_row & (pos > n_pre + 1)] = POST
    kind[lead_row & (pos == last) & people.dup[o]] = DUP
    kind[pos == 0] = FIRST
    return owner, kind


def _times(rng: np.random.Generator, people: People, owner: np.ndarray, kind: np.ndarray, window: Window):
    n = len(owner)
    t_first, t_lead = people.t_first[owner], people.t_lead[owner]
    u = rng.random(n)
    m = people.n_leads
    o = np.where(owner < m, owner, 0)
    post_days = np.where(people.is_opp[o], 150, np.where(people.is_mql[o], 120, 90))
    visit_days = np.where(people.known[owner], 180 * u, rng.exponential(6.0, n))
    t = np.select(
        [kind == FIRST, kind == PRE, kind == CONV, kind == POST, kind == DUP],
        [
            t_first,
            t_first + (u * (t_lead - t_first)).astype(np.int64),
            t_lead,
            t_lead + (u * post_days * DAY).astype(np.int64),
            people.t_dup[o],
        ],
        t_first + (visit_days * DAY).astype(np.int64),
    )
    # move free-floating touches into office hours when that keeps them inside their interval
    hour = np.array([9, 10, 11, 13, 14, 15, 16, 20])[rng.integers(0, 8, n)]
    shaped = t // DAY * DAY + hour * 3600 + rng.integers(0, 3600, n)
    lo = np.where(kind == POST, t_lead, t_first)
    hi = np.where(kind == PRE, t_lead, window.end)
    movable = np.isin(kind, (PRE, POST, VISIT)) & (shaped >= lo) & (shaped <= hi) & (rng.random(n) < 0.6)
    return np.where(movable, shaped, t)


def _draw_mix(rng: np.random.Generator, mix: dict[str, float], n: int) -> np.ndarray:
    codes = np.array([cat.CH[c] for c in mix])
    return codes[categorical(rng, mix, n)]


def _channels(rng: np.random.Generator, people: People, owner: np.ndarray, kind: np.ndarray) -> np.ndarray:
    n = len(owner)
    own = people.channel[owner].astype(np.int64)
    known = people.known[owner]
    same = rng.random(n)
    pre = np.where(same < np.where(known, 0.5, 0.4), own, _draw_mix(rng, cat.PRE_LEAD_MIX, n))
    own_ok = own != cat.CH["events"]
    conv = np.where((same < 0.35) & own_ok, own, _draw_mix(rng, cat.CONVERSION_MIX, n))
    visit = np.where(
        known, _draw_mix(rng, cat.SUBSCRIBER_MIX, n), np.where(same < 0.3, own, _draw_mix(rng, cat.VISITOR_MIX, n))
    )
    return np.select(
        [kind == FIRST, kind == PRE, kind == CONV, kind == POST, kind == DUP],
        [own, pre, conv, _draw_mix(rng, cat.POST_LEAD_MIX, n), _draw_mix(rng, cat.DUPLICATE_MIX, n)],
        visit,
    )


def _entries(rng: np.random.Generator, channel: np.ndarray) -> np.ndarray:
    entry = np.zeros(len(channel), dtype=np.int64)
    for c in range(len(cat.CHANNELS)):
        rows = np.flatnonzero(channel == c)
        choices = np.flatnonzero(_ENTRY_CHANNEL == c)  # noqa: SIM300 - an array, not a constant: elementwise ==
        weights = [cat.ENTRIES[i].weight for i in choices]
        entry[rows] = choices[categorical(rng, weights, len(rows))]
    return entry


def _draw_types(rng: np.random.Generator, table: dict[str, float], n: int) -> np.ndarray:
    codes = np.array([cat.TT[t] for t in table])
    return codes[categorical(rng, table, n)]


def _types(rng, people: People, owner, kind, channel, entry) -> np.ndarray:
    n = len(owner)
    known_person = people.known[owner]
    conversion = np.isin(kind, (CONV, DUP))
    anonymous = ~conversion & ~known_person & np.isin(kind, (FIRST, PRE, VISIT))
    group = _ANON_GROUP[channel]
    out = np.full(n, cat.TT["page_view"], dtype=np.int64)
    for g, table in enumerate(cat.ANON_TYPES.values()):
        rows = np.flatnonzero(anonymous & (group == g))
        out[rows] = _draw_types(rng, table, len(rows))
    group = _KNOWN_GROUP[channel]
    for g, table in enumerate(cat.KNOWN_TYPES.values()):
        rows = np.flatnonzero(~anonymous & ~conversion & (group == g))
        out[rows] = _draw_types(rng, table, len(rows))
    o = np.where(owner < people.n_leads, owner, 0)
    out = np.where(kind == CONV, people.conversion_type[o], out)
    out = np.where(kind == DUP, _draw_types(rng, cat.CONVERSION_TYPES["other"], n), out)
    # event and webinar attendance come from the event's own list
    return np.where((channel == cat.CH["events"]) & ~conversion, _ENTRY_TYPE[entry], out)


def _identity_columns(rng, people: People, owner, kind, touch_type):
    n = len(owner)
    persons = hex_ids(rng, people.n)
    known_phase = ~((kind == PRE) | (kind == FIRST) | (kind == VISIT)) | people.known[owner]
    chat = touch_type == cat.TT["chat"]
    has_email = known_phase & (_CARRIES_EMAIL[touch_type] | (chat & (rng.random(n) < 0.5)))
    o = np.where(owner < people.n_leads, owner, 0)
    is_dup = kind == DUP
    dup_kind = people.dup_kind[o]
    style = np.where(is_dup & (dup_kind == 2), 1 + people.pid[owner] % 2, identity.CANONICAL)
    other = is_dup & (dup_kind == 1)
    u = rng.random(n)
    has_phone = known_phase & (
        ((kind == CONV) & (u < 0.3)) | ((touch_type == cat.TT["event_visit"]) & (u < 0.2)) | (chat & (u < 0.1))
    )
    cols = {
        "anonymous_id": sparse(~_LIST_BASED[touch_type], lambda r: persons.take(pa.array(owner[r]))),
        "email": sparse(has_email, lambda r: messy(rng, identity.email(people, owner[r], style[r], other[r]), 0.02)),
        "phone": sparse(has_phone, lambda r: identity.phone(people, owner[r], rng.integers(0, 6, len(r)))),
    }
    return cols, has_email, has_phone


def _web_columns(rng, channel, entry, touch_type) -> dict[str, pa.Array]:
    n = len(channel)
    tagged = _TAGGED[channel]
    has_page = ~_LIST_BASED[touch_type]
    content, has_content = _utm_content(rng, channel)
    term = rng.integers(0, len(cat.UTM_TERMS), n)
    has_term = (channel == cat.CH["paid_search"]) & (rng.random(n) < 0.7)
    slot = _PATH_START[touch_type] + rng.integers(0, 1 << 30, n) % _PATH_COUNT[touch_type]
    # some trackers only keep the landing URL: the UTM columns stay empty and the URL carries them
    in_columns = tagged & ~(has_page & (rng.random(n) < 0.2))

    def query(rows):
        def part(mask, name, vocab, slots):
            return optional(mask[rows], lambda r: join(f"&utm_{name}=", pick(vocab, slots[rows[r]])))

        return join(
            "?utm_source=",
            pick(_UTM["source"], entry[rows]),
            "&utm_medium=",
            pick(_UTM["medium"], entry[rows]),
            "&utm_campaign=",
            pick(_UTM["campaign"], entry[rows]),
            part(has_content, "content", _CONTENT, content),
            part(has_term, "term", _TERMS_IN_URL, term),
        )

    def url(rows):
        return join(cat.SITE, pick(_ALL_PATHS, slot[rows]), optional(tagged[rows], lambda r: query(rows[r])))

    def utm(name):
        return sparse(in_columns, lambda r: pick(_UTM[name], entry[r]))

    return {
        "page_url": sparse(has_page, url),
        "referrer_url": sparse(has_page, lambda r: pick(_UTM["referrer"], entry[r])),
        "utm_source": messy(rng, utm("source"), 0.03),
        "utm_medium": utm("medium"),
        "utm_campaign": utm("campaign"),
        "utm_content": sparse(in_columns & has_content, lambda r: pick(_CONTENT, content[r])),
        "utm_term": sparse(in_columns & has_term, lambda r: pick(cat.UTM_TERMS, term[r])),
        "content_id": _content_ids(touch_type, entry, slot),
    }


_UTM = {
    "source": [e.utm_source for e in cat.ENTRIES],
    "medium": [e.utm_medium for e in cat.ENTRIES],
    "campaign": [e.utm_campaign for e in cat.ENTRIES],
    "referrer": [e.referrer or None for e in cat.ENTRIES],
}
_CONTENT = [v for c in cat.UTM_CONTENT for v in cat.UTM_CONTENT[c]]
_TERMS_IN_URL = [t.replace(" ", "+") for t in cat.UTM_TERMS]


def _utm_content(rng, channel) -> tuple[np.ndarray, np.ndarray]:
    """Position in _CONTENT of an ad/email variant per touch, and whether the touch names one."""
    n = len(channel)
    start = np.zeros(len(cat.CHANNELS), dtype=np.int64)
    count = np.ones(len(cat.CHANNELS), dtype=np.int64)
    rate = np.zeros(len(cat.CHANNELS))
    for c, r in zip(cat.UTM_CONTENT, (0.5, 0.6, 0.4, 0.5, 0.3), strict=True):
        i = cat.CH[c]
        start[i], count[i], rate[i] = _CONTENT.index(cat.UTM_CONTENT[c][0]), len(cat.UTM_CONTENT[c]), r
    slot = start[channel] + rng.integers(0, 1 << 30, n) % count[channel]
    return slot, rng.random(n) < rate[channel]


def _content_ids(touch_type, entry, slot) -> pa.Array:
    """Downloads and webinars name their asset; events and webinar attendance name the event."""
    n = len(touch_type)
    asset = np.full(n, -1)
    dl = touch_type == cat.TT["content_download"]
    reg = touch_type == cat.TT["webinar_registration"]
    asset[dl] = slot[dl] - _PATH_START[cat.TT["content_download"]]
    asset[reg] = len(cat.EBOOKS) + slot[reg] - _PATH_START[cat.TT["webinar_registration"]]
    names = pick(list(cat.EBOOKS) + list(cat.WEBINARS), np.maximum(asset, 0))
    attended = np.isin(touch_type, (cat.TT["event_visit"], cat.TT["webinar_attended"]))
    event = pick([e.campaign_label for e in cat.ENTRIES], entry)
    return where(asset >= 0, names, where(attended, event, NULL))
