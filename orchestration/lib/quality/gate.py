"""The quality gate (docs/quality-gate.md): validate the staged data, quarantine the rows that break a row rule, record
the run, and decide whether the marts may refresh.

Great Expectations counts the failing rows of every rule (`suites.py`); the quarantine selects the same rows with
the rule's SQL condition, and the two counts must agree. Everything runs in SQL on the warehouse (DuckDB,
PostgreSQL, or Spark through its Thrift server): no data goes through Python. Spark's Parquet tables take no
deletes and no transactions: a delete rewrites the table (`_delete`), and each statement stands alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from orchestration.lib.quality.duckdb_dialect import close_connections
from orchestration.lib.quality.rules import DATASETS, ERROR, STRUCTURAL, Dataset
from orchestration.lib.quality.suites import DatasetResult, RuleResult, docs_index, validate

SAMPLE_SIZE = 5
# touchpoints are checked once, when loaded; their quarantine stays until the id is delivered again
INCREMENTAL_DATASETS = ("touchpoints",)


@dataclass
class Finding:
    dataset: str
    rule: str
    severity: str
    passed: bool
    rows_checked: int
    failing_rows: int
    sample_keys: list[str] = field(default_factory=list)

    @property
    def failing_rate(self) -> float:
        return self.failing_rows / self.rows_checked if self.rows_checked else 0.0


@dataclass
class DatasetVerdict:
    name: str
    rows_checked: int
    quarantined: int
    findings: list[Finding]
    blocked_because: str | None = None

    @property
    def quarantine_rate(self) -> float:
        return self.quarantined / self.rows_checked if self.rows_checked else 0.0


@dataclass
class GateOutcome:
    run_id: str
    datasets: list[DatasetVerdict]
    docs_path: Path

    @property
    def passed(self) -> bool:
        return not any(d.blocked_because for d in self.datasets)

    @property
    def blocking_reason(self) -> str | None:
        """One paragraph: which dataset, which rule, how many rows, a few keys, where the report is."""
        reasons = [d.blocked_because for d in self.datasets if d.blocked_because]
        if not reasons:
            return None
        return f"The quality gate blocked the run: {' '.join(reasons)} Report: {self.docs_path}"


class GateError(Exception):
    """The gate itself is inconsistent (e.g. GX and the quarantine disagree): a bug, not bad data."""


def run_gate(
    connection_string: str,
    quality_dir: Path,
    run_id: str,
    max_quarantine_rate: float,
    datasets: tuple[Dataset, ...] = DATASETS,
) -> GateOutcome:
    started = _now()
    results = validate(connection_string, datasets, quality_dir, run_id)
    engine = sa.create_engine(connection_string)
    try:
        with engine.begin() as con:
            _delete(con, "quality.quarantine", "run_id = :run_id", {"run_id": run_id})
            verdicts = [_judge(con, result, run_id, max_quarantine_rate) for result in results]
            _replace_quarantined_keys(con, run_id, datasets)
            outcome = GateOutcome(run_id, verdicts, docs_index(quality_dir))
            _record(con, outcome, started)
            _refresh_statistics(con)
    finally:
        engine.dispose()
        close_connections()
    return outcome


def _judge(con, result: DatasetResult, run_id: str, max_rate: float) -> DatasetVerdict:
    dataset = result.dataset
    rows = _count(con, f"select count(*) from {dataset.view}")
    findings = [_finding(con, dataset, rule_result, rows, run_id) for rule_result in result.rules]
    quarantined = _count(
        con,
        "select count(distinct record_key) from quality.quarantine where run_id = :run_id and dataset = :dataset",
        run_id=run_id,
        dataset=dataset.name,
    )
    verdict = DatasetVerdict(dataset.name, rows, quarantined, findings)
    verdict.blocked_because = _blocking(result, verdict, max_rate)
    return verdict


def _finding(con, dataset: Dataset, result: RuleResult, rows: int, run_id: str) -> Finding:
    rule = result.rule
    finding = Finding(dataset.name, rule.name, rule.severity, result.passed, rows, result.failing_rows or 0)
    if rule.check == "has_rows":  # a table-level rule: no rows to quarantine or sample
        finding.failing_rows = 0 if result.passed else 1
        return finding
    if result.passed or not result.evaluated:
        return finding
    where = rule.violation_sql()
    if rule.severity == ERROR:
        inserted = con.execute(
            sa.text(
                "insert into quality.quarantine (run_id, dataset, record_key, rule, value, quarantined_at)"
                f" select :run_id, :dataset, record_key, :rule, substr(cast({rule.column} as varchar(1024)), 1, 1024),"
                " cast(:now as timestamp)"
                f" from {dataset.view} where {where}"
            ),
            {"run_id": run_id, "dataset": dataset.name, "rule": rule.name, "now": _now()},
        ).rowcount
        counted = _count(
            con,
            "select count(*) from quality.quarantine where run_id = :run_id and dataset = :dataset and rule = :rule",
            run_id=run_id,
            dataset=dataset.name,
            rule=rule.name,
        )
        if result.failing_rows is not None and counted != result.failing_rows:
            raise GateError(
                f"{dataset.name}.{rule.name}: Great Expectations counted {result.failing_rows} failing rows,"
                f" the quarantine selected {counted} (insert reported {inserted})"
            )
        finding.failing_rows = counted
    finding.sample_keys = [
        str(key)
        for (key,) in con.execute(
            sa.text(f"select record_key from {dataset.view} where {where} order by record_key limit {SAMPLE_SIZE}")
        )
    ]
    return finding


def _blocking(result: DatasetResult, verdict: DatasetVerdict, max_rate: float) -> str | None:
    name = verdict.name
    if result.evaluated < result.declared:
        errors = "; ".join(r.error for r in result.rules if r.error) or "no result returned"
        return (
            f"dataset {name}: the suite evaluated {result.evaluated} of its {result.declared} expectations"
            f" ({errors}), and a check that did not run never passes."
        )
    for finding in verdict.findings:
        if finding.severity == STRUCTURAL and not finding.passed:
            return f"dataset {name}, rule {finding.rule}: the dataset has no rows."
    if verdict.quarantine_rate > max_rate:
        worst = max((f for f in verdict.findings if f.severity == ERROR), key=lambda f: f.failing_rows)
        return (
            f"dataset {name}: {verdict.quarantined} of {verdict.rows_checked} rows"
            f" ({verdict.quarantine_rate:.1%}) break a row rule, above max_quarantine_rate {max_rate:.1%};"
            f" the largest is rule {worst.rule} with {worst.failing_rows} rows"
            f" (sample keys: {', '.join(worst.sample_keys)})."
        )
    return None


def _refresh_statistics(con) -> None:
    """On PostgreSQL the next models are planned with these tables (the staging views leave the quarantined keys
    out): their statistics now, not when autovacuum gets to them (dbt_project/macros/postgres_planning.sql)."""
    if con.dialect.name == "postgresql":
        for table in ("quality.quarantine", "quality.quarantined_keys", "quality.runs"):
            con.execute(sa.text(f"analyze {table}"))


def _replace_quarantined_keys(con, run_id: str, datasets: tuple[Dataset, ...]) -> None:
    """The keys the marts leave out from now on: this run's quarantine, plus earlier touchpoints not re-checked."""
    incremental = [d for d in datasets if d.name in INCREMENTAL_DATASETS]
    keep = (
        " or ".join(
            f"(dataset = '{d.name}' and record_key not in (select record_key from {d.view}))" for d in incremental
        )
        or "false"
    )
    _delete(con, "quality.quarantined_keys", f"not ({keep})")
    con.execute(
        sa.text(
            "insert into quality.quarantined_keys (dataset, record_key)"
            " select distinct dataset, record_key from quality.quarantine where run_id = :run_id"
        ),
        {"run_id": run_id},
    )


