"""Incremental equals rebuild: replay a sequence of nights and compare the published marts with one full rebuild.

A night is a set of files added to one landing zone. `plan_nights` turns a generated landing zone into nights that
exercise what incremental models get wrong: new files, re-delivered and corrected records, conflicting duplicates,
a quarantine and its correction, late touchpoints, a merge of two people and an erasure request. `replay` runs
`closedloop run` after each night into one data dir, then once over the final landing zone into a fresh one, and
`mart_fingerprints` hashes every published mart so the two can be compared table by table.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# Floats are compared to this many decimals: Markov/Shapley weights and sums may differ in the last bits when the
# same numbers are added in another order.
FLOAT_DECIMALS = 9
# When a row was loaded says which night it came in, not what it is: the one mart column left out of the comparison.
RUN_COLUMNS = {("fct_touchpoints", "loaded_at")}
# runs one `closedloop` command: its arguments and environment
Command = Callable[[list[str], dict[str, str]], subprocess.CompletedProcess]


@dataclass
class Night:
    name: str
    files: dict[str, bytes]  # landing-relative path -> content
    notes: list[str] = field(default_factory=list)


@dataclass
class Replay:
    incremental: dict[str, tuple[int, str]]
    rebuild: dict[str, tuple[int, str]]
    night_seconds: list[float]
    rebuild_seconds: float

    @property
    def differences(self) -> list[str]:
        names = sorted(set(self.incremental) | set(self.rebuild))
        return [
            f"{name}: incremental {self.incremental.get(name, (None, '-'))[0]} rows, "
            f"rebuild {self.rebuild.get(name, (None, '-'))[0]} rows"
            for name in names
            if self.incremental.get(name) != self.rebuild.get(name)
        ]


def mart_fingerprints(serving_path: Path) -> dict[str, tuple[int, str]]:
    """{schema.table: (rows, sha256 of the sorted rows)} for every table of schema `marts` of a serving file."""
    import duckdb

    from orchestration.lib.sql import quote_ident, table_names

    out = {}
    with duckdb.connect(str(serving_path), read_only=True) as con:
        for table in table_names(con, "marts"):
            columns = con.execute(
                "select column_name, data_type from information_schema.columns"
                " where table_schema = 'marts' and table_name = ? order by ordinal_position",
                [table],
            ).fetchall()
            select = ", ".join(
                f"round({quote_ident(name)}, {FLOAT_DECIMALS}) as {quote_ident(name)}"
                if kind in ("DOUBLE", "FLOAT", "REAL") or kind.startswith("DECIMAL")
                else quote_ident(name)
                for name, kind in columns
                if (table, name) not in RUN_COLUMNS
            )
            rows = con.execute(f"select {select} from marts.{quote_ident(table)} order by all").fetchall()
            digest = hashlib.sha256()
            for row in rows:
                digest.update(repr(tuple(0.0 if v == 0 and isinstance(v, float) else v for v in row)).encode())
            out[f"marts.{table}"] = (len(rows), digest.hexdigest())
    return out


def plan_nights(generated: Path) -> list[Night]:
    """Nights built from a generated landing zone (one file per source per month, two months or more)."""
    files = sorted(p for p in generated.rglob("*") if p.is_file() and p.parent != generated)
    months = sorted({p.stem.rsplit("_", 1)[-1] for p in files})
    if len(months) < 2:
        raise ValueError("plan_nights needs a landing zone of at least two months")
    first, rest = months[0], months[1:]
    read = {p.relative_to(generated).as_posix(): p.read_bytes() for p in files}

    def of_month(month: str) -> dict[str, bytes]:
        return {k: v for k, v in read.items() if k.rsplit("_", 1)[-1].removesuffix(Path(k).suffix) == month}

    leads = _rows(read, "leads")
    deals = _rows(read, "deals")
    touches = _rows(read, "touchpoints")
    deal_leads = {d["lead_id"] for d in deals}
    leads_with_deals = [lead for lead in leads if lead["lead_id"] in deal_leads and lead["email"].strip()]
    if len(leads_with_deals) < 4:
        raise ValueError("plan_nights needs at least four leads with deals and emails")
    conflicted_forever, conflicted_then_fixed, corrected, erased = leads_with_deals[:4]
    lead_fields = list(leads[0])
    touch_fields = list(touches[0])
    deal_fields = list(deals[0])

    nights = [Night("night 1: the first month of every source", of_month(first))]

    # night 2: the later months, a tenth of their touchpoints held back for later; conflicts and corrections
    later = {}
    late_touches = []
    for month in rest:
        for key, content in of_month(month).items():
            if key.startswith("touchpoints/"):
                rows = list(csv.DictReader(io.StringIO(content.decode())))
                late_touches += rows[::10]
                content = _csv(touch_fields, [r for i, r in enumerate(rows) if i % 10])
            later[key] = content
    conflict = [
        dict(conflicted_forever, owner="Somebody Else", source_channel="referral"),
        dict(conflicted_then_fixed, owner="Somebody Else", source_channel="events"),
    ]
    fixed = dict(corrected, updated_at="2030-01-01T00:00:00Z", source_channel="paid_search", source_campaign="fixed")
    deal = next(d for d in deals if d["lead_id"] == corrected["lead_id"])
    deal_fixed = dict(deal, updated_at="2030-01-01T00:00:00Z", amount="12345.00")
    touch_changed = dict(touches[1], utm_campaign="changed_campaign", utm_source="google", utm_medium="cpc")
    nights.append(
        Night(
            "night 2: the later months; conflicting re-deliveries, corrected records",
            {
                **later,
                "leads/leads_redelivered_conflict.csv": _csv(lead_fields, conflict),
                "leads/leads_corrected.csv": _csv(lead_fields, [fixed]),
                "deals/deals_corrected.csv": _csv(deal_fields, [deal_fixed]),
                "touchpoints/touchpoints_redelivered.csv": _csv(touch_fields, [touches[0], touch_changed]),
            },
        )
    )

    # night 3: late touchpoints, a newer version of a quarantined lead, two people merged, a conflicting
    # touchpoint pair, an erasure request and an old export delivered again under another name
    resolved = dict(conflicted_then_fixed, updated_at="2030-01-02T00:00:00Z", source_channel="email")
    other = next(lead for lead in leads if lead["lead_id"] not in deal_leads and lead["email"].strip())
    merger = dict(other, lead_id="L-MERGE-1", email=corrected["email"])
    cookie = next(t["anonymous_id"] for t in touches if t["anonymous_id"].strip() and not t["email"].strip())
    link = dict(touches[2], touchpoint_id="T-LINK-1", anonymous_id=cookie, email=other["email"], phone="")
    twin_a = dict(touches[3], touchpoint_id="T-TWIN-1")
    twin_b = dict(twin_a, touchpoint_type="chat")
    first_touch_file = next(k for k in of_month(first) if k.startswith("touchpoints/"))
    nights.append(
        Night(
            "night 3: late data, a newer version of a quarantined lead, a merge, a conflict, an erasure",
            {
                "touchpoints/touchpoints_late.csv": _csv(touch_fields, late_touches),
                "leads/leads_resolved.csv": _csv(lead_fields, [resolved]),
                "leads/leads_merge.csv": _csv(lead_fields, [merger]),
                "touchpoints/touchpoints_link.csv": _csv(touch_fields, [link, twin_a, twin_b]),
                "erasure_requests/erasure_1.csv": _csv(
                    ["requested_at", "email", "phone"],
                    [{"requested_at": "2030-01-03T00:00:00Z", "email": erased["email"], "phone": ""}],
                ),
                "touchpoints/touchpoints_copy.csv": read[first_touch_file],
            },
        )
    )
    return nights


def replay(nights: list[Night], root: Path, env: dict[str, str] | None = None, run: Command | None = None) -> Replay:
    """Runs every night into root/incremental, then the final landing zone once into root/rebuild. `run` runs one
    `closedloop` command (arguments, environment); by default the console script, in a child process."""
    run = run or _console_script
    env = {**os.environ, **(env or {})}
    landing = root / "landing"
    if landing.exists():
        shutil.rmtree(landing)
    seconds = []
    for night in nights:
        for key, content in night.files.items():
            (landing / key).parent.mkdir(parents=True, exist_ok=True)
            (landing / key).write_bytes(content)
        seconds.append(_run(run, landing, root / "incremental", env, night.name))
    # the same keyed hashes on both sides: an operator rebuilding keeps the data dir's key
    (root / "rebuild").mkdir(parents=True, exist_ok=True)
    if (root / "incremental" / "pii.key").exists() and not (root / "rebuild" / "pii.key").exists():
        shutil.copy2(root / "incremental" / "pii.key", root / "rebuild" / "pii.key")
    rebuild_seconds = _run(run, landing, root / "rebuild", env, "rebuild")
    return Replay(
        mart_fingerprints(root / "incremental" / "serving.duckdb"),
        mart_fingerprints(root / "rebuild" / "serving.duckdb"),
        seconds,
        rebuild_seconds,
    )


def _console_script(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    closedloop = str(Path(sys.executable).parent / "closedloop")
    return subprocess.run([closedloop, *args], capture_output=True, text=True, env=env, timeout=900)


def _run(run: Command, landing: Path, data: Path, env: dict[str, str], label: str) -> float:
    started = time.perf_counter()
    result = run(["run", "--landing", str(landing), "--data-dir", str(data)], env)
    if result.returncode != 0:
        raise RuntimeError(
            f"{label}: closedloop run exited {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return time.perf_counter() - started


def _rows(read: dict[str, bytes], source: str) -> list[dict[str, str]]:
    rows = []
    for key in sorted(read):
        if key.startswith(f"{source}/") and key.endswith(".csv"):
            rows += list(csv.DictReader(io.StringIO(read[key].decode())))
    return rows


def _csv(fields: list[str], rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()
