"""End to end: `closedloop run` as a user runs it, on a generated landing zone, one scenario in order.

first run publishes → the same files again change nothing → a malformed file is refused and the published marts
stay as they were → a new day of files is loaded incrementally while a BI reader holds the old file open.
"""

import json
import shlex
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from commands import CLOSEDLOOP, closedloop

from orchestration.lib.generate import generate_landing
from orchestration.lib.lock import exclusive_lock
from orchestration.lib.quality.rules import DATASETS

# the marts docs/marts.md promises BI
MARTS = tuple(
    f"marts.{name}"
    for name in (
        "dim_people",
        "dim_campaigns",
        "fct_touchpoints",
        "fct_conversions",
        "fct_attribution",
        "mart_channel_roi",
        "mart_campaign_roi",
        "mart_markov_removal_effects",
        "mart_funnel",
        "mart_stage_velocity",
        "mart_loss_reasons",
        "mart_lead_sla",
        "mart_content_influence",
        "mart_cohorts",
        "mart_customer_ltv",
        "mart_ltv_segments",
        "mart_rfm",
        "mart_leads",
        "mart_clv_model",
    )
)

pytestmark = pytest.mark.slow


def snapshot(path: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {name: con.execute(f"select * from {name} order by all").fetchall() for name in MARTS}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("nightly")
    landing, data = root / "landing", root / "data"
    generate_landing(landing, leads=400, days=120, seed=11)
    return {"landing": landing, "data": data, "args": ["--landing", str(landing), "--data-dir", str(data)]}


def landing_oracle(landing: Path) -> dict[str, int]:
    """Counts straight from the delivered files with DuckDB's own CSV reader: an independent check."""
    with duckdb.connect() as con:
        touch = con.execute(
            f"select count(distinct touchpoint_id) from read_csv('{landing}/touchpoints/*.csv', all_varchar=true)"
        ).fetchone()[0]
        deals = con.execute(
            f"select count(distinct deal_id), count(distinct deal_id) filter (where trim(lower(outcome)) = 'won')"
            f" from read_csv('{landing}/deals/*.csv', all_varchar=true)"
        ).fetchone()
    return {"touchpoints": touch, "deals": deals[0], "won": deals[1]}


def test_first_run_publishes_everything(workspace):
    # the console script itself, once; the other commands fork from a helper (tests/commands.py)
    result = subprocess.run([CLOSEDLOOP, "run", *workspace["args"]], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    data = workspace["data"]
    assert str(data / "serving.duckdb") in result.stdout and "report" in result.stdout
    expected = landing_oracle(workspace["landing"])
    with duckdb.connect(str(data / "serving.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from marts.fct_touchpoints").fetchone()[0] == expected["touchpoints"]
        opportunities, won = con.execute(
            "select count(*) filter (where conversion_type = 'opportunity_created'),"
            " count(*) filter (where conversion_type = 'deal_won') from marts.fct_conversions"
        ).fetchone()
        assert (opportunities, won) == (expected["deals"], expected["won"])
        # identity resolution finds the people the generator planted (ground_truth.json), duplicates merged
        truth = json.loads((workspace["landing"] / "ground_truth.json").read_text())
        people, lead_people, leads_created = con.execute(
            "select count(*), count(*) filter (where lead_count > 0),"
            " (select count(*) from marts.fct_conversions where conversion_type = 'lead_created') from marts.dim_people"
        ).fetchone()
        assert people == truth["people"]["expected_after_identity_resolution"]
        assert lead_people == leads_created == truth["duplicates"]["lead_people"]
        assert (
            con.execute("select count(*) from marts.fct_touchpoints where channel = 'other'").fetchone()[0]
            < expected["touchpoints"] * 0.05
        )
        columns = {r[0] for r in con.execute("select column_name from information_schema.columns").fetchall()}
        assert not {"email", "phone", "first_name", "last_name"} & columns, "PII reached the serving file"
    report = (data / "report" / "index.html").read_text()
    # every page of the report is drawn from the published marts, none with a missing table or a broken section
    assert "Attribution and ROI" in report and "Customers" in report and "Funnel" in report
    assert "is not in the serving file" not in report and "could not be drawn" not in report
    with duckdb.connect(str(data / "serving.duckdb"), read_only=True) as con:
        # every model hands out exactly the won revenue; Markov solved on the generated paths
        won = con.execute("select sum(value) from marts.fct_conversions where conversion_type = 'deal_won'").fetchone()[
            0
        ]
        credited = con.execute(
            "select model, sum(attributed_value) from marts.fct_attribution"
            " where conversion_type = 'deal_won' group by model"
        ).fetchall()
        assert len(credited) == 12 and all(abs(total - won) < 1e-6 * won for _, total in credited)
        assert (
            con.execute(
                "select count(*) from marts.mart_markov_removal_effects where period = 'all' and removal_effect > 0"
            ).fetchone()[0]
            > 5
        )
    # the generated delivery is clean: the gate passes every rule and quarantines nothing
    with duckdb.connect(str(data / "serving.duckdb"), read_only=True) as con:
        assert con.execute("select status, rows_quarantined from quality.runs").fetchall() == [("passed", 0)]
        failed = con.execute("select dataset, rule from quality.results where not passed").fetchall()
        assert failed == [], failed
        rules = con.execute("select count(*) from quality.results").fetchone()[0]
        fresh = con.execute(
            "select count(*) from quality.results where rule = 'source_freshness' and passed"
        ).fetchone()[0]
        # recorded by the marts build from its dbt test of the same sums: every conversion under the 12 models
        credit = con.execute("select rows_checked from quality.results where rule = 'credit_conservation'").fetchall()
        conversions = con.execute("select count(*) from marts.fct_conversions").fetchone()[0]
    assert credit == [(conversions * 12,)]
    assert fresh == 8  # every delivered raw source but erasure requests, which are never late
    # and the duplicate-contact rate and the credit conservation of fct_attribution
    assert rules == sum(len(d.rules) for d in DATASETS) + 1 + fresh + 1
    assert (data / "quality" / "docs" / "index.html").exists()
    quality = {"quality_runs.parquet", "quality_results.parquet", "quality_quarantine.parquet"}
    assert {p.name for p in (data / "exports").glob("*.parquet")} >= {
        m.split(".")[1] + ".parquet" for m in MARTS
    } | quality
    workspace["first"] = snapshot(data / "serving.duckdb")


def test_same_files_again_change_nothing(workspace):
    serving = workspace["data"] / "serving.duckdb"
    inode = serving.stat().st_ino
    result = closedloop("run", *workspace["args"])
    assert result.returncode == 0, result.stderr
    assert "nothing new since the published night" in result.stdout and "nothing rebuilt" in result.stdout
    assert serving.stat().st_ino == inode, "a night with nothing new republished"
    assert snapshot(serving) == workspace["first"]
    # a reader that stops after the first line ends the command quietly
    piped = subprocess.run(
        f"{shlex.join([CLOSEDLOOP, 'run', *workspace['args']])} | head -1", shell=True, capture_output=True, text=True
    )
    assert piped.stdout.startswith("closedloop run: nothing new") and "Traceback" not in piped.stderr
    # --force runs the whole night anyway: every file was loaded before, and the marts come out the same
    dbt_log = workspace["data"] / "logs" / "dbt.log"
    full_parses = dbt_log.read_text(errors="replace").count("Starting full parse") + dbt_log.read_text(
        errors="replace"
    ).count("profile has changed")
    forced = closedloop("run", "--force", *workspace["args"])
    assert forced.returncode == 0, forced.stderr
    assert "every landing file was loaded before" in forced.stdout
    assert serving.stat().st_ino != inode and snapshot(serving) == workspace["first"]
    # the data dir keeps its own dbt parse cache: no invocation of the second night parses the project again
    text = dbt_log.read_text(errors="replace")
    assert text.count("Starting full parse") + text.count("profile has changed") == full_parses
    # models build two at a time by default (CLOSEDLOOP_DBT_THREADS): each DuckDB query uses every core already
    assert "Concurrency: 2 threads (target='duckdb')" in text


def test_the_schedule_skips_a_night_with_nothing_new(workspace, monkeypatch):
    import dagster as dg

    from orchestration.defs.automation.jobs import nightly_schedule

    monkeypatch.setenv("CLOSEDLOOP_DATA_DIR", str(workspace["data"]))
    monkeypatch.setenv("CLOSEDLOOP_LANDING_DIR", str(workspace["landing"]))
    skipped = nightly_schedule(dg.build_schedule_context())
    assert isinstance(skipped, dg.SkipReason) and "nothing new" in skipped.skip_message
    late = workspace["landing"] / "touchpoints" / "touchpoints_late.csv"
    late.write_text(next((workspace["landing"] / "touchpoints").glob("*.csv")).read_text().splitlines()[0] + "\n")
    try:
        assert isinstance(nightly_schedule(dg.build_schedule_context()), dg.RunRequest)
    finally:
        late.unlink()


def test_malformed_file_is_refused_and_the_marts_untouched(workspace):
    serving = workspace["data"] / "serving.duckdb"
    bad = workspace["landing"] / "touchpoints" / "touchpoints_broken.csv"
    header = (workspace["landing"] / "touchpoints").glob("*.csv").__next__().read_text().splitlines()[0]
    width = header.count(",") + 1
    bad.write_text(
        f"{header}\n"
        + ",".join(["tX1", "2026-10-01T10:00:00Z", "anon"] + [""] * (width - 3))
        + "\n"
        + ",".join(["tX2"] + [""] * (width - 1) + ["stray"])
        + "\n"
    )
    result = closedloop("run", *workspace["args"])
    assert result.returncode == 1, result.stdout + result.stderr
    assert "touchpoints_broken.csv, line 3" in " ".join(result.stderr.split()) and "fields" in result.stderr
    assert "the marts were not refreshed" in result.stderr
    assert snapshot(serving) == workspace["first"]
    bad.unlink()


def test_new_day_loads_incrementally_while_a_reader_holds_the_old_file(workspace):
    data, landing = workspace["data"], workspace["landing"]
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        old_loaded = con.execute(
            "select min(loaded_at), max(loaded_at), count(*) from marts.fct_touchpoints"
        ).fetchone()
    header = next((landing / "touchpoints").glob("*.csv")).read_text().splitlines()[0].split(",")
    new_rows = []
    for i in range(5):
        row = dict.fromkeys(header, "")
        row.update(
            touchpoint_id=f"new-{i}",
            occurred_at="2026-10-31T12:00:00Z",
            anonymous_id=f"anon-new-{i}",
            touchpoint_type="page_view",
            page_url="https://www.example-shop.com/?utm_source=newsletter&utm_medium=email&utm_campaign=late",
        )
        new_rows.append(",".join(row[c] for c in header))
    (landing / "touchpoints" / "touchpoints_new_day.csv").write_text(
        ",".join(header) + "\n" + "\n".join(new_rows) + "\n"
    )

    reader = duckdb.connect(str(data / "serving.duckdb"), read_only=True)
    try:
        result = closedloop("run", *workspace["args"])
        assert result.returncode == 0, result.stderr
        # the reader opened before the publish still sees the old, whole file
        assert reader.execute("select count(*) from marts.fct_touchpoints").fetchone()[0] == old_loaded[2]
    finally:
        reader.close()
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        first_loaded, count = con.execute(
            "select min(loaded_at), count(*) from marts.fct_touchpoints where touchpoint_id not like 'new-%'"
        ).fetchone()
        new = con.execute(
            "select count(*), min(channel) from marts.fct_touchpoints where touchpoint_id like 'new-%'"
        ).fetchone()
    assert (first_loaded, count) == (old_loaded[0], old_loaded[2]), "old rows were rebuilt, not kept"
    assert new == (5, "email")
    with duckdb.connect(str(data / "serving.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from marts.fct_touchpoints").fetchone()[0] == old_loaded[2] + 5


def test_missing_landing_directory_is_a_usage_error(tmp_path):
    result = closedloop("run", "--landing", str(tmp_path / "nope"), "--data-dir", str(tmp_path / "data"))
    assert result.returncode == 2
    assert "nope" in result.stderr and "does not exist" in result.stderr


def test_a_second_writer_is_turned_away(tmp_path):
    (tmp_path / "landing").mkdir()
    with exclusive_lock(tmp_path / "data" / ".closedloop.lock"):
        result = closedloop("run", "--landing", str(tmp_path / "landing"), "--data-dir", str(tmp_path / "data"))
    assert result.returncode == 2 and "one writer at a time" in result.stderr


def test_missing_required_source_is_refused(tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(Path(__file__).parents[1] / "fixtures" / "landing_small", landing)
    shutil.rmtree(landing / "deals")
    result = closedloop("run", "--landing", str(landing), "--data-dir", str(tmp_path / "data"))
    assert result.returncode == 1
    assert "required source deals" in result.stderr
    # no marts were ever published; the refused night is on record for analysts
    with duckdb.connect(str(tmp_path / "data" / "serving.duckdb"), read_only=True) as con:
        schemas = {r[0] for r in con.execute("select distinct table_schema from information_schema.tables").fetchall()}
        status, reason = con.execute("select status, blocking_reason from quality.runs").fetchone()
    assert schemas == {"quality"}
    assert status == "refused" and "required source deals" in reason
