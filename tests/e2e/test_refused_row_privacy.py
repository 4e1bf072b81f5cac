"""A refused malformed row of a person leaves no copy of their data anywhere closedloop writes: not in the
message, not in the Dagster run history or logs of the data dir, not in dbt's `target/`; after `closedloop erase`
a byte search of every file finds none of their identifiers. A 3 MB line refused the same night gets DuckDB's
reason and leaves none of its content behind either."""

import shutil
from pathlib import Path

import pytest
from commands import closedloop

from orchestration.settings import DBT_PROJECT_DIR

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "landing_small"
PERSON = {
    "email": "Zyx.Quarantwright@Example.net",
    "phone": "+1 415 555 0177",
    "first": "Zyxandera",
    "last": "Quarantwright",
    "cookie": "COOKIE-QUARANTWRIGHT-77",
}
NEEDLES = [b"quarantwright", b"Quarantwright", b"Zyxandera", b"4155550177", b"415 555 0177", b"cookie-quarantwright"]

pytestmark = pytest.mark.slow


def files_holding(roots: list[Path], needles: list[bytes]) -> dict[str, list[bytes]]:
    found = {}
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                data = path.read_bytes()
                hits = [n for n in needles if n in data or n.lower() in data.lower()]
                if hits:
                    found[str(path)] = hits
    return found


def test_a_refused_row_of_a_person_is_nowhere_after_erasure(tmp_path):
    landing, data = tmp_path / "landing", tmp_path / "data"
    shutil.copytree(FIXTURE, landing)
    args = ["--landing", str(landing), "--data-dir", str(data)]
    # the person is delivered properly once (a touchpoint with their cookie and email) …
    (landing / "touchpoints" / "touchpoints_person.csv").write_text(
        "touchpoint_id,occurred_at,anonymous_id,email,phone,touchpoint_type\n"
        f"tq1,2026-03-02T09:00:00Z,{PERSON['cookie'].lower()},{PERSON['email']},,page_view\n"
    )
    assert closedloop("run", *args).returncode == 0
    # … then in a malformed lead row (one field too many)
    header = (landing / "leads" / "leads_2026-03.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    width = len(header.split(","))
    row = ["L9", "2026-03-05T08:00:00Z", "", PERSON["email"], PERSON["phone"], PERSON["first"], PERSON["last"]]
    row += ["x"] * (width - len(row)) + ["one too many"]
    bad = landing / "leads" / "leads_bad.csv"
    bad.write_text(f"{header}\n{','.join(row)}\n")
    # the same night a deals file with a 3 MB line (refused by its own extract step)
    deals = next((landing / "deals").glob("*.csv"))
    lines = deals.read_text().splitlines()
    long = landing / "deals" / "deals_long.csv"
    long.write_text(lines[0] + "\n" + lines[1].rsplit(",", 1)[0] + "," + "Q" * 3_000_000 + "\n")
    refused = closedloop("run", *args)
    assert refused.returncode == 1
    message = " ".join(refused.stderr.split())  # the paragraph is wrapped for the terminal
    assert "leads_bad.csv, line 2" in message and f"expected {width} fields, found {width + 1}" in message
    assert "deals_long.csv, line 2" in message and "maximum line size of 2,000,000 bytes" in message
    assert "QQQQ" not in refused.stdout + refused.stderr
    assert not [n for n in NEEDLES if n.decode().lower() in (refused.stdout + refused.stderr).lower()]
    # the run history and the logs never got the row, nor the long line
    assert files_holding([data / "dagster", data / "logs"], [*NEEDLES, b"QQQQQQQQQQQQ"]) == {}

    bad.unlink()  # the operator takes the bad files away, the person asks to be erased
    long.unlink()
    erased = closedloop("erase", "--email", PERSON["email"], "--data-dir", str(data))
    assert erased.returncode == 0, erased.stderr
    assert files_holding([data, DBT_PROJECT_DIR / "target"], NEEDLES) == {}

    # their cookie delivered again in upper case stays out
    (landing / "touchpoints" / "touchpoints_again.csv").write_text(
        "touchpoint_id,occurred_at,anonymous_id,email,phone,touchpoint_type\n"
        f"tq2,2026-03-03T09:00:00Z,{PERSON['cookie']},,,page_view\n"
    )
    again = closedloop("run", *args)
    assert again.returncode == 0, again.stderr
    assert "1 delivered rows of erased people left out" in again.stdout
    assert files_holding([data / "serving.duckdb", data / "exports"], NEEDLES) == {}
