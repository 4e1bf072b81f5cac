"""The report renders in a real headless Chromium, offline, with its charts and the row-count table."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from browser import CHROMIUM, chromium

from orchestration.lib.report import write_report

pytestmark = pytest.mark.browser

RUN_SUMMARY = {
    "run_id": "run-2026-11-25",
    "finished_at": "2026-11-25T02:00:13Z",
    "rows_loaded": {"touchpoints": 48, "leads": 20, "deals": 30},
    "marts": ["fct_touchpoints", "fct_conversions", "dim_campaigns"],
}


def build_serving(path: Path) -> None:
    """A tiny serving file: three marts and the overview's two rpt models, a few dozen rows each."""
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema marts")
        con.execute(
            """
            create table marts.fct_touchpoints as
            select 'tp-' || i as touchpoint_id,
                   timestamp '2026-05-03 10:00:00' + i * interval 4 day as occurred_at,
                   ['paid_search', 'email', 'organic_search', 'direct', 'paid_social', 'referral'][1 + i % 6]
                       as channel
            from range(48) as t(i)
            """
        )
        con.execute(
            """
            create table marts.fct_conversions as
            select 'cv-' || i as conversion_id,
                   case i % 3 when 0 then 'deal_won' when 1 then 'opportunity_created' else 'deal_lost' end
                       as conversion_type,
                   timestamp '2026-05-10 09:00:00' + i * interval 6 day as converted_at,
                   1000.0 + 250 * i as value,
                   ['paid_search', 'email', 'events', 'webinar partner'][1 + i % 4] as source_channel
            from range(30) as t(i)
            """
        )
        con.execute(
            """
            create table marts.dim_campaigns as
            select 'cmp-' || i as campaign_id,
                   ['google', 'newsletter', 'linkedin'][1 + i % 3] as utm_source,
                   ['cpc', 'email', 'paid_social'][1 + i % 3] as utm_medium,
                   case when i = 0 then '<script>alert(1)</script>' else 'campaign_' || i end as utm_campaign,
                   ['paid_search', 'email', 'paid_social'][1 + i % 3] as channel,
                   (100 - i * 5)::bigint as touchpoints,
                   case when i = 3 then null else 1234.5 * i end as spend
            from range(18) as t(i)
            """
        )
        # the overview's models, as dbt builds them from marts like these: 7 months × 6 channels, 6 × 4
        con.execute(
            """
            create table marts.rpt_touchpoints_by_month as
            select date '2026-05-01' + to_months(m) as month,
                   ['paid_search', 'email', 'organic_search', 'direct', 'paid_social', 'referral'][1 + c] as channel,
                   (1 + (m + c) % 3)::bigint as touchpoints
            from range(7) as months(m), range(6) as channels(c)
            """
        )
        con.execute(
            """
            create table marts.rpt_won_revenue_by_month as
            select date '2026-05-01' + to_months(m) as month,
                   ['paid_search', 'email', 'events', 'webinar partner'][1 + c] as source_channel,
                   1000.0 + 250 * (m + c) as won_revenue,
                   1::bigint as won_deals
            from range(6) as months(m), range(4) as channels(c)
            """
        )
    finally:
        con.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("report")
    serving = root / "serving.duckdb"
    build_serving(serving)
    return write_report(serving, root / "out" / "report" / "index.html", RUN_SUMMARY)


def test_report_is_self_contained(report: Path) -> None:
    text = report.read_text(encoding="utf-8")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", text, re.IGNORECASE)
    assert not re.search(r"url\(\s*['\"]?\s*(?:https?:)?//|@import", text, re.IGNORECASE)
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_report_renders_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is absent (install it with: apt-get install -y chromium)")
    url = report.resolve().as_uri()

    dumped = chromium(["--dump-dom", url], tmp_path / "profile-dom")
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = dumped.stdout
    # the charts, drawn inline, survived the HTML parser
    assert dom.count('class="chart-svg"') >= 2
    assert dom.count('class="bar"') > 20
    assert "Touchpoints per month, stacked by channel" in dom
    assert "Won revenue per month" in dom
    # the row-count table lists every mart with its count
    assert 'id="overview-row-counts"' in dom
    for table, rows in (("fct_touchpoints", 48), ("fct_conversions", 30), ("dim_campaigns", 18)):
        assert re.search(rf"marts\.{table}</code></td><td class=\"num\">{rows}</td>", dom), table
    assert "run-2026-11-25" in dom
    # a channel has the same colour on both charts and in the campaign table
    assert dom.count('fill="#0072B2" data-x=') > 5 and "background:#0072B2" in dom

    shot = tmp_path / "shot.png"
    taken = chromium([f"--screenshot={shot}", "--window-size=1280,2000", url], tmp_path / "profile-shot")
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.exists()
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 30_000  # a blank page compresses to a few kB


def test_a_refused_night_shows_a_banner_above_the_last_good_marts(tmp_path: Path) -> None:
    serving = tmp_path / "serving.duckdb"
    build_serving(serving)
    with duckdb.connect(str(serving)) as con:
        con.execute("create schema quality")
        con.execute(
            "create table quality.runs as select * from (values"
            " ('run-good', timestamp '2026-11-24 02:00', 'passed', null),"
            " ('run-bad', timestamp '2026-11-25 02:00', 'blocked',"
            "  'dataset touchpoints: 20 of 200 rows (10.0%) break a row rule <b>x</b>'))"
            " t(run_id, started_at, status, blocking_reason)"
        )
        con.execute(
            "create table quality.results as select * from (values"
            " ('run-bad', 'touchpoints', 'touchpoint_type_accepted_values', 'error', false, 20, 200, 'NEW-1, NEW-2'))"
            " t(run_id, dataset, rule, severity, passed, failing_rows, rows_checked, sample_keys)"
        )
    report = write_report(serving, tmp_path / "report" / "index.html")
    assert "<b>x</b>" not in report.read_text()
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is absent (install it with: apt-get install -y chromium)")
    dom = chromium(["--dump-dom", report.resolve().as_uri()], tmp_path / "profile").stdout
    banner = dom[dom.index('id="refused-run"') :]
    banner = banner[: banner.index("</section>")]
    assert "Last night was blocked: run run-bad" in banner
    assert "touchpoints.touchpoint_type_accepted_values" in banner and "NEW-1, NEW-2" in banner
    assert dom.index('id="refused-run"') < dom.index('id="overview-row-counts"'), "the banner is not on top"
