"""Erasure requests: what one names (parse_request), the outcome of an erasure (Erasure), and how a delivered
request is marked once handled (it keeps only its date and the outcome)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from orchestration.lib.normalise import normalise_email, normalise_phone
from orchestration.lib.sql import sql_literal

# a delivered request not handled yet: it still names somebody (a handled one keeps only `{"erasure": ...}`)
PENDING_REQUEST = (
    "email is not null or phone is not null or _phone_e164 is not null"
    " or (_extra is not null and json_extract_string(_extra, '$.erasure') is null)"
)


class ErasureError(ValueError):
    """An erasure request that names nobody: no usable email or phone."""


@dataclass
class Erasure:
    removed: dict[str, int] = field(default_factory=dict)  # table -> rows removed (or cleared)
    identifiers: dict[str, int] = field(default_factory=dict)  # kind -> keys of the person found
    suppressed: int = 0  # identifier hashes newly added to raw._suppressed
    requests: int = 0  # requests applied
    unusable: int = 0  # delivered requests with no valid email or phone (cleared, nothing erased)
    rewritten: list[Path] = field(default_factory=list)
    # kind -> values: to purge other copies of the raw data (PostgreSQL); held in memory only, never written
    keys: dict[str, set[str]] = field(default_factory=dict, repr=False)

    @property
    def rows_removed(self) -> int:
        """Rows deleted from the warehouse (a cleared erasure request is not a removed row, nor is serving's copy)."""
        return sum(n for table, n in self.removed.items() if table != "raw.erasure_requests" and ":" not in table)


def parse_request(email: str | None, phone: str | None, phone_region: str = "US") -> list[tuple[str, str]]:
    """The (kind, normalised value) pairs a request names: its valid email and phone; ErasureError when neither
    is valid (a request with a valid email and a garbled phone still erases by the email)."""
    seeds, errors = [], []
    if email is not None and str(email).strip():
        normalised = normalise_email(email)
        if normalised is None:
            errors.append(f"{email!r} is not a valid email address")
        else:
            seeds.append(("email", normalised))
    if phone is not None and str(phone).strip():
        e164 = normalise_phone(phone, phone_region)
        if e164 is None:
            errors.append(f"{phone!r} is not a valid phone number (region {phone_region} when it has no country code)")
        else:
            seeds.append(("phone", e164))
    if not seeds:
        raise ErasureError("; ".join(errors) or "an erasure request needs an email or a phone")
    return seeds


def cleared_request(outcome: str, erased_at: datetime) -> str:
    """SET clause of an erasure request once handled: no identifier left, only what happened and when."""
    marker = json.dumps({"erasure": outcome, "erased_at": erased_at.isoformat(timespec="seconds")})
    return f"email = null, phone = null, _phone_e164 = null, _extra = {sql_literal(marker)}"


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def parse_timestamp(value: object) -> datetime | None:
    """A delivered requested_at (text) as a naive UTC timestamp, or None when it does not parse."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed
