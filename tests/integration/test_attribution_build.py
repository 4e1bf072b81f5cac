"""Attribution on a real warehouse: the nightly job's steps in order (dbt staging, identity resolution, dbt
intermediate, the Markov/Shapley step, dbt marts) on tests/fixtures/landing_attribution, whose people are built
so that docs/attribution.md's reference values can be read off marts.fct_attribution."""

import shutil
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dbt_runs import dbt

from orchestration.defs.attribution.assets import attribution_models
from orchestration.defs.identity.assets import identity_people
from orchestration.defs.resources import ClosedloopSettings
from orchestration.lib.contract import CONTRACTS
from orchestration.lib.landing import discover, ensure_raw_tables, load_source
from orchestration.lib.markov import removal_effects

FIXTURE = Path(__file__).parents[1] / "fixtures" / "landing_attribution"
# the second night: a new touch for d before their won deal; h's form fill links the anonymous visitor v2 to h; a's
# form fill (after their win) links the visitor v1, whose earlier touches join a's paths
NIGHT2 = Path(__file__).parents[1] / "fixtures" / "landing_attribution_night2"
STAGING = ["--select", "fqn:staging", "resource_type:seed", "tag:identity_graph"]
# the pipeline's selections (orchestration/defs/dbt/assets.py): intermediate models tagged after_python read what
# the Python steps or the marts write, so they build with the marts
INTERMEDIATE = [
    "--select",
    "fqn:intermediate",
    "resource_type:snapshot",
    "--exclude",
    "tag:identity_graph",
    "tag:after_python",
    "resource_type:unit_test",
]
MARTS = ["--select", "fqn:marts", "tag:after_python", "--exclude", "resource_type:unit_test"]
MODELS = 12


def dbt_build(data: Path, selection: list[str]) -> None:
    result = dbt(["build", *selection], data)
    assert result.success, result.message


def night(data: Path, landing: Path, loaded_at: datetime, quarantine: tuple[str, ...] = ()) -> Path:
    """Loads the landing files and runs the nightly job's steps in order on the warehouse in `data`; the
    `quarantine` touchpoints are quarantined as the gate would."""
    path = data / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        ensure_raw_tables(con)
        for source in CONTRACTS:
            load_source(con, source, discover(landing, source), run_id=landing.name, loaded_at=loaded_at)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CLOSEDLOOP_DATA_DIR", str(data))
        env.setenv("CLOSEDLOOP_DBT_TARGET", "duckdb")
        dbt_build(data, STAGING)
        with duckdb.connect(str(path)) as con:
            for touchpoint_id in quarantine:
                con.execute("insert into quality.quarantined_keys values ('touchpoints', ?)", [touchpoint_id])
        assert dg.materialize([identity_people], resources={"settings": ClosedloopSettings()}).success
        dbt_build(data, INTERMEDIATE)
        assert dg.materialize([attribution_models], resources={"settings": ClosedloopSettings()}).success
        dbt_build(data, MARTS)  # includes the nightly invariants (data_tests/singular/assert_attribution_*)
    return path


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    return night(tmp_path_factory.mktemp("attribution"), FIXTURE, datetime(2026, 7, 1))


@pytest.fixture(scope="module")
def second_night(warehouse, tmp_path_factory):
    """A copy of the first night's data dir, then the second night on it (incremental models pick up from there)."""
    data = tmp_path_factory.mktemp("attribution_night2")
    shutil.copytree(warehouse.parent, data, dirs_exist_ok=True)
    before = query(
        data / "warehouse.duckdb", "select distinct conversion_id, built_at from intermediate.int_conversion_touches"
    )
    people_before = query(data / "warehouse.duckdb", "select max(built_at) from intermediate.int_person_paths")[0][0]
    # c3, on c's won deal, is quarantined (as if a re-delivery broke it): the paths it was on must be rebuilt
    return night(data, NIGHT2, datetime(2026, 7, 2), quarantine=("c3",)), dict(before), people_before


