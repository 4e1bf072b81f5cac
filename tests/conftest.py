"""Shared pytest fixtures."""

from __future__ import annotations

import os

import pytest

# Tests write their landing files a moment before they run: waiting for them to settle (5 s a source by default)
# would only slow the suite. tests/unit/test_landing.py exercises the settle rule itself.
os.environ.setdefault("CLOSEDLOOP_LANDING_SETTLE_SECONDS", "0")

from postgres_server import PostgresNotInstalled, PostgresServer

# the order test files start in: the whole-night scenarios first, then Spark's and PostgreSQL's, so the quick files
# fill the end and neither worker is left alone with a long one (`make test` keeps this order: --no-loadscope-reorder)
FIRST = ("slow", "spark", "postgres")


def pytest_collection_modifyitems(items):
    def rank(item) -> int:
        marks = {mark.name for mark in item.iter_markers()}
        return next((i for i, name in enumerate(FIRST) if name in marks), len(FIRST))

    items.sort(key=rank)  # stable: a file's tests stay together and in order


@pytest.fixture(scope="session")
def postgres_server():
    """A real throwaway PostgreSQL cluster for the whole session (`@pytest.mark.postgres` tests).

    Fails, never skips, without the server binaries: CI installs them (`apt-get install -y postgresql`)."""
    try:
        server = PostgresServer.start()
    except PostgresNotInstalled as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory):
    """One local Spark session, with its Thrift server, for every `@pytest.mark.spark` module a worker runs: a JVM
    holds one Spark context, and a second Thrift server in the same JVM after a stop does not start. Yields the
    session and the data dir whose `spark` folder holds its tables."""
    from orchestration.lib.spark import run_session
    from orchestration.settings import load_settings

    data = tmp_path_factory.mktemp("spark_session")
    settings = load_settings(data / "landing", data, {"CLOSEDLOOP_SPARK_MASTER": "local[1]"})
    with run_session(settings) as session:
        yield {"session": session, "data": data}
