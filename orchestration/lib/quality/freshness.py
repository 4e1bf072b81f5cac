"""Source freshness, checked every night: how long ago the newest file of each raw source was loaded, against
the `freshness` its dbt YAML declares (`loaded_at_field: _loaded_at`). A stale source is a warning in
quality.results, never a block: late data is not bad data, and the marts still refresh with what arrived.
`dbt source freshness` reads the same declarations."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow as pa

RULE = "source_freshness"
HOURS = {"minute": 1 / 60, "hour": 1, "day": 24}


@dataclass
class SourceFreshness:
    table: str  # schema.table of the raw source
    warn_after_hours: float
    rows: int = 0
    newest_loaded_at: datetime | None = None
    age_hours: float | None = None

    @property
    def passed(self) -> bool:
        return self.age_hours is not None and self.age_hours <= self.warn_after_hours


def declared_freshness(manifest_path: Path) -> list[SourceFreshness]:
    """Raw sources with a `warn_after` in their dbt YAML, in name order."""
    sources = json.loads(Path(manifest_path).read_text())["sources"].values()
    declared = []
    for source in sources:
        warn = ((source.get("config") or {}).get("freshness") or source.get("freshness") or {}).get("warn_after") or {}
        if source["schema"] == "raw" and warn.get("count"):
            hours = warn["count"] * HOURS[warn["period"]]
            declared.append(SourceFreshness(f"raw.{source['identifier'] or source['name']}", hours))
    return sorted(declared, key=lambda s: s.table)


def measure(warehouse, declared: list[SourceFreshness], now: datetime) -> list[SourceFreshness]:
    """Fills rows, newest load and age; a source never delivered has no age (and is left out of the results)."""
    for source in declared:
        rows, newest = (
            warehouse.read_text(f"select count(*), max(_loaded_at) from {source.table}").to_pylist()[0].values()
        )
        source.rows = int(rows)
        if newest:
            source.newest_loaded_at = datetime.fromisoformat(str(newest)[:26])
            source.age_hours = (now - source.newest_loaded_at).total_seconds() / 3600
    return declared


def result_rows(run_id: str, measured: list[SourceFreshness], checked_at: datetime) -> pa.Table:
    """Rows of quality.results: one per delivered source, severity warning."""
    found = [s for s in measured if s.age_hours is not None]
    return pa.table(
        {
            "run_id": pa.array([run_id] * len(found), pa.string()),
            "dataset": pa.array([s.table.split(".")[1] for s in found], pa.string()),
            "rule": pa.array([RULE] * len(found), pa.string()),
            "expectation": pa.array([f"newest _loaded_at within {s.warn_after_hours:g} h" for s in found], pa.string()),
            "severity": pa.array(["warning"] * len(found), pa.string()),
            "passed": pa.array([s.passed for s in found], pa.bool_()),
            "rows_checked": pa.array([s.rows for s in found], pa.int64()),
            "failing_rows": pa.array([0 if s.passed else s.rows for s in found], pa.int64()),
            "failing_rate": pa.array([0.0 if s.passed else 1.0 for s in found], pa.float64()),
            "sample_keys": pa.array(
                [f"newest file loaded {s.newest_loaded_at:%Y-%m-%d %H:%M} UTC, {s.age_hours:.1f} h ago" for s in found],
                pa.string(),
            ),
            "checked_at": pa.array([checked_at] * len(found), pa.timestamp("us")),
        }
    )