def query(warehouse: Path, sql: str, params=()) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def credit(warehouse, deal_or_lead: str, model: str, conversion_type: str = "deal_won") -> dict:
    """touchpoint_id → attributed value (rounded to cents) of one conversion under one model."""
    rows = query(
        warehouse,
        "select touchpoint_id, attributed_value from marts.fct_attribution"
        " where coalesce(deal_id, lead_id) = ? and model = ? and conversion_type = ? order by touch_position",
        (deal_or_lead, model, conversion_type),
    )
    return {touch: round(value, 2) for touch, value in rows}


def test_time_decay_reference(warehouse):
    # 7-day half-life, touches 9, 6, 0 and 0 days before a 50 conversion (the two same-instant touches by id)
    assert credit(warehouse, "DA", "time_decay") == {"a4": 6.92, "a3": 9.32, "a1": 16.88, "a2": 16.88}


def test_u_shaped_linear_and_last_non_direct_reference(warehouse):
    # Direct > Organic_Search > Direct, revenue 140
    assert credit(warehouse, "DB", "position_based") == {"b1": 56, "b2": 28, "b3": 56}
    assert credit(warehouse, "DB", "linear") == {"b1": 46.67, "b2": 46.67, "b3": 46.67}
    assert credit(warehouse, "DB", "last_non_direct") == {"b1": 0, "b2": 140, "b3": 0}
    assert credit(warehouse, "DB", "first_touch") == {"b1": 140, "b2": 0, "b3": 0}
    assert credit(warehouse, "DB", "last_touch") == {"b1": 0, "b2": 0, "b3": 140}


def test_six_and_two_touch_shapes_reference(warehouse):
    six = ["c1", "c2", "c3", "c4", "c5", "c6"]
    assert credit(warehouse, "DC", "position_based") == dict(zip(six, [40, 5, 5, 5, 5, 40], strict=True))
    assert credit(warehouse, "DC", "j_shaped") == dict(zip(six, [20, 5, 5, 5, 5, 60], strict=True))
    assert credit(warehouse, "DC", "inverse_j") == dict(zip(six, [60, 5, 5, 5, 5, 20], strict=True))
    assert credit(warehouse, "DD", "j_shaped") == {"d1": 25, "d2": 75}
    assert credit(warehouse, "DD", "inverse_j") == {"d1": 75, "d2": 25}
    assert credit(warehouse, "DD", "position_based") == {"d1": 50, "d2": 50}


def test_milestone_models(warehouse):
    # e1 first, e2 lead creation, e4 opportunity, e5 closed; e3 holds no milestone
    assert credit(warehouse, "DE", "w_shaped") == {"e1": 30, "e2": 30, "e3": 5, "e4": 30, "e5": 5}
    assert credit(warehouse, "DE", "full_path") == {"e1": 22.5, "e2": 22.5, "e3": 10, "e4": 22.5, "e5": 22.5}
    # the opportunity's path ends at its creation: W-shaped, and full path is W-shaped until the deal closes
    opportunity = {"e1": 30, "e2": 30, "e3": 10, "e4": 30}
    assert credit(warehouse, "DE", "w_shaped", "opportunity_created") == opportunity
    assert credit(warehouse, "DE", "full_path", "opportunity_created") == opportunity
    # for a lead, both reduce to position_based
    assert credit(warehouse, "LE", "w_shaped", "lead_created") == {"e1": 0.5, "e2": 0.5}
    assert credit(warehouse, "LE", "full_path", "lead_created") == {"e1": 0.5, "e2": 0.5}


def test_milestone_weights_stack_and_the_remainder_goes_to_milestones(warehouse):
    # g1 is first and lead-creation touch (0.6), g2 opportunity and closed touch; no other touch takes the rest
    assert credit(warehouse, "DG", "w_shaped") == {"g1": 65, "g2": 35}
    assert credit(warehouse, "DG", "full_path") == {"g1": 50, "g2": 50}


def test_milestone_models_without_lead_or_opportunity_touches(warehouse):
    # b's touches all come after the lead and the deal's creation: only first (and closed) are milestones
    assert credit(warehouse, "DB", "w_shaped") == {"b1": 42, "b2": 49, "b3": 49}
    assert credit(warehouse, "DB", "full_path") == {"b1": 31.5, "b2": 77, "b3": 31.5}


