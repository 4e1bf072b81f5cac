"""Normalisers: examples from docs/identity.md and properties that must hold for any input."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestration.lib.normalise import normalise_email, normalise_phone


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
