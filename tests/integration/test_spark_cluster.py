"""`closedloop run` against a Spark cluster: a stand-in cluster in its own JVM (tests/spark_cluster.py), reached as
docs/engines.md#on-a-cluster says, dbt and the quality gate through its Thrift server and the Python steps through
Spark Connect, with no local session. A full and an incremental night publish the same marts as DuckDB's.
Several Spark nights: `make test-long`."""

from __future__ import annotations

import pytest
from published import differences, run_night, two_nights
from spark_cluster import SparkCluster

from orchestration.lib.generate import generate_landing

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.long]

PII_KEY = "cluster-parity"  # one key for both data dirs, so the people's hashes compare equal


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    root = tmp_path_factory.mktemp("spark_cluster")
    generated = root / "generated"
    generate_landing(generated, leads=150, days=60, seed=11)
    _, duckdb_marts = two_nights(generated, root, "duckdb", _runner({"CLOSEDLOOP_DBT_TARGET": "duckdb"}))
    cluster = SparkCluster.start(root)
    try:
        _, cluster_marts = two_nights(generated, root, "cluster", _runner(cluster.run_env()))
    finally:
        cluster.stop()
    return {"root": root, "duckdb": duckdb_marts, "cluster": cluster_marts}


def _runner(env: dict[str, str]):
    return lambda _engine, landing, data: run_night(landing, data, {**env, "CLOSEDLOOP_PII_KEY": PII_KEY}, 1800)


@pytest.mark.parametrize("night", ["full", "incremental"])
def test_a_cluster_publishes_the_same_marts_as_duckdb(nights, night):
    assert any(table["rows"] for table in nights["duckdb"][night].values())
    assert differences(nights["duckdb"][night], nights["cluster"][night]) == []


def test_the_run_kept_no_tables_of_its_own(nights):
    """The cluster holds every built table: the run opened no local session (no `spark` folder in its data dir),
    and the cluster's catalog has the marts."""
    assert not (nights["root"] / "cluster" / "spark").exists()
    assert (nights["root"] / "spark" / "warehouse" / "marts.db" / "fct_attribution_wide").is_dir()