def _record(con, outcome: GateOutcome, started: datetime) -> None:
    now = _now()
    since = _failing_since(con)
    rows = [
        {
            "run_id": outcome.run_id,
            "dataset": f.dataset,
            "rule": f.rule,
            "expectation": f.rule,
            "severity": f.severity,
            "passed": f.passed,
            "rows_checked": f.rows_checked,
            "failing_rows": f.failing_rows,
            "failing_rate": f.failing_rate,
            "sample_keys": ", ".join(f.sample_keys)[:4000],
            "checked_at": now,
            "failing_since": None if f.passed else since.get((f.dataset, f.rule), started),
        }
        for verdict in outcome.datasets
        for f in verdict.findings
    ]
    if rows:
        con.execute(
            sa.text(
                "insert into quality.results (run_id, dataset, rule, expectation, severity, passed, rows_checked,"
                " failing_rows, failing_rate, sample_keys, checked_at, failing_since) values (:run_id, :dataset,"
                " :rule, :expectation, :severity, :passed, :rows_checked, :failing_rows, :failing_rate,"
                " :sample_keys, cast(:checked_at as timestamp), cast(:failing_since as timestamp))"
            ),
            rows,
        )
    checked_through = con.execute(sa.text("select max(_loaded_at) from raw.touchpoints")).scalar()
    con.execute(
        sa.text(
            "insert into quality.runs (run_id, started_at, finished_at, status, rows_checked, rows_quarantined,"
            " blocking_reason, checked_through) values (:run_id, cast(:started as timestamp),"
            " cast(:finished as timestamp), :status, :rows, :quarantined, :reason, cast(:checked_through as timestamp))"
        ),
        {
            "run_id": outcome.run_id,
            "started": started,
            "finished": now,
            "status": "passed" if outcome.passed else "blocked",
            "rows": sum(d.rows_checked for d in outcome.datasets),
            "quarantined": sum(d.quarantined for d in outcome.datasets),
            "reason": (outcome.blocking_reason or "")[:4000] or None,
            "checked_through": checked_through,
        },
    )


def _failing_since(con) -> dict[tuple[str, str], datetime]:
    """Rules that failed in the previous run, with the start of their failing streak."""
    rows = con.execute(
        sa.text(
            "select dataset, rule, failing_since from quality.results where not passed and run_id ="
            " (select run_id from quality.runs order by started_at desc limit 1)"
        )
    )
    return {(dataset, rule): since for dataset, rule, since in rows if since is not None}


def _delete(con, table: str, where: str, params: dict | None = None) -> None:
    """Deletes the rows of `table` that meet `where`; on Spark by rewriting the table without them."""
    if con.dialect.name != "hive":
        con.execute(sa.text(f"delete from {table} where {where}"), params or {})
        return
    from orchestration.lib.spark import rewrite_statements

    drop, create, overwrite, drop_scratch = rewrite_statements(table, f"select * from {table} where not ({where})")
    for statement, bound in ((drop, {}), (create, params or {}), (overwrite, {}), (drop_scratch, {})):
        con.execute(sa.text(statement), bound)


def _count(con, sql: str, **params) -> int:
    return int(con.execute(sa.text(sql), params).scalar() or 0)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
