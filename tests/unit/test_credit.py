"""Credit conservation recorded in quality.results, on a real DuckDB warehouse."""

from datetime import datetime

import duckdb

from orchestration.lib.credit import record_credit_conservation, record_from_test, recorded_failures
from orchestration.lib.warehouse import open_warehouse


def _warehouse_with_a_sliver_lost(path):
    """c1 is split 1/3 + 2/3 under linear and whole under first_touch; c2 loses a sliver of its value under
    linear: a failing pair the dbt test would report."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts; create schema quality")
        con.execute("""create table quality.results (run_id varchar, dataset varchar, rule varchar,
            expectation varchar, severity varchar, passed boolean, rows_checked bigint, failing_rows bigint,
            failing_rate double, sample_keys varchar, checked_at timestamp, failing_since timestamp)""")
        con.execute(
            "create table marts.fct_conversions as"
            " select * from (values ('c1', 100.0), ('c2', 50.0)) t(conversion_id, value)"
        )
        con.execute("""create table marts.fct_attribution_wide as select * from (values
            ('c1', 1, 1.0, 1 / 3, 100.0), ('c1', 2, 0.0, 2 / 3, 100.0),
            ('c2', 1, 1.0, 0.5, 50.0), ('c2', 2, 0.0, 0.49, 50.0)
            ) t(conversion_id, touch_position, share_first_touch, share_linear, value)""")


def _rows(path):
    with duckdb.connect(str(path)) as con:
        return con.execute(
            "select run_id, passed, rows_checked, failing_rows, sample_keys from quality.results"
        ).fetchall()


def test_credit_conservation_is_recorded_with_the_offenders(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    _warehouse_with_a_sliver_lost(path)
    with open_warehouse("duckdb", path) as warehouse:
        record_credit_conservation(warehouse, "run-1", now=datetime(2026, 3, 1))
    with duckdb.connect(str(path)) as con:
        rule = con.execute("select rule from quality.results").fetchall()
    assert rule == [("credit_conservation",)]
    assert _rows(path) == [("run-1", False, 4, 1, "linear:c2")]


def test_a_passed_build_test_is_recorded_without_summing_again(tmp_path):
    # the marts build's test passed: its outcome is trusted, the pairs only counted (2 conversions × 2 models)
    path = tmp_path / "warehouse.duckdb"
    _warehouse_with_a_sliver_lost(path)
    with open_warehouse("duckdb", path) as warehouse:
        record_from_test(warehouse, "run-1", "pass", now=datetime(2026, 3, 1))
        assert recorded_failures(warehouse, "run-1") == 0
        assert recorded_failures(warehouse, "run-2") is None
    assert _rows(path) == [("run-1", True, 4, 0, "")]


def test_a_failed_build_test_is_checked_again_for_the_offenders(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    _warehouse_with_a_sliver_lost(path)
    with open_warehouse("duckdb", path) as warehouse:
        record_from_test(warehouse, "run-1", "fail", now=datetime(2026, 3, 1))
        assert recorded_failures(warehouse, "run-1") == 1
        # a test that errored or was skipped says nothing: publishing checks the night itself
        assert record_from_test(warehouse, "run-2", "error") is None
    assert _rows(path) == [("run-1", False, 4, 1, "linear:c2")]
