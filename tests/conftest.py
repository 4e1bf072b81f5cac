"""Shared pytest fixtures."""

from __future__ import annotations

import os

import pytest

# Tests write their landing files a moment before they run: waiting for them to settle (5 s a source by default)
# would only slow the suite. tests/unit/test_landing.py exercises the settle rule itself.
os.environ.setdefault("CLOSEDLOOP_LANDING_SETTLE_SECONDS", "0")

from postgres_server import PostgresNotInstalled, PostgresServer


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
