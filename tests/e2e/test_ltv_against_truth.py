"""End to end: the published LTV per paid channel against the value the generator planted (ground_truth.json),
on the 5,000-lead sample of `make run` (seed 42): `closedloop run` as a user runs it.

Tolerance: the generator plants no channel effect on value, so a channel's realised mean strays from the
expectation by about cv ÷ √customers (cv: the per-customer spread of the won deal's margin, in the ground truth).
A channel must land within max(20 %, 3 × cv ÷ √customers) of the truth; the won deal's margin, which the warehouse
cannot see, is taken at the default 0.7 where the truth uses the product's (≈ 0.76), a bias of about −8 %.
"""

import json
import math

import duckdb
import pytest
from commands import closedloop

from orchestration.lib.generate import generate_landing

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    root = tmp_path_factory.mktemp("ltv_truth")
    landing, data = root / "landing", root / "data"
    generate_landing(landing, leads=5000, seed=42)
    result = closedloop("run", "--landing", str(landing), "--data-dir", str(data))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    truth = json.loads((landing / "ground_truth.json").read_text())["customer_value"]
    with duckdb.connect(str(data / "serving.duckdb"), read_only=True) as con:
        rows = con.execute("select * from marts.mart_ltv_segments").df()
        fit = con.execute("select * from marts.mart_clv_model").df()
    return {"truth": truth, "rows": rows, "fit": fit, "stdout": result.stdout}


def channel_rows(published):
    rows = published["rows"]
    channels = rows[
        (rows.segment_type == "acquisition_channel") & rows.segment_value.isin(published["truth"]["paid_channels"])
    ]
    return channels.set_index("segment_value")


def test_every_paid_channel_has_a_customer_and_a_row(published):
    assert set(channel_rows(published).index) == set(published["truth"]["paid_channels"])


@pytest.mark.parametrize("channel", ["all", "paid_search", "paid_social", "display", "affiliate"])
def test_published_ltv_lands_near_the_planted_value(published, channel):
    rows, truth = published["rows"], published["truth"]
    row = rows[
        (rows.segment_type == "overall")
        if channel == "all"
        else (rows.segment_type == "acquisition_channel") & (rows.segment_value == channel)
    ].iloc[0]
    expected = truth["expected_discounted_gross_margin"]
    tolerance = max(0.20, 3 * truth["deal_gross_margin_cv"] / math.sqrt(row.customers))
    assert abs(row.ltv_3y - expected) <= tolerance * expected, (
        f"{channel}: published {row.ltv_3y:.0f}, true {expected:.0f}, {row.customers} customers, "
        f"tolerance {tolerance:.0%}"
    )


def test_every_paid_channel_has_a_plausible_ratio_band_and_benchmark(published):
    for channel, row in channel_rows(published).iterrows():
        assert row.cac_basis == "channel" and row.cac > 0, channel
        assert row.ltv_to_cac is not None and 0.1 < row.ltv_to_cac < 100, (channel, row.ltv_to_cac)
        assert row.ltv_to_cac_band in ("losing_money", "risky", "healthy", "room_to_invest"), channel
        assert row.benchmark_ltv_to_cac > 0 and row.confidence in ("ok", "low"), channel


def test_unpaid_channels_say_so_and_the_projection_reaches_h_years(published):
    rows = published["rows"]
    unpaid = rows[(rows.segment_type == "acquisition_channel") & (rows.cac_basis == "no_paid_cost")]
    assert len(unpaid) and set(unpaid.ltv_to_cac_band) == {"no_paid_cost"}
    overall = rows[rows.segment_type == "overall"].iloc[0]
    truth = published["truth"]
    # year 3 lies wholly beyond a year of data: it is the model's projection, near the planted repeat revenue
    assert overall.revenue_per_customer_year_3 == pytest.approx(truth["expected_revenue_by_year"][2], rel=0.5)
    assert overall.monthly_churn > 0 and overall.expected_lifetime_months < 177  # not the 9-month-rule's 177


def test_the_fit_is_published_and_the_run_prints_ltv_beside_the_truth(published):
    fit = published["fit"]
    assert set(fit.model) == {"bgnbd", "gamma_gamma"} and fit.value.notna().all()
    assert (
        fit[fit.model == "bgnbd"].customers_used.iloc[0]
        == published["rows"].query("segment_type == 'overall'").customers.iloc[0]
    )
    assert "against the generator's truth" in published["stdout"]
    for channel in published["truth"]["paid_channels"]:
        assert f"    {channel} " in published["stdout"]
