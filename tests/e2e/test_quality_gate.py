"""End to end: the quality gate as a user meets it, one scenario in order, on a generated landing zone.

a delivery with a handful of bad rows publishes with those rows quarantined → 10 % bad touchpoints block the
run (exit 1, one paragraph, the published marts unchanged, the blocked run in serving's quality tables and the
report's banner; some of the rejected values are HTML) → everything analysts open is escaped: the rejected values
reach the Data Docs encoded, and a headless Chromium opens every HTML page under the data dir and finds that none of
the planted scripts ran → the Data Docs keep every run, and the results say since when a rule fails → a suite that
evaluates fewer expectations than it declares fails. (A clean delivery passing the gate is the first run of
test_nightly_run.)
"""

import csv
import html
import json
import re
from pathlib import Path

import duckdb
import pytest
from browser import CHROMIUM, chromium
from commands import closedloop

from orchestration.lib.generate import generate_landing
from orchestration.lib.quality import warehouse_url
from orchestration.lib.quality.gate import run_gate
from orchestration.lib.quality.rules import Dataset, Rule
from orchestration.settings import load_settings

pytestmark = pytest.mark.slow

# rejected values that are HTML; staging lowercases `touchpoint_type`, so each script, if it ran, would rename its
# page in lower case (not alert(): a dialog would stall the headless page instead of telling)
PAYLOADS = (
    "<script>document.title='xss-script'</script>",
    '"><img src=x onerror="document.title=\'xss-img\'">',
    "<svg onload=document.title='xss-svg'>",
)
# a page of ours frames each page and reads back its title once it has loaded
HARNESS = """<!DOCTYPE html><html><head><title>harness</title></head><body><pre id="out"></pre><script>
const urls = URLS, out = document.getElementById('out');
let left = urls.length;
for (const url of urls) {
  const frame = document.createElement('iframe');
  frame.src = url;
  frame.onload = () => {
    out.textContent += JSON.stringify([url, frame.contentDocument.title]) + '\\n';
    if (--left === 0) out.setAttribute('data-done', '1');
  };
  document.body.appendChild(frame);
}
</script></body></html>"""


