"""End to end: erasure (docs/privacy.md) through `closedloop run` and `closedloop erase`, one scenario in order.

first run publishes → `closedloop erase` one person (leads, touchpoints, deals, orders) → neither DuckDB file holds
their email, phone or name, not even in free pages → the old exports are delivered again under new names, with an
erasure request for a second person → the next run leaves the first person out and erases the second.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest
from commands import closedloop

from orchestration.lib.generate import generate_landing
from orchestration.lib.normalise import normalise_email, normalise_phone

PERSON_SOURCES = ("leads", "touchpoints", "deals", "orders", "activities", "deal_stage_history")

pytestmark = pytest.mark.slow


def read_rows(landing: Path, source: str) -> list[dict]:
    rows = []
    for path in sorted((landing / source).glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            rows += list(csv.DictReader(handle))
    return rows


def pick_people(landing: Path) -> tuple[dict, dict]:
    """Two leads that have touchpoints under their email and a deal; the first also has an order."""
    leads = read_rows(landing, "leads")
    touch_emails = {normalise_email(r["email"]) for r in read_rows(landing, "touchpoints") if r["email"]}
    dealt = {r["lead_id"] for r in read_rows(landing, "deals")}
    orders = read_rows(landing, "orders")
    ordered = {r["lead_id"] for r in orders if r["lead_id"]} | {
        normalise_email(r["email"]) for r in orders if r["email"]
    }
    candidates = [
        lead
        for lead in leads
        if normalise_email(lead["email"]) in touch_emails
        and lead["lead_id"] in dealt
        and normalise_phone(lead["phone"])
    ]
    first = next(c for c in candidates if c["lead_id"] in ordered or normalise_email(c["email"]) in ordered)
    second = next(c for c in candidates if normalise_email(c["email"]) != normalise_email(first["email"]))
    return first, second


def make_names_unique(landing: Path, person: dict, first: str, last: str) -> dict:
    """Gives the person a name nobody else has (every lead row of theirs), so its bytes can be searched for."""
    email = normalise_email(person["email"])
    for path in sorted((landing / "leads").glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            fields, rows = reader.fieldnames, list(reader)
        for row in rows:
            if normalise_email(row["email"]) == email:
                row["first_name"], row["last_name"] = first, last
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    return {**person, "first_name": first, "last_name": last}


def identifying_bytes(landing: Path, person: dict) -> set[bytes]:
    """Email and phone in every spelling delivered for the person, the E.164 phone and its digits, the name."""
    email, phone = normalise_email(person["email"]), normalise_phone(person["phone"])
    found = {email, phone, phone.removeprefix("+1"), person["first_name"], person["last_name"]}
    for source in ("leads", "touchpoints", "orders"):
        for row in read_rows(landing, source):
            if row.get("email") and normalise_email(row["email"]) == email:
                found.add(row["email"].strip())
            if row.get("phone") and normalise_phone(row["phone"]) == phone:
                found.add(row["phone"].strip())
    return {value.encode() for value in found if value}


def bytes_found(path: Path, needles: set[bytes]) -> set[bytes]:
    data = path.read_bytes()
    return {needle for needle in needles if needle in data}


def lead_ids(landing: Path, person: dict) -> set[str]:
    email = normalise_email(person["email"])
    return {r["lead_id"] for r in read_rows(landing, "leads") if normalise_email(r["email"]) == email}


def mart_rows_of(database: Path, leads: set[str]) -> dict[str, int]:
    """Rows of every mart with a lead_id column that point at one of `leads`."""
    found = {}
    with duckdb.connect(str(database), read_only=True) as con:
        tables = con.execute(
            "select table_schema || '.' || table_name from information_schema.columns"
            " where table_schema = 'marts' and column_name = 'lead_id'"
        ).fetchall()
        for (table,) in tables:
            found[table] = con.execute(
                f"select count(*) from {table} where lead_id in (select unnest(?::varchar[]))", [sorted(leads)]
            ).fetchone()[0]
    return found


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("erasure")
    landing, data = root / "landing", root / "data"
    generate_landing(landing, leads=400, days=120, seed=11)
    first, second = pick_people(landing)
    erased = make_names_unique(landing, first, "Zebulonia", "Quixotewright")
    requested = make_names_unique(landing, second, "Philomena", "Brackenbury")
    return {
        "landing": landing,
        "data": data,
        "args": ["--landing", str(landing), "--data-dir", str(data)],
        "erased": erased,
        "erased_bytes": identifying_bytes(landing, erased),
        "erased_leads": lead_ids(landing, erased),
        "requested": requested,
        "requested_bytes": identifying_bytes(landing, requested),
        "requested_leads": lead_ids(landing, requested),
    }


def test_erase_leaves_no_trace_in_either_file(workspace):
    data = workspace["data"]
    result = closedloop("run", *workspace["args"])
    assert result.returncode == 0, result.stdout + result.stderr
    warehouse, serving = data / "warehouse.duckdb", data / "serving.duckdb"
    # the search can see the person before: their name and email are in the warehouse's bytes
    assert {
        workspace["erased"]["last_name"].encode(),
        normalise_email(workspace["erased"]["email"]).encode(),
    } <= bytes_found(warehouse, workspace["erased_bytes"])
    assert any(mart_rows_of(serving, workspace["erased_leads"]).values())

    email = workspace["erased"]["email"].strip().upper()  # another spelling of the same address
    result = closedloop("erase", "--email", email, "--data-dir", str(data))
    assert result.returncode == 0, result.stdout + result.stderr
    for table in (
        "raw.leads",
        "raw.touchpoints",
        "raw.deals",
        "raw.orders",
        "marts.fct_conversions",
        "serving: marts.fct_conversions",
    ):
        assert table in result.stdout
    assert bytes_found(warehouse, workspace["erased_bytes"]) == set()
    assert bytes_found(serving, workspace["erased_bytes"]) == set()
    assert set(mart_rows_of(serving, workspace["erased_leads"]).values()) == {0}
    assert set(mart_rows_of(warehouse, workspace["erased_leads"]).values()) == {0}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(distinct kind) from raw._suppressed").fetchone()[0] >= 4


EMAIL_LIKE = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"
PHONE_LIKE = r"^\+[1-9][0-9]{7,14}$|^\(?[0-9]{3}\)?[ .-][0-9]{3}[ .-][0-9]{4}$"


def test_every_column_holding_emails_or_phones_is_tagged(workspace):
    """The value rule of personal data by declaration (tests/unit/test_personal_data.py has the name rule): in
    the night just built (and erased from), any text column of the warehouse or the serving file with a value
    that looks like an email address or a phone number must carry a `pii` tag in its dbt YAML. A single such
    value is enough: one leaked address is a leak."""
    from orchestration.lib.personal_data import pii_columns

    declared = pii_columns()
    untagged = []
    for path in (workspace["data"] / "warehouse.duckdb", workspace["data"] / "serving.duckdb"):
        with duckdb.connect(str(path), read_only=True) as con:
            columns = con.execute(
                "select table_schema, table_name, column_name from information_schema.columns"
                " where table_catalog = current_database() and data_type = 'VARCHAR'"
                " and table_schema not in ('seeds') and not starts_with(table_name, '_') order by all"
            ).fetchall()
            for schema, table, column in columns:
                if column in declared.get(f"{schema}.{table}", {}):
                    continue
                hits = con.execute(
                    f'select count(*) from "{schema}"."{table}" where regexp_matches("{column}", ?)'
                    f' or regexp_matches("{column}", ?)',
                    [EMAIL_LIKE, PHONE_LIKE],
                ).fetchone()[0]
                if hits:
                    untagged.append(f"{path.name}: {schema}.{table}.{column} ({hits} values)")
    assert untagged == []


def test_published_cookies_are_keyed_hashes_of_the_warehouse_ones(workspace):
    from orchestration.lib.privacy import keyed_hash, pii_key

    data = workspace["data"]
    key = pii_key(data)
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        raw = dict(con.execute("select touchpoint_id, anonymous_id from marts.fct_touchpoints").fetchall())
    with duckdb.connect(str(data / "serving.duckdb"), read_only=True) as con:
        published = dict(con.execute("select touchpoint_id, anonymous_id from marts.fct_touchpoints").fetchall())
    assert published.keys() == raw.keys() and any(raw.values())
    assert published == {t: None if a is None else keyed_hash(a, key) for t, a in raw.items()}
    assert not set(raw.values()) - {None} & set(published.values())


def test_old_exports_delivered_again_do_not_bring_them_back(workspace):
    landing, data = workspace["landing"], workspace["data"]
    # the same exports again under new names; one byte more, or the loader would skip them as already loaded
    for source in PERSON_SOURCES:
        for path in sorted((landing / source).glob("*.csv")):
            (landing / source / f"redelivered_{path.name}").write_bytes(path.read_bytes() + b"\n")
    (landing / "erasure_requests").mkdir()
    (landing / "erasure_requests" / "requests_2026-11.csv").write_text(
        f"requested_at,email,phone\n2026-11-01T09:00:00Z,,{workspace['requested']['phone']}\n"
    )
    result = closedloop("run", *workspace["args"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "left out" in result.stdout and "1 applied" in result.stdout
    warehouse, serving = data / "warehouse.duckdb", data / "serving.duckdb"
    for person in ("erased", "requested"):
        assert bytes_found(warehouse, workspace[f"{person}_bytes"]) == set(), person
        assert bytes_found(serving, workspace[f"{person}_bytes"]) == set(), person
        assert set(mart_rows_of(serving, workspace[f"{person}_leads"]).values()) == {0}, person
    with duckdb.connect(str(warehouse), read_only=True) as con:
        leads = sorted(workspace["erased_leads"] | workspace["requested_leads"])
        assert (
            con.execute(
                "select count(*) from raw.leads where lead_id in (select unnest(?::varchar[]))", [leads]
            ).fetchone()[0]
            == 0
        )
        assert (
            con.execute(
                "select count(*) from raw.erasure_requests where phone is not null or email is not null"
            ).fetchone()[0]
            == 0
        )
        # everybody else came back in the re-delivery: the raw tables hold each old row twice
        assert con.execute("select count(*) from raw.leads").fetchone()[0] > 700
