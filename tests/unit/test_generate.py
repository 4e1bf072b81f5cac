"""The synthetic landing zone: contract shape, determinism, integrity, planted duplicates, formats."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.lib import contract
from orchestration.lib.generate import generate_landing
from orchestration.lib.generate.run import SOURCES
from orchestration.lib.generate.text import timestamps
from orchestration.lib.generate.writer import write_csv

SMALL = {"leads": 300, "days": 120, "end_date": date(2026, 10, 31)}


def _generate(root: Path, name: str, **kwargs) -> Path:
    out = root / name
    generate_landing(out, **{**SMALL, **kwargs})
    return out


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    return _generate(tmp_path_factory.mktemp("gen"), "a", seed=7)


@pytest.fixture(scope="module")
def tables(landing) -> dict[str, pd.DataFrame]:
    return {s: _read_csv(landing, s) for s in SOURCES}


@pytest.fixture(scope="module")
def truth(landing) -> dict:
    return json.loads((landing / "ground_truth.json").read_text())


def _read_csv(root: Path, source: str) -> pd.DataFrame:
    files = sorted((root / source).glob("*.csv"))
    return pd.concat([pd.read_csv(f, dtype=str, keep_default_na=False) for f in files], ignore_index=True)


def _utc(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True, format="ISO8601")


def _clean(values: pd.Series) -> pd.Series:
    return values.str.strip().str.lower()


def _file_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_every_source_has_monthly_files_with_the_contract_columns(landing):
    for source in SOURCES:
        files = sorted((landing / source).glob("*.csv"))
        assert files, source
        for f in files:
            assert re.fullmatch(rf"{source}_\d{{4}}-\d{{2}}\.csv", f.name)
            header = f.read_text(encoding="utf-8").splitlines()[0]
            assert tuple(header.split(",")) == contract.CONTRACTS[source].columns
    assert not (landing / "erasure_requests").exists()


def test_same_seed_same_bytes_other_seed_other_data(tmp_path, landing):
    again = _generate(tmp_path, "again", seed=7)
    other = _generate(tmp_path, "other", seed=8)
    assert _file_bytes(again) == _file_bytes(landing)
    assert _file_bytes(other) != _file_bytes(landing)


def test_rerun_into_the_same_folder_replaces_the_files(tmp_path, landing):
    out = _generate(tmp_path, "twice", seed=7)
    generate_landing(out, seed=7, **SMALL)
    assert _file_bytes(out) == _file_bytes(landing)


def test_required_fields_identifiers_and_accepted_values(tables):
    for source, df in tables.items():
        for column in contract.CONTRACTS[source].required:
            assert (df[column].str.strip() != "").all(), f"{source}.{column}"
        one_of = contract.CONTRACTS[source].one_of
        if one_of:
            assert (df[list(one_of)].ne("").any(axis=1)).all(), source
    accepted = [
        ("touchpoints", "touchpoint_type", contract.TOUCHPOINT_TYPES),
        ("leads", "lifecycle_stage", contract.LIFECYCLE_STAGES),
        ("deals", "stage", contract.DEAL_STAGES),
        ("deals", "outcome", contract.DEAL_OUTCOMES),
        ("activities", "activity_type", contract.ACTIVITY_TYPES),
    ]
    for source, column, values in accepted:
        assert _clean(tables[source][column]).isin(values).all(), f"{source}.{column}"
    outcome = tables["activities"]["outcome"]
    assert outcome[outcome != ""].isin(contract.ACTIVITY_OUTCOMES).all()
    for source in ("deals", "ad_spend", "orders", "fx_rates"):
        assert tables[source]["currency"].isin(["USD", "EUR", "GBP"]).all()
    for source, column in (("deals", "amount"), ("orders", "amount"), ("ad_spend", "spend")):
        assert (pd.to_numeric(tables[source][column]) >= 0).all()
    assert (pd.to_numeric(tables["deals"]["amount"]) > 0).all()


def test_references_resolve(tables):
    lead_ids = set(tables["leads"]["lead_id"])
    assert tables["leads"]["lead_id"].is_unique
    assert tables["touchpoints"]["touchpoint_id"].is_unique
    assert set(tables["deals"]["lead_id"]) <= lead_ids
    assert set(tables["activities"]["lead_id"]) <= lead_ids
    order_leads = tables["orders"]["lead_id"]
    assert set(order_leads[order_leads != ""]) <= lead_ids
    assert set(tables["deal_stage_history"]["deal_id"]) <= set(tables["deals"]["deal_id"])


def test_deal_states_and_timelines_are_consistent(tables):
    deals, leads = tables["deals"], tables["leads"]
    closed = deals["closed_at"] != ""
    assert ((deals["outcome"] != "open") == closed).all()
    assert ((deals["stage"] == "closed_won") == (deals["outcome"] == "won")).all()
    assert ((deals["stage"] == "closed_lost") == (deals["outcome"] == "lost")).all()
    lost = deals["outcome"] == "lost"
    assert _clean(deals.loc[lost, "loss_reason"]).isin(contract.LOSS_REASONS).all()
    assert (deals.loc[~lost, "loss_reason"] == "").all()
    assert (_utc(deals.loc[closed, "closed_at"]) >= _utc(deals.loc[closed, "created_at"])).all()
    created = deals.merge(leads[["lead_id", "created_at"]], on="lead_id", suffixes=("", "_lead"))
    assert (_utc(created["created_at"]) >= _utc(created["created_at_lead"])).all()
    assert (_utc(leads["first_contact_at"]) <= _utc(leads["created_at"])).all()
    assert {"won", "lost"} <= set(deals["outcome"])

    history = tables["deal_stage_history"].assign(at=lambda d: _utc(d["entered_at"]))
    for _, stages in history.groupby("deal_id"):
        assert stages["at"].is_monotonic_increasing and stages["at"].is_unique
        assert stages["stage"].iloc[0] == "qualification"
    last = history.sort_values("at").groupby("deal_id")["stage"].last()
    assert (last.reindex(deals["deal_id"]).to_numpy() == deals["stage"].to_numpy()).all()


def test_funnel_leaks_at_plausible_rates(tables, truth):
    people = truth["duplicates"]["lead_people"]
    deals = tables["deals"]
    assert 0.15 <= len(deals) / people <= 0.45
    assert (_clean(tables["leads"]["lifecycle_stage"]) == "customer").sum() == (deals["outcome"] == "won").sum()
    assert set(truth["channel_effects"]["multipliers"]) == {"lead", "opportunity", "won"}


def _normal_email(raw: str) -> str | None:
    email = raw.strip().lower()
    if not email:
        return None
    local, domain = email.split("@")
    if domain == "gmail.com":
        local = local.split("+")[0].replace(".", "")
    return f"{local}@{domain}"


def _normal_phone(raw: str) -> str | None:
    digits = re.sub(r"\D", "", raw)
    return None if not digits else ("1" + digits if len(digits) == 10 else digits)


def _people_among_leads(leads: pd.DataFrame, touchpoints: pd.DataFrame) -> int:
    """Connected components over normalised email, phone and anonymous id (docs/identity.md), counted over leads."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def link(keys: list[str]) -> None:
        for k in keys[1:]:
            parent[find(k)] = find(keys[0])

    def keys(row) -> list[str]:
        out = []
        if row.email:
            out.append(f"e:{_normal_email(row.email)}")
        if row.phone:
            out.append(f"p:{_normal_phone(row.phone)}")
        if getattr(row, "anonymous_id", ""):
            out.append(f"a:{row.anonymous_id}")
        return out

    for row in touchpoints.itertuples():
        link(keys(row))
    lead_keys = [keys(row) for row in leads.itertuples()]
    for k in lead_keys:
        link(k)
    return len({find(k[0]) for k in lead_keys})


