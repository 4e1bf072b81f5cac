"""A person's identifiers as text: email, phone, name and company, derived from the person's number so the same
person is written the same way (or deliberately differently) in every source.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from . import catalog as cat
from .people import People
from .text import join, numbers, phones, pick, where

_A, _B, _S = cat.COMPANY_WORDS_A, cat.COMPANY_WORDS_B, cat.COMPANY_SUFFIXES
_SLUGS = [(a + b).lower() for b in _B for a in _A]
_COMPANIES = [a + b.lower() + s for s in _S for b in _B for a in _A]
_EMEA = list(cat.REGIONS).index("emea")

# email styles
CANONICAL, NO_DOTS, PLUS_TAG = 0, 1, 2


def email(
    people: People, idx: np.ndarray, style: np.ndarray | int = CANONICAL, other_mailbox: np.ndarray | bool = False
) -> pa.Array:
    """Lowercase address. `other_mailbox` swaps work and personal mailbox (a second, unrelated address);
    NO_DOTS / PLUS_TAG are the gmail spellings that normalise to the canonical one."""
    first = pick([a for _, a in cat.FIRST_NAMES], people.first_name[idx])
    last = pick([a for _, a in cat.LAST_NAMES], people.last_name[idx])
    pid = numbers(people.pid[idx])
    style = np.broadcast_to(np.asarray(style), len(idx))
    dotted = join(first, ".", last, pid)
    local = where(style == NO_DOTS, join(first, last, pid), where(style == PLUS_TAG, join(dotted, "+news"), dotted))
    free = people.free_mail[idx] ^ np.broadcast_to(np.asarray(other_mailbox, dtype=bool), len(idx))
    # a personal mailbox that is not the person's usual one: gmail, so swapped addresses never collide
    free_domain = np.where(people.free_mail[idx], people.free_domain[idx], 0)
    work_domain = join(pick(_SLUGS, people.company[idx] % len(_SLUGS)), pick(cat.WORK_TLDS, people.tld[idx]))
    return join(local, "@", where(free, pick(cat.FREE_DOMAINS, free_domain), work_domain))


def phone(people: People, idx: np.ndarray, style: np.ndarray) -> pa.Array:
    pid = people.pid[idx]
    uk = (people.region[idx] == _EMEA) & (pid % 3 != 0)
    return phones(pid, uk, style, cat.US_AREAS)


def first_name(people: People, idx: np.ndarray) -> pa.Array:
    return pick([d for d, _ in cat.FIRST_NAMES], people.first_name[idx])


def last_name(people: People, idx: np.ndarray) -> pa.Array:
    return pick([d for d, _ in cat.LAST_NAMES], people.last_name[idx])


def company(people: People, idx: np.ndarray) -> pa.Array:
    return pick(_COMPANIES, people.company[idx])
