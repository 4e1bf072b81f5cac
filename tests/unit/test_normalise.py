"""Normalisers: examples from docs/identity.md and properties that must hold for any input."""

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestration.lib import normalise
from orchestration.lib.normalise import normalise_email, normalise_phone, normalise_phones


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Ann.Lee@Example.COM ", "ann.lee@example.com"),
        ("Ann.Lee+news@GMAIL.com", "annlee@gmail.com"),
        ("a.n.n@googlemail.com", "ann@gmail.com"),
        ("bob+tag@corp.io", "bob+tag@corp.io"),
        ("not-an-email", None),
        ("a@b", None),
        ("", None),
        (None, None),
        ("+tag@gmail.com", None),
    ],
)
def test_email_examples(raw, expected):
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("(415) 555-0101", "US", "+14155550101"),
        ("+1 415 555 0101", "US", "+14155550101"),
        ("415.555.0101", "US", "+14155550101"),
        ("030 901820", "DE", "+4930901820"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("12", "US", None),
        ("call me", "US", None),
        ("", "US", None),
        (None, "US", None),
    ],
)
def test_phone_examples(raw, region, expected):
    assert normalise_phone(raw, region) == expected


@given(st.text(max_size=40))
def test_email_normalisation_is_idempotent_and_canonical(text):
    once = normalise_email(text)
    if once is not None:
        assert normalise_email(once) == once
        assert once == once.strip().lower()


@given(st.from_regex(r"[a-z]{1,8}(\.[a-z]{1,8}){0,2}", fullmatch=True), st.sampled_from(["", "+promo", "+x.y"]))
def test_gmail_variants_collapse_to_one_address(local, tag):
    variants = {local + tag + "@gmail.com", local.upper() + "@GoogleMail.com", " " + local + tag + "@Gmail.Com "}
    assert {normalise_email(v) for v in variants} == {local.replace(".", "") + "@gmail.com"}


@given(st.text(alphabet="0123456789 ()+-.", max_size=20))
def test_phone_output_is_e164_or_none(text):
    result = normalise_phone(text)
    assert result is None or (result.startswith("+") and result[1:].isdigit() and normalise_phone(result) == result)


def _phones(n: int) -> list[str | None]:
    """Valid numbers in several formats, invalid ones and blanks, in a fixed random order."""
    rng = random.Random(7)
    kinds = [
        lambda: f"({rng.randint(201, 989)}) 555-{rng.randint(100, 199):04d}",
        lambda: f"+1 {rng.randint(201, 989)} 555 {rng.randint(100, 199):04d}",
        lambda: f"+44 20 7946 {rng.randint(0, 999):04d}",
        lambda: str(rng.randint(0, 99)),
        lambda: None,
    ]
    return [rng.choice(kinds)() for _ in range(n)]


def test_many_phones_are_split_over_processes_in_order(monkeypatch):
    # small chunks, so 1,000 values take the parallel path (it needs two cores)
    monkeypatch.setattr(normalise, "CHUNK", 50)
    monkeypatch.setattr(normalise, "PARALLEL_FROM", 100)
    monkeypatch.setattr(normalise.os, "cpu_count", lambda: 2)
    started = []
    monkeypatch.setattr(normalise, "ProcessPoolExecutor", _Recording(normalise.ProcessPoolExecutor, started))
    values = _phones(1_000)
    assert normalise_phones(values, "US") == [normalise_phone(v, "US") for v in values]
    assert started == [2]
    assert normalise_phones(values[:99], "US") == [normalise_phone(v, "US") for v in values[:99]]
    assert started == [2]  # too few values: no worker started


class _Recording:
    """ProcessPoolExecutor, noting how many workers each pool was given."""

    def __init__(self, pool_class, started: list[int]):
        self.pool_class, self.started = pool_class, started

    def __call__(self, workers: int, **kwargs):
        self.started.append(workers)
        return self.pool_class(workers, **kwargs)