def test_duplicate_contacts_match_the_ground_truth(tables, truth):
    leads = tables["leads"]
    people = _people_among_leads(leads, tables["touchpoints"])
    planted = truth["duplicates"]
    assert people == planted["lead_people"]
    assert len(leads) - people == planted["duplicate_leads"]
    rate = (len(leads) - people) / people
    assert rate == pytest.approx(planted["duplicate_contact_rate"], abs=1e-6)
    assert 0.02 <= rate <= 0.08


def test_touchpoints_look_like_tracked_traffic(tables, truth):
    tp = tables["touchpoints"]
    assert 10 <= len(tp) / len(tables["leads"]) <= 30
    anonymous_only = (tp["anonymous_id"] != "") & (tp["email"] == "") & (tp["phone"] == "")
    assert 0.3 < anonymous_only.mean() < 0.9
    url_only = (tp["utm_source"] == "") & tp["page_url"].str.contains("utm_source=", regex=False)
    assert url_only.any()
    assert tp["page_url"][tp["page_url"] != ""].str.startswith("https://www.acme-analytics.com/").all()
    stamps = tp["occurred_at"]
    assert stamps.str.endswith("Z").any() and stamps.str.contains(r"[+-]\d\d:\d\d$").any()
    assert (~stamps.str.contains(r"(?:Z|[+-]\d\d:\d\d)$")).any()
    assert (tp["email"].str.strip() != "").any() and (tp["phone"] != "").any()
    assert truth["people"]["anonymous_visitors"] > 0