def test_a_conversion_without_touches_gets_one_synthetic_direct_touch(warehouse):
    rows = query(
        warehouse,
        "select touchpoint_id, touch_position, path_length, channel, share from marts.fct_attribution"
        " where lead_id = 'LH' and conversion_type = 'lead_created'",
    )
    assert len(rows) == MODELS and set(rows) == {(None, 1, 1, "direct", 1.0)}


def test_lookback_is_inclusive_at_90_days(warehouse):
    assert set(credit(warehouse, "DI", "linear")) == {"i3", "i2"}  # 90 and 89 days before; i1 (91) is out


def test_counted_paths_collapse_repeats_and_include_visitors(warehouse):
    rows = dict(
        query(
            warehouse,
            "select channel_path, non_conversions from intermediate.int_attribution_paths_counted"
            " where conversion_type = 'lead_created' and non_conversions > 0",
        )
    )
    assert rows["email>paid_search"] == 1  # v1: email, email, paid_search
    assert rows["display"] == 1  # v2
    converting = query(
        warehouse,
        "select channel_path, channel_set from intermediate.int_attribution_paths_counted"
        " where conversion_type = 'deal_won' and channel_path like 'email>display>paid_search%'",
    )
    assert converting == [
        ("email>display>paid_search>organic_search>email>display", "display,email,organic_search,paid_search")
    ]


def test_markov_shares_come_from_the_exact_chain(warehouse):
    paths = query(
        warehouse,
        "select channel_path, conversions, non_conversions"
        " from intermediate.int_attribution_paths_counted where conversion_type = 'deal_won'",
    )
    result = removal_effects([(p.split(">"), c, n) for p, c, n in paths])
    expected = result.weights(["display", "email", "organic_search", "paid_search"])
    shares = dict(
        query(
            warehouse,
            "select touchpoint_id, share from marts.fct_attribution where deal_id = 'DC' and model = 'markov'",
        )
    )
    # a channel's share is split equally over its touches (email: c1 and c5; display: c2 and c6)
    assert shares["c1"] == pytest.approx(expected["email"] / 2) and shares["c5"] == shares["c1"]
    assert shares["c2"] == pytest.approx(expected["display"] / 2)
    assert shares["c3"] == pytest.approx(expected["paid_search"])
    effects = dict(
        query(
            warehouse,
            "select channel, removal_effect from marts.mart_markov_removal_effects"
            " where conversion_type = 'deal_won' and period = 'all'",
        )
    )
    assert effects == pytest.approx(result.removal_effects)


def test_shapley_shares_sum_to_one_per_conversion(warehouse):
    rows = query(
        warehouse,
        "select conversion_id, sum(share) from marts.fct_attribution where model = 'shapley' group by conversion_id",
    )
    assert rows and all(abs(total - 1) < 1e-9 for _, total in rows)


def test_channel_roi_has_spend_without_conversions_and_reconciles(warehouse):
    paid_social = query(
        warehouse,
        "select model, spend, attributed_leads, attributed_revenue, roas from"
        " marts.mart_channel_roi where channel = 'paid_social'",
    )
    assert len(paid_social) == MODELS and all(row[1:] == (300.0, 0.0, 0.0, 0.0) for row in paid_social)
    revenue = dict(query(warehouse, "select model, sum(attributed_revenue) from marts.mart_channel_roi group by model"))
    assert revenue == pytest.approx(dict.fromkeys(revenue, 690.0)) and len(revenue) == MODELS
    search = query(
        warehouse,
        "select spend, attributed_revenue, roas, roi, cac, attributed_new_customers"
        " from marts.mart_channel_roi where channel = 'paid_search' and model = 'last_touch'"
        " and month = date '2026-03-01'",
    )
    spend, revenue, roas, roi, cac, customers = search[0]
    assert spend == 200 and roas == pytest.approx(revenue / 200) and roi == pytest.approx((revenue * 0.7 - 200) / 200)
    assert cac == pytest.approx(200 / customers)


