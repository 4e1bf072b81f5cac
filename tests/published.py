"""The published marts of a data dir, read for comparing two runs (engine parity, rebuilds): every mart's columns
and rows, without the columns that record when a run built a row, rows sorted so two engines' runs line up."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb

CLOSEDLOOP = str(Path(sys.executable).parent / "closedloop")
# when a run loaded or built the row: two runs happen at different moments
RUN_TIME_COLUMNS = {"built_at", "person_since", "last_assigned_at", "loaded_at"}


def deliver(generated: Path, landing: Path, months: set[str]) -> None:
    """Copies the generated files of `months` (YYYY-MM, the files' suffix) into the landing zone."""
    for path in generated.rglob("*.csv"):
        if path.stem.rsplit("_", 1)[1] in months:
            target = landing / path.parent.name / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)


def run_night(landing: Path, data: Path, env: dict[str, str], timeout: int) -> subprocess.CompletedProcess:
    """`closedloop run` on a landing zone and data dir, with `env` over the environment; its output is also appended
    to `<data dir>.log` beside the data dir (the stage times, to read after a slow or failed run)."""
    result = subprocess.run(
        [CLOSEDLOOP, "run", "--landing", str(landing), "--data-dir", str(data)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    with (data.parent / f"{data.name}.log").open("a") as log:
        log.write(result.stdout + result.stderr)
    return result


def two_nights(
    generated: Path, root: Path, engine: str, run: Callable[[str, Path, Path], subprocess.CompletedProcess]
) -> tuple[dict, dict]:
    """A full night (every generated month but the last) then an incremental one (the last month delivered) on
    `engine`, in `root/<engine>` from `root/landing_<engine>`: ({night: run result}, {night: `marts`})."""
    months = sorted({path.stem.rsplit("_", 1)[1] for path in generated.rglob("*.csv")})
    landing, results, published = root / f"landing_{engine}", {}, {}
    for night, delivered in (("full", set(months[:-1])), ("incremental", set(months))):
        deliver(generated, landing, delivered)
        result = results[night] = run(engine, landing, root / engine)
        assert result.returncode == 0, f"{night} night on {engine}:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
        published[night] = marts(root / engine / "serving.duckdb")
    return results, published


def marts(serving: Path) -> dict[str, dict]:
    """Every published mart: its columns and its rows, without the run-time columns."""
    with duckdb.connect(str(serving), read_only=True) as con:
        names = [
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        tables = {}
        for name in names:
            cursor = con.execute(f'select * from marts."{name}"')
            columns = [c[0] for c in cursor.description]
            kept = [i for i, c in enumerate(columns) if c not in RUN_TIME_COLUMNS]
            rows = [tuple(_plain(row[i]) for i in kept) for row in cursor.fetchall()]
            tables[name] = {"columns": [columns[i] for i in kept], "rows": sorted(rows, key=_sort_key)}
    return tables


def differences(expected: dict[str, dict], actual: dict[str, dict]) -> list[str]:
    """What differs between two `marts` results: tables, columns, row counts, and the first differing row of each
    table (numbers compared to 1e-9 relative)."""
    found = []
    if sorted(expected) != sorted(actual):
        found.append(f"tables: {sorted(set(expected) ^ set(actual))}")
    for name in sorted(set(expected) & set(actual)):
        a, b = expected[name], actual[name]
        if a["columns"] != b["columns"]:
            found.append(f"{name}: columns {a['columns']} != {b['columns']}")
        elif len(a["rows"]) != len(b["rows"]):
            found.append(f"{name}: {len(a['rows'])} rows != {len(b['rows'])}")
        else:
            for row_a, row_b in zip(a["rows"], b["rows"], strict=True):
                if not all(same_value(x, y) for x, y in zip(row_a, row_b, strict=True)):
                    found.append(f"{name}: {row_a} != {row_b}")
                    break
    return found


def same_value(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, date) and isinstance(b, date):
        return a == b
    return a == b


def _plain(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None) - value.utcoffset()
    return value


def _sort_key(row: tuple) -> tuple:
    # numbers rounded to 6 digits, so two engines' last-bit differences sort the rows alike
    return tuple((0, "") if v is None else (1, f"{v:.6g}") if isinstance(v, float) else (2, str(v)) for v in row)
