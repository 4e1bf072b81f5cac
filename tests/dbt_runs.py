"""dbt for the integration tests, run the way the nightly job runs it: in this process, with the project parsed once
per test worker and per engine (orchestration/defs/dbt/runner.py).

A `dbt` process per command would import dbt again (about 4 s) and, in each test's fresh target folder, parse the
whole project again (about 15 s more): most of what these tests spent.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from orchestration.defs.dbt.runner import environment, failure_message, invoke, parsed_manifest
from orchestration.settings import load_settings


@dataclass
class DbtRun:
    success: bool
    message: str  # dbt's error lines and where its debug log is; empty on success
    statuses: dict[str, str]  # unique_id: the status dbt's result event gives (a test's "pass" or "fail")


def dbt(args: list[str], data_dir: Path, target_path: Path | None = None, env: dict[str, str] | None = None) -> DbtRun:
    """`dbt <args>` on the warehouse of `data_dir` (DuckDB unless `env` says otherwise), with `env` over the
    environment while it runs; compiled SQL, run_results.json and the debug log go to `target_path`."""
    settings, values = _settings(data_dir, env)
    with environment({**values, **settings.dbt_env()}):
        done = invoke(settings, list(args), target_path or data_dir / "target")
    statuses = {event["data"]["node_info"]["unique_id"]: event["data"]["status"] for event in done.results}
    return DbtRun(done.success, "" if done.success else failure_message(done), statuses)


def model_relations(data_dir: Path, env: dict[str, str] | None = None) -> dict[str, tuple[str, str]]:
    """Each dbt model's (schema, alias) as the job's dbt invocations see them: the project parsed for these
    settings (invocations write no manifest.json of their own)."""
    settings, values = _settings(data_dir, env)
    with environment({**values, **settings.dbt_env()}):
        manifest = parsed_manifest(settings)
    return {node.name: (node.schema, node.alias) for node in manifest.nodes.values() if node.resource_type == "model"}


def _settings(data_dir: Path, env: dict[str, str] | None):
    values = {"CLOSEDLOOP_DATA_DIR": str(data_dir), "CLOSEDLOOP_DBT_TARGET": "duckdb", **(env or {})}
    return load_settings(data_dir=data_dir, environ={**os.environ, **values}), values