def test_second_night_rebuilds_only_the_paths_that_changed(second_night):
    path, built_before, _ = second_night
    rows = query(
        path,
        "select distinct conversions.conversion_type, coalesce(conversions.deal_id, conversions.lead_id),"
        " touches.conversion_id, touches.built_at from intermediate.int_conversion_touches as touches"
        " join intermediate.int_conversions as conversions using (conversion_id)",
    )
    rebuilt = {(kind, key) for kind, key, conversion, built in rows if built != built_before.get(conversion)}
    assert rebuilt == {("deal_won", "DD"), ("lead_created", "LH"), ("deal_won", "DA"), ("deal_won", "DC")}
    assert set(credit(path, "DC", "linear")) == {"c1", "c2", "c4", "c5", "c6"}
    # d0 joins DD's path: J-shaped over three touches
    assert credit(path, "DD", "j_shaped") == {"d0": 20, "d1": 20, "d2": 60}
    # the visitor's earlier touch now belongs to h, whose lead had no touch before
    assert credit(path, "LH", "linear", "lead_created") == {"v4": 0.5, "h1": 0.5}
    # v1's touches (1, 2 and 3 March) are now on a's won deal
    assert set(credit(path, "DA", "linear")) == {"v1", "v2", "v3", "a4", "a3", "a1", "a2"}
    # untouched conversions keep their credit
    assert credit(path, "DB", "position_based") == {"b1": 56, "b2": 28, "b3": 56}
    paths = dict(
        query(
            path,
            "select coalesce(c.deal_id, c.lead_id) || ':' || c.conversion_type, p.channel_path"
            " from intermediate.int_conversion_paths p join intermediate.int_conversions c using (conversion_id)",
        )
    )
    assert paths["DD:deal_won"] == "display>email>paid_search" and paths["LH:lead_created"] == "display>email"


def test_second_night_recounts_only_the_people_whose_touches_changed(second_night):
    path, _, first_build = second_night
    rebuilt = query(
        path, "select channel_path from intermediate.int_person_paths where built_at > ? order by 1", (first_build,)
    )
    # d (a new touch); h: the visitor's person takes in h's lead and email (its id, from the smallest identifier
    # anon:c-v2, stays), so its path gains h1; a, who takes in v1's touches; v1's person, merged away (no path);
    # c, who lost c3
    assert rebuilt == [
        ("display>email",),
        ("display>email>paid_search",),
        ("email>display>organic_search>email>display",),
        ("email>paid_search>display>email>organic_search>email",),
        (None,),
    ]
    counted = dict(
        query(
            path,
            "select channel_path, non_conversions from intermediate.int_attribution_paths_counted"
            " where conversion_type = 'lead_created'",
        )
    )
    assert "display" not in counted  # v2's lone display visit is now h's converting path


def test_the_nightly_invariants_catch_a_broken_fact(warehouse, tmp_path):
    """The singular tests fail when the attribution is off: a duplicated touch and a share that no longer sums to 1.
    They read fct_attribution_wide, whose rows fct_attribution and the serving file's view repeat once per model."""
    data = tmp_path / "broken"
    shutil.copytree(warehouse.parent, data)
    with duckdb.connect(str(data / "warehouse.duckdb")) as con:
        # a view on DuckDB: its rows become a table that can be broken (fct_attribution, a view over it, follows)
        con.execute("create table marts.wide_broken as from marts.fct_attribution_wide")
        con.execute("drop view marts.fct_attribution_wide cascade")
        con.execute("alter table marts.wide_broken rename to fct_attribution_wide")
        con.execute(
            "insert into marts.fct_attribution_wide select * from marts.fct_attribution_wide"
            " where deal_id = 'DC' and touch_position = 2"
        )
        con.execute("update marts.fct_attribution_wide set share_markov = share_markov * 2 where deal_id = 'DB'")
    result = dbt(["test", "--select", "assert_attribution_reconciles", "--store-failures"], data)
    assert not result.success and list(result.statuses.values()) == ["fail"], result.message
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        problems = set(con.execute("select problem from dbt_test__audit.assert_attribution_reconciles").fetchall())
    assert ("touches not numbered 1..path_length once each",) in problems
    assert ("shares do not sum to 1",) in problems


