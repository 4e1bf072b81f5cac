"""Vectorised text building on Arrow arrays: ids, timestamps, phones, emails, messy variants.

Every helper takes numpy arrays and returns an Arrow string array, so no Python string is built per row.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DAY = 86_400
NULL = pa.scalar(None, pa.string())
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_CLOCK = None  # "HH:MM:SS" for every second of a day, built once


def pick(values: Sequence[str], idx: np.ndarray) -> pa.Array:
    """values[idx] as an Arrow string array."""
    return pa.array(list(values), pa.string()).take(pa.array(np.asarray(idx, dtype=np.int64)))


def join(*parts) -> pa.Array:
    """Concatenate arrays and literal strings element-wise (a null part makes the result null)."""
    return pc.binary_join_element_wise(*parts, "")


def where(mask: np.ndarray, then, otherwise) -> pa.Array:
    return pc.if_else(pa.array(np.asarray(mask, dtype=bool)), then, otherwise)


def blank_unless(mask: np.ndarray, values: pa.Array) -> pa.Array:
    """values where mask, null elsewhere."""
    return where(mask, values, NULL)


def numbers(values: np.ndarray, width: int = 0) -> pa.Array:
    text = pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())
    return pc.utf8_lpad(text, width, "0") if width else text


def ids(prefix: str, values: np.ndarray, width: int) -> pa.Array:
    return join(prefix, numbers(values, width))


def decimals(values: np.ndarray, places: int = 2) -> pa.Array:
    """Non-negative numbers as fixed-point text ("1234.50")."""
    scaled = np.rint(np.asarray(values, dtype=np.float64) * 10**places).astype(np.int64)
    return join(numbers(scaled // 10**places), ".", numbers(scaled % 10**places, places))


def hex_ids(rng: np.random.Generator, n: int) -> pa.Array:
    """Random UUID-shaped ids (8-4-4-4-12 hex digits)."""
    nibbles = rng.integers(0, 16, size=(n, 32), dtype=np.uint8)
    chars = _HEX[nibbles]
    dash = np.full((n, 1), ord("-"), dtype=np.uint8)
    grid = np.hstack(
        [chars[:, :8], dash, chars[:, 8:12], dash, chars[:, 12:16], dash, chars[:, 16:20], dash, chars[:, 20:]]
    )
    return pa.array(np.ascontiguousarray(grid).view("S36").ravel()).cast(pa.string())


def _clock() -> pa.Array:
    global _CLOCK
    if _CLOCK is None:
        s = np.arange(DAY)
        _CLOCK = pa.array([f"{h:02d}:{m:02d}:{x:02d}" for h, m, x in zip(s // 3600, s // 60 % 60, s % 60, strict=True)])
    return _CLOCK


def dates(seconds: np.ndarray) -> pa.Array:
    """Epoch seconds as ISO dates (YYYY-MM-DD)."""
    day = np.asarray(seconds, dtype=np.int64) // DAY
    lo = int(day.min()) if len(day) else 0
    span = np.arange(lo, (int(day.max()) if len(day) else 0) + 1).astype("datetime64[D]")
    return pa.array(np.datetime_as_string(span)).take(pa.array(day - lo))


def optional(mask: np.ndarray, build) -> pa.Array:
    """Like `sparse`, with empty strings instead of nulls: an optional part of a longer string."""
    return pc.coalesce(sparse(mask, build), "")


def timestamps(seconds: np.ndarray, offset_minutes: np.ndarray | None = None, style: np.ndarray | None = None):
    """Epoch seconds as ISO-8601 text. style 0: "...Z", 1: naive (UTC), 2: local time with its offset."""
    seconds = np.asarray(seconds, dtype=np.int64)
    if style is None:
        style = np.zeros(len(seconds), dtype=np.int8)
    if offset_minutes is None:
        offset_minutes = np.zeros(len(seconds), dtype=np.int64)
    offset = np.where(style == 2, offset_minutes, 0).astype(np.int64)
    local = seconds + offset * 60
    # the suffix takes few distinct values: "Z", "" and one per offset
    zones, zone = np.unique(offset, return_inverse=True)
    names = ["Z", ""] + [f"{'-' if z < 0 else '+'}{abs(z) // 60:02d}:{abs(z) % 60:02d}" for z in zones]
    suffix = np.where(style == 2, 2 + zone.ravel(), style)
    return join(dates(local), "T", _clock().take(pa.array(local % DAY)), pick(names, suffix))


def messy(rng: np.random.Generator, values: pa.Array, rate: float) -> pa.Array:
    """Damage a share of values the way people and exports do: case changes and stray whitespace.

    Normalising (trim, lowercase) gives the original back for lowercase values.
    """
    hit = rng.random(len(values)) < rate
    if not hit.any():
        return values
    some = values.filter(pa.array(hit))
    kind = pa.array(rng.integers(0, 4, len(some)).astype(np.int8))
    damaged = pc.choose(kind, pc.utf8_upper(some), pc.utf8_capitalize(some), join(" ", some), join(some, " "))
    return pc.replace_with_mask(values, pa.array(hit), damaged)


def sparse(mask: np.ndarray, build) -> pa.Array:
    """A string array that is null except where mask holds; `build(rows)` makes the values of those rows only."""
    mask = np.asarray(mask, dtype=bool)
    rows = np.flatnonzero(mask)
    if len(rows) == 0:
        return pa.nulls(len(mask), pa.string())
    return pc.replace_with_mask(pa.nulls(len(mask), pa.string()), pa.array(mask), build(rows))


def phones(pid: np.ndarray, uk: np.ndarray, style: np.ndarray, areas: Sequence[str]) -> pa.Array:
    """A unique, valid phone number per person id, written in one of several common formats.

    US: style 0 "+14155550101", 1 "(415) 555-0101", 2 "+1 415 555 0101", 3 "415.555.0101", 4 "415-555-0101",
    5 "1-415-555-0101". UK (London): even styles E.164, odd "+44 20 7946 0101".
    """
    pid = np.asarray(pid, dtype=np.int64)
    scrambled = (pid * 2654435761) % 79_000_000  # a bijection on [0, 79M): numbers look unrelated to ids
    area = pick(areas, scrambled % len(areas))
    exchange = numbers(201 + (scrambled // len(areas)) % 790, 3)
    line = numbers(scrambled // (len(areas) * 790) % 10_000, 4)
    us = pc.choose(
        pa.array(np.asarray(style % 6, dtype=np.int8)),
        join("+1", area, exchange, line),
        join("(", area, ") ", exchange, "-", line),
        join("+1 ", area, " ", exchange, " ", line),
        join(area, ".", exchange, ".", line),
        join(area, "-", exchange, "-", line),
        join("1-", area, "-", exchange, "-", line),
    )
    london = (pid * 2654435761) % 30_000_000
    lead_digit = pick(("3", "7", "8"), london // 10_000_000)
    rest = numbers(london % 10_000_000, 7)
    uk_text = where(
        style % 2 == 0,
        join("+4420", lead_digit, rest),
        join("+44 20 ", lead_digit, pc.utf8_slice_codeunits(rest, 0, 3), " ", pc.utf8_slice_codeunits(rest, 3, 7)),
    )
    return where(uk, uk_text, us)


def categorical(rng: np.random.Generator, weights: dict[str, float] | Sequence[float], n: int) -> np.ndarray:
    """n draws of category positions with the given (unnormalised) weights."""
    w = np.asarray(list(weights.values()) if isinstance(weights, dict) else weights, dtype=np.float64)
    return np.searchsorted(np.cumsum(w / w.sum()), rng.random(n), side="right").clip(0, len(w) - 1)
