"""A bad delivery and the way out, through `closedloop` as an operator runs it: a deals file picked up while it
was still being written (its last value cut short, no final newline) loads; the finished file arrives under the same
name, the deal now exists in two versions and the gate blocks every night; `closedloop unload` takes the cut-short
version out and the next night publishes the finished one."""

import shutil
from pathlib import Path

import duckdb
import pytest
from commands import closedloop

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "landing_small"
# the amount last, as in the export that showed the problem: cut inside it, the row still has every field
HEADER = "deal_id,lead_id,created_at,updated_at,stage,currency,closed_at,outcome,loss_reason,product,owner,amount\n"
WHOLE = HEADER + "D4,L2,2026-03-08T10:00:00Z,,proposal,USD,,open,,CRM,Bert,0.87\n"
CUT = WHOLE[: WHOLE.index("0.87") + 3].rstrip("\n")  # `0.8`: cut inside a field

pytestmark = pytest.mark.slow


def published_amount(data: Path, deal_id: str):
    with duckdb.connect(str(data / "serving.duckdb"), read_only=True) as con:
        return con.execute(
            "select amount from marts.fct_conversions where deal_id = ? and conversion_type = 'opportunity_created'",
            [deal_id],
        ).fetchall()


def test_a_cut_short_delivery_blocks_until_it_is_unloaded(tmp_path):
    landing, data = tmp_path / "landing", tmp_path / "data"
    shutil.copytree(FIXTURE, landing)
    args = ["--landing", str(landing), "--data-dir", str(data)]
    late = landing / "deals" / "deals_late.csv"
    late.write_text(CUT)
    assert closedloop("run", *args).returncode == 0
    assert published_amount(data, "D4") == [(0.8,)]  # published wrong: nothing could tell

    late.write_text(WHOLE)  # the finished file, same name
    blocked = closedloop("run", *args)
    assert blocked.returncode == 1 and "conflicting" in blocked.stderr, blocked.stderr
    # the finished file committed to raw before the gate stopped the run: the message says so
    assert (
        "Loaded into raw by this run before it stopped, kept for the next run: deals 1 rows from 1 file(s)"
        in blocked.stderr
    )

    # the operator cannot unload the file that is in the landing zone now: that one is right
    result = closedloop("unload", "deals/deals_late.csv", *args)
    assert result.returncode == 0, result.stderr
    assert "1 delivery(ies), 1 rows taken out of raw.deals" in result.stdout
    assert "the file now in the landing zone is loaded and stays" in result.stdout
    again = closedloop("unload", str(late), *args)
    assert again.returncode == 2 and "move the file out of the landing zone" in again.stderr

    assert closedloop("run", *args).returncode == 0
    assert published_amount(data, "D4") == [(0.87,)]
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from raw.deals where deal_id = 'D4'").fetchone()[0] == 1


def test_unload_refuses_what_is_not_a_loaded_landing_file(tmp_path):
    data = tmp_path / "data"
    assert closedloop("unload", "nowhere/x.csv", "--data-dir", str(data)).returncode == 2
    assert closedloop("unload", "erasure_requests/x.csv", "--data-dir", str(data)).returncode == 2
