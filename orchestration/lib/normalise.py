"""Identifier normalisers that SQL cannot do alike on every engine (phones need the `phonenumbers` library).

Email normalisation lives in SQL (`dbt_project/macros/normalise_email.sql`); `normalise_email` here is the same
rule in Python, for readers and tests.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from itertools import repeat

import phonenumbers

# phonenumbers takes about 50 µs a value: a first load at 1 M leads brings 870,000 distinct phones (45 s in one
# process). From this many values on, they are split over one worker process per core; fewer do not pay for
# starting them.
PARALLEL_FROM = 20_000
CHUNK = 10_000
GMAIL_DOMAINS = {"gmail.com", "googlemail.com"}
EMAIL_PATTERN = re.compile(r"^[a-z0-9._%+'-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$")


def normalise_phone(raw: str | None, region: str = "US") -> str | None:
    """E.164 (`+14155550101`) or None when the number is not valid for `region` or its own country code."""
    if raw is None or not str(raw).strip():
        return None
    try:
        number = phonenumbers.parse(str(raw), region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_phones(values: Iterable[str | None], region: str = "US") -> list[str | None]:
    """`normalise_phone` of each value, in order."""
    values = list(values)
    workers = min(os.cpu_count() or 1, len(values) // CHUNK)
    if len(values) < PARALLEL_FROM or workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return _normalise_chunk(values, region)
    chunks = [values[start : start + CHUNK] for start in range(0, len(values), CHUNK)]
    # forked, not spawned: a spawned worker runs the caller's main script again, and starts slower; a forked one
    # runs only phonenumbers' pure Python, so no lock another thread held at the fork is ever taken
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return [e164 for chunk in pool.map(_normalise_chunk, chunks, repeat(region)) for e164 in chunk]


def _normalise_chunk(values: list[str | None], region: str) -> list[str | None]:
    return [normalise_phone(value, region) for value in values]


def normalise_email(raw: str | None) -> str | None:
    """Trim and lowercase; for Gmail drop dots and a +tag in the local part; invalid syntax ⇒ None."""
    if raw is None:
        return None
    email = str(raw).strip().lower()
    if not EMAIL_PATTERN.match(email):
        return None
    local, domain = email.rsplit("@", 1)
    if domain in GMAIL_DOMAINS:
        local = local.split("+", 1)[0].replace(".", "")
        domain = "gmail.com"
        if not local:
            return None
    return f"{local}@{domain}"