def test_ground_truth_states_counts_and_units(landing, truth, tables):
    assert truth["seed"] == 7 and truth["parameters"]["leads"] == 300
    assert truth["rows"] == {s: len(df) for s, df in tables.items()}
    assert truth["purchase_process"]["time_unit"] == "week"
    assert {"r", "alpha", "a", "b"} <= set(truth["purchase_process"])
    assert {"p", "q", "gamma", "currency"} <= set(truth["order_value"])
    assert len(tables["leads"]) == 300


def test_ad_spend_has_a_row_per_day_and_paid_campaign_with_the_touch_utms(tables):
    spend, tp = tables["ad_spend"], tables["touchpoints"]
    per_day = spend.groupby("spend_date").size()
    assert len(per_day) == SMALL["days"] and per_day.nunique() == 1
    tagged = set(zip(_clean(tp["utm_source"]), tp["utm_medium"], tp["utm_campaign"], strict=True))
    assert set(zip(spend["utm_source"], spend["utm_medium"], spend["utm_campaign"], strict=True)) <= tagged
    assert spend.duplicated(["spend_date", "utm_source", "utm_medium", "utm_campaign"]).sum() == 0


def test_parquet_has_the_same_rows_as_csv(tmp_path, landing):
    out = _generate(tmp_path, "pq", seed=7, fmt="parquet")
    for source in SOURCES:
        csv_files = sorted(p.stem for p in (landing / source).glob("*.csv"))
        assert sorted(p.stem for p in (out / source).glob("*.parquet")) == csv_files
        for stem in csv_files:
            table = pq.read_table(out / source / f"{stem}.parquet")
            assert all(t == pa.string() for t in table.schema.types)
            got = table.to_pandas().fillna("")
            want = pd.read_csv(landing / source / f"{stem}.csv", dtype=str, keep_default_na=False)
            pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_csv_quotes_only_what_rfc_4180_needs():
    table = pa.table({"a": ["plain", "a,b", 'say "hi"', " padded", None], "b": ["1", "2", "3", "4", "5"]})
    f = io.BytesIO()
    write_csv(f, table, header=True)
    text = f.getvalue().decode()
    assert text.splitlines()[:2] == ["a,b", "plain,1"]
    assert list(csv.reader(io.StringIO(text)))[1:] == [
        ["plain", "1"],
        ["a,b", "2"],
        ['say "hi"', "3"],
        [" padded", "4"],
        ["", "5"],
    ]


def test_timestamp_styles():
    t = np.array([1_780_000_000] * 3)  # 2026-05-28T20:26:40Z
    got = timestamps(t, offset_minutes=np.array([120, 120, -330]), style=np.array([0, 1, 2])).to_pylist()
    assert got == ["2026-05-28T20:26:40Z", "2026-05-28T20:26:40", "2026-05-28T14:56:40-05:30"]


def test_refuses_to_overwrite_a_folder_it_did_not_write(tmp_path):
    (tmp_path / "leads").mkdir()
    (tmp_path / "leads" / "leads_2026-01.csv").write_text("real export\n")
    with pytest.raises(ValueError, match="not written by closedloop generate"):
        generate_landing(tmp_path, leads=50, days=30, seed=1)
    assert (tmp_path / "leads" / "leads_2026-01.csv").read_text() == "real export\n"