def test_the_serving_file_serves_attribution_as_views_over_the_rule_based_rows_and_the_weights(warehouse, tmp_path):
    """fct_attribution_wide is a view joining the stored rule-based rows with the night's Markov/Shapley weights,
    and fct_attribution a view unpivoting it: both give the rows, columns and types dbt built."""
    from orchestration.lib.publish import publish
    from orchestration.lib.serving_docs import TableDoc, docs_from_duckdb

    serving = tmp_path / "serving.duckdb"
    doc = TableDoc("One row per conversion × path touch × model.", {"attributed_value": "share × value."})
    published = publish(warehouse, serving, "run1", {"marts.fct_attribution": doc})
    with duckdb.connect(str(serving), read_only=True) as con:
        con.execute(f"attach '{warehouse}' as built (read_only)")
        kinds = dict(
            con.execute(
                "select table_name, table_type from information_schema.tables"
                " where table_catalog = 'serving' and table_name like 'fct_attribution%'"
            ).fetchall()
        )
        assert kinds == {
            "fct_attribution": "VIEW",
            "fct_attribution_wide": "VIEW",
            "fct_attribution_rule_based": "BASE TABLE",
        }
        # the same rows, columns and types as the forms dbt built, none missing or extra
        for mart in ("fct_attribution", "fct_attribution_wide"):
            for left, right in (("marts", "built.marts"), ("built.marts", "marts")):
                extra = f"select * from {left}.{mart} except all select * from {right}.{mart}"
                assert con.execute(f"select count(*) from ({extra})").fetchone()[0] == 0, mart
            assert (
                con.execute(f"describe marts.{mart}").fetchall()
                == con.execute(f"describe built.marts.{mart}").fetchall()
            )
        assert (
            con.execute("select count(*) from marts.fct_attribution_wide where share_markov is null").fetchone()[0] == 0
        )
        rows = con.execute("select count(*) from built.marts.fct_attribution").fetchone()[0]
        assert published.tables["marts.fct_attribution"] == rows > published.tables["marts.fct_attribution_wide"]
        # the view keeps the comments BI tools show
        docs = docs_from_duckdb(con, "serving")
    assert docs["marts.fct_attribution"] == doc


def test_a_second_night_changes_the_rule_based_rows_that_moved_and_serves_the_new_weights(
    warehouse, second_night, tmp_path, monkeypatch
):
    """Night two moves the Markov and Shapley weights and the paths of a few conversions: publishing it onto night
    one's serving file changes only the rule-based rows of those paths, and the served marts are what a fresh write
    gives, which is what dbt built."""
    from orchestration.defs.resources import dbt_project
    from orchestration.lib import serving_changes
    from orchestration.lib.prepare import prepare_dbt_manifest
    from orchestration.lib.publish import publish
    from orchestration.lib.serving_docs import docs_from_manifest

    prepare_dbt_manifest()  # the manifest.json the job's publish reads its docs and keys from
    docs = docs_from_manifest(dbt_project.manifest_path)
    assert docs["marts.fct_attribution_rule_based"].key == ("conversion_id", "touch_position")
    serving, fresh = tmp_path / "serving.duckdb", tmp_path / "fresh.duckdb"
    publish(warehouse, serving, "night1", docs)
    # a third of this small fixture's path touches move (at 1 M leads, a month moves about a tenth): changed, not
    # written again whole
    monkeypatch.setattr(serving_changes, "MAX_CHANGED_SHARE", 1.0)
    built = second_night[0]
    published = publish(built, serving, "night2", docs)
    publish(built, fresh, "fresh", docs)

    def differing(con, mart: str, left: str, right: str) -> int:
        extra = f"select * from {left}.{mart} except all select * from {right}.{mart}"
        return con.execute(f"select count(*) from ({extra})").fetchone()[0]

    with duckdb.connect(str(serving), read_only=True) as con:
        for name, path in (("fresh", fresh), ("built", built), ("night_one", warehouse)):
            con.execute(f"attach '{path}' as {name} (read_only)")
        moved = differing(con, "fct_attribution_rule_based", "built.marts", "night_one.marts")
        assert 0 < moved < published.tables["marts.fct_attribution_rule_based"] / 2
        assert published.how["marts.fct_attribution_rule_based"] == "changed"
        assert differing(con, "mart_attribution_channel_weights", "built.marts", "night_one.marts") > 0
        for mart in ("fct_attribution_rule_based", "mart_attribution_channel_weights", "fct_attribution_wide"):
            for left, right in (("marts", "fresh.marts"), ("fresh.marts", "marts"), ("marts", "built.marts")):
                assert differing(con, mart, left, right) == 0, (mart, left, right)
