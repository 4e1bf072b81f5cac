"""Identifier normalisers that SQL cannot do alike on every engine (phones need the `phonenumbers` library).

Email normalisation lives in SQL (`dbt_project/macros/normalise_email.sql`); `normalise_email` here is the same
rule in Python, for readers and tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import phonenumbers

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
    return [normalise_phone(v, region) for v in values]


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
