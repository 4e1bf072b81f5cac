"""The funnel page of the report and its funnel chart, on a real DuckDB file holding the page's small rpt models."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import duckdb
import pytest

from orchestration.lib.report.charts import funnel_chart
from orchestration.lib.report.funnel import FUNNEL
from orchestration.lib.report.pages import render_page

STAGES = [("lead", 500), ("mql", 300), ("sql", 120), ("opportunity", 0), ("won", 0)]


def test_funnel_bars_are_proportional_centred_and_show_the_step_conversion() -> None:
    figure = ET.fromstring(funnel_chart(STAGES, title="Funnel"))
    rects = figure.findall(".//rect[@class='bar']")
    widths = [float(r.get("width")) for r in rects]
    assert widths[1] / widths[0] == pytest.approx(0.6, abs=0.01)
    assert widths[2] / widths[0] == pytest.approx(0.24, abs=0.01)
    assert widths[3] == 0
    centres = {round(float(r.get("x")) + float(r.get("width")) / 2, 1) for r in rects}
    assert len(centres) == 1
    tooltips = [r.find("title").text for r in rects]
    assert tooltips[:3] == ["lead: 500", "mql: 300 · 60.0% of lead", "sql: 120 · 40.0% of mql"]
    # after a stage nobody reached there is no rate, not a division by zero
    assert tooltips[4] == "won: 0"
    cells = [[c.text for c in row] for row in figure.findall(".//tbody/tr")]
    assert cells[1] == ["mql", "300", "60.0%"]


def test_an_empty_funnel_says_so() -> None:
    assert "No leads yet." in funnel_chart([("lead", 0)], title="Funnel", empty_note="No leads yet.")


@pytest.fixture
def serving(tmp_path):
    path = tmp_path / "serving.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        # what the funnel models (dbt_project/models/marts/report/, unit-tested there) make of a small funnel:
        # email 10 → 6 → 3 → 2 → 1, events 4 → 1
        con.execute(
            "create table marts.rpt_funnel_stages as select * from (values"
            " (1, 'lead', 14), (2, 'mql', 7), (3, 'sql', 3), (4, 'opportunity', 2), (8, 'won', 1))"
            " as t (stage_order, stage, reached)"
        )
        con.execute(
            "create table marts.rpt_funnel_by_channel as select * from (values"
            " ('email', 10, 0.6, 0.5, 2 / 3, 0.5, 0.1), ('events', 4, 0.25, 0.0, null, null, 0.0))"
            " as t (source_channel, leads, lead_to_mql_rate, mql_to_sql_rate, sql_to_opportunity_rate,"
            " opportunity_to_won_rate, lead_to_won_rate)"
        )
        con.execute(
            "create table marts.rpt_lead_sla as select * from (values"
            " ('owner', 'alice', 7, 2, 1), ('owner', 'bert', 1, 4, 0),"
            " ('source_channel', 'email', 6, 6, 1), ('source_channel', 'events', 2, 0, 0))"
            " as t (breakdown, breakdown_value, sla_met, sla_missed, sla_pending)"
        )
        con.execute(
            "create table marts.rpt_loss_reasons as select * from (values"
            " ('price', 2, 900.0), ('competitor', 1, 4000.0)) as t (loss_reason, lost_deals, lost_value)"
        )
        con.execute(
            "create table marts.rpt_loss_reason_groups as select * from (values"
            " ('price', 'email', 'crm', 2, 900.0), ('competitor', 'events', 'crm', 1, 4000.0))"
            " as t (loss_reason, source_channel, product, lost_deals, lost_value)"
        )
    with duckdb.connect(str(path), read_only=True) as con:
        yield con


def test_the_funnel_page_draws_every_section_from_its_models(serving) -> None:
    page = ET.fromstring(render_page(FUNNEL, serving))
    text = "".join(page.itertext())
    funnel = page.find(".//section[@id='funnel-stages']")
    assert [r.get("data-value") for r in funnel.findall(".//rect[@class='bar']")] == [
        "14.0",
        "7.0",
        "3.0",
        "2.0",
        "1.0",
    ]
    assert "14 people with a lead; 1 won (7.1% of leads)" in text
    channel_rows = page.findall(".//section[@id='funnel-by-channel']//tbody/tr")
    by_channel = [["".join(cell.itertext()) for cell in row] for row in channel_rows]
    assert by_channel[0][:4] == ["email", "10", "60.0%", "50.0%"]
    owner = page.find(".//section[@id='funnel-sla-owner']")
    assert "8 leads met both SLAs and 6 missed one (57.1% met)" in "".join(owner.itertext())
    met = {
        r.get("data-x"): float(r.get("data-value"))
        for r in owner.findall(".//rect[@class='bar']")
        if r.get("data-category") == "met"
    }
    assert met == {"alice": 7.0, "bert": 1.0}
    loss = page.find(".//section[@id='funnel-loss-reasons']")
    assert [r.get("data-label") for r in loss.findall(".//rect[@class='bar']")] == ["competitor", "price"]
    # the one mart not published is a note on its card, not a broken page
    assert "marts.mart_stage_velocity is not in the serving file" in text