def published_marts(path: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as con:
        names = [
            n
            for (n,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        return {n: con.execute(f"select * from marts.{n} order by all").fetchall() for n in names}


def query(path: Path, sql: str, params=()) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def write_csv(path: Path, header: list[str], rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)


def read_csv(path: Path) -> tuple[list[str], list[dict]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames), list(reader)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("gate")
    landing, data = root / "landing", root / "data"
    generate_landing(landing, leads=300, days=60, seed=5)
    return {"landing": landing, "data": data, "args": ["--landing", str(landing), "--data-dir", str(data)]}


def test_a_handful_of_bad_rows_publish_with_those_rows_quarantined(workspace):
    landing, data = workspace["landing"], workspace["data"]
    header, leads = read_csv(sorted((landing / "leads").glob("*.csv"))[0])
    bad = [dict(lead, lead_id=f"BAD-LEAD-{i}", owner="") for i, lead in enumerate(leads[:3])]
    write_csv(landing / "leads" / "leads_without_owner.csv", header, bad)

    result = closedloop("run", *workspace["args"])
    assert result.returncode == 0, result.stderr
    serving = data / "serving.duckdb"
    assert query(serving, "select status, rows_quarantined from quality.runs") == [("passed", 3)]
    assert (data / "exports" / "quality_quarantine.parquet").exists()
    quarantined = query(
        serving, "select record_key, rule from quality.quarantine where dataset = 'leads' order by record_key"
    )
    assert quarantined == [(f"BAD-LEAD-{i}", "owner_required") for i in range(3)]
    for (table,) in query(
        serving,
        "select table_name from information_schema.columns where table_schema = 'marts' and column_name = 'lead_id'",
    ):
        assert query(serving, f"select count(*) from marts.{table} where lead_id like 'BAD-LEAD-%'") == [(0,)], table
    finding = query(
        serving,
        "select failing_rows, sample_keys from quality.results where dataset = 'leads' and rule = 'owner_required'"
        " and run_id = (select run_id from quality.runs order by started_at desc limit 1)",
    )
    assert finding == [(3, "BAD-LEAD-0, BAD-LEAD-1, BAD-LEAD-2")]
    report = (data / "report" / "index.html").read_text()
    quality_page = report[report.index('id="quality-last-run"') :]
    assert "owner_required" in quality_page and "BAD-LEAD-0, BAD-LEAD-1, BAD-LEAD-2" in quality_page


def test_ten_percent_bad_touchpoints_block_the_run_and_the_marts_stay_as_they_were(workspace):
    landing, data = workspace["landing"], workspace["data"]
    before = published_marts(data / "serving.duckdb")
    header, touchpoints = read_csv(sorted((landing / "touchpoints").glob("*.csv"))[-1])
    fresh = [dict(t, touchpoint_id=f"NEW-{i:05d}") for i, t in enumerate(touchpoints[:200])]
    for i, row in enumerate(fresh[:20]):
        row["touchpoint_type"] = PAYLOADS[i] if i < len(PAYLOADS) else "carrier_pigeon"
    write_csv(landing / "touchpoints" / "touchpoints_replay.csv", header, fresh)
    deal_header, deals = read_csv(sorted((landing / "deals").glob("*.csv"))[0])
    lost = [dict(deals[0], deal_id=f"DX{i}", outcome="lost", loss_reason=p) for i, p in enumerate(PAYLOADS)]
    write_csv(landing / "deals" / "deals_replay.csv", deal_header, lost)

    result = closedloop("run", *workspace["args"])
    assert result.returncode == 1, result.stdout + result.stderr
    message = result.stderr
    assert "quality gate blocked the run" in message
    assert "touchpoints" in message and "touchpoint_type_accepted_values" in message
    assert "20 of 200 rows" in message and "NEW-00000" in message
    assert str(data / "quality" / "docs" / "index.html") in message.replace("\n  ", " ").replace("\n", " ")
    assert published_marts(data / "serving.duckdb") == before
    blocked = query(data / "warehouse.duckdb", "select status from quality.runs order by started_at")
    assert [s for (s,) in blocked] == ["passed", "blocked"]
    # analysts see the blocked night where they look: serving's quality tables and the report's banner
    published = query(data / "serving.duckdb", "select status from quality.runs order by started_at")
    assert published == blocked
    failing = query(
        data / "serving.duckdb",
        "select rule, failing_rows from quality.results where not passed"
        " and run_id = (select run_id from quality.runs order by started_at desc limit 1)"
        " and severity = 'error'",
    )
    assert ("touchpoint_type_accepted_values", 20) in failing
    banner = (data / "report" / "index.html").read_text()
    banner = banner[banner.index('id="refused-run"') : banner.index("</section>", banner.index('id="refused-run"'))]
    assert "blocked" in banner and "touchpoint_type_accepted_values" in banner and "NEW-00000" in banner


def html_pages(data: Path) -> list[Path]:
    return sorted(data.rglob("*.html"))


def test_the_rejected_values_reach_the_data_docs_encoded(workspace):
    docs = [p for p in html_pages(workspace["data"]) if "validations" in p.parts]
    assert docs, "no validation pages were rendered"
    text = "\n".join(p.read_text(encoding="utf-8") for p in docs)
    assert "xss-script" in text and "xss-img" in text  # the values are shown …
    for payload in ("<script>document.title", "<img src=x", "<svg onload"):
        assert payload not in text  # … but never as markup


@pytest.mark.browser
def test_no_planted_script_runs_on_any_page_under_the_data_dir(workspace, tmp_path):
    if not CHROMIUM.exists():
        pytest.fail("/usr/bin/chromium is absent (install it with: apt-get install -y chromium)")
    found = html_pages(workspace["data"])
    assert any("validations" in p.parts for p in found)
    assert workspace["data"] / "quality" / "docs" / "index.html" in found
    # one browser for every page (file pages may read each other with --allow-file-access-from-files)
    urls = [p.resolve().as_uri() for p in found]
    harness = tmp_path / "harness.html"
    harness.write_text(HARNESS.replace("URLS", json.dumps(urls)), encoding="utf-8")
    dumped = chromium(["--allow-file-access-from-files", "--dump-dom", harness.as_uri()], tmp_path / "profile")
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    assert 'data-done="1"' in dumped.stdout, dumped.stdout[-2000:]
    out = re.search(r'<pre id="out"[^>]*>(.*?)</pre>', dumped.stdout, re.S).group(1)
    titles = dict(json.loads(line) for line in html.unescape(out).splitlines())
    assert sorted(titles) == sorted(urls)
    ran = {url: title for url, title in titles.items() if "xss" in title}
    assert ran == {}, f"planted scripts ran: {ran}"


def test_results_say_since_when_a_rule_fails(workspace):
    rows = query(
        workspace["data"] / "warehouse.duckdb",
        "select results.rule, runs.status, results.failing_since = first_value(runs.started_at) over"
        " (partition by results.rule order by runs.started_at), results.failing_since = runs.started_at"
        " from quality.results join quality.runs using (run_id)"
        " where results.rule in ('owner_required', 'touchpoint_type_accepted_values') and not results.passed"
        " order by results.rule, runs.started_at",
    )
    # the bad leads keep failing from the run that brought them; the bad touchpoints start failing in the last run
    assert rows == [
        ("owner_required", "passed", True, True),
        ("owner_required", "blocked", True, False),
        ("touchpoint_type_accepted_values", "blocked", True, True),
    ]


def test_data_docs_keep_every_run(workspace):
    data = workspace["data"]
    run_ids = [r for (r,) in query(data / "warehouse.duckdb", "select run_id from quality.runs")]
    index = (data / "quality" / "docs" / "index.html").read_text()
    assert all(run_id in index for run_id in run_ids), "a run is missing from the Data Docs index"


def test_a_suite_that_evaluates_less_than_it_declares_fails(workspace):
    settings = load_settings(workspace["landing"], workspace["data"])
    broken = Dataset("leads", "lead_id", (Rule("no_such_column_required", "not_null", "no_such_column"),))
    outcome = run_gate(warehouse_url(settings), settings.quality_dir, "broken-suite", 0.02, datasets=(broken,))
    assert not outcome.passed
    assert "evaluated 0 of its 1 expectations" in outcome.blocking_reason
