"""Great Expectations (1.x) suites built from the rules, validated in SQL on the warehouse, with Data Docs.

One expectation per rule, one suite and validation definition per dataset. The context is
a file context under `<data dir>/quality/gx`, so every run's validation results are kept and the Data Docs site
(`<data dir>/quality/docs/index.html`) lists them all: the history analysts browse.
"""

from __future__ import annotations

import gc
import html
import logging
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from orchestration.lib.quality.duckdb_dialect import close_connections
from orchestration.lib.quality.rules import Dataset, Rule

DATASOURCE = "warehouse"
SITE = "closedloop"
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 5}
MAX_SHOWN_VALUE = 200  # characters of a rejected value shown in Data Docs


@dataclass
class RuleResult:
    dataset: str
    rule: Rule
    evaluated: bool
    passed: bool
    rows_checked: int | None
    failing_rows: int | None
    error: str | None = None


@dataclass
class DatasetResult:
    dataset: Dataset
    declared: int
    evaluated: int
    rules: list[RuleResult]


def start_import() -> threading.Thread:
    """Imports Great Expectations in a daemon thread: about 3 s of Python, started while dbt builds the tables the
    gate reads next. The more of that build is SQL, which runs outside the interpreter lock, the less the import
    costs (staging and gate together: 2 s less at 1 M leads, about the same at 100 k; docs/benchmarks.md).
    `validate` waits for it (Python's import lock) if it has not finished."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    thread = threading.Thread(target=_import_gx, name="import great_expectations", daemon=True)
    thread.start()
    return thread


def _import_gx() -> None:
    import great_expectations  # noqa: F401

    gc.freeze()  # its modules live as long as the process: kept out of the garbage collector's passes


def validate(
    connection_string: str,
    datasets: tuple[Dataset, ...],
    quality_dir: Path,
    run_id: str,
    run_time: datetime | None = None,
) -> list[DatasetResult]:
    """Runs every dataset's suite, stores the results in the context and renders their Data Docs pages."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    context = gx.get_context(mode="file", project_root_dir=str(quality_dir))
    _quiet(context)
    _docs_site(context, quality_dir / "docs")
    if DATASOURCE in [d.name for d in context.data_sources.all().values()]:
        context.data_sources.delete(DATASOURCE)
    source = context.data_sources.add_sql(name=DATASOURCE, connection_string=connection_string)

    run = RunIdentifier(run_name=run_id, run_time=run_time or datetime.now(UTC))
    validations = []
    try:
        for dataset in datasets:
            # a table asset, not a query asset: GX finds a query's columns by running it whole (on Spark's Thrift
            # server that collects every row to the driver, on PostgreSQL to this process), a table's from the catalog
            schema, table = dataset.view.split(".")
            asset = source.add_table_asset(name=dataset.name, table_name=table, schema_name=schema)
            batch = asset.add_batch_definition_whole_table("tonight")
            suite = context.suites.add_or_update(_suite(gx, dataset))
            definition = context.validation_definitions.add_or_update(
                gx.ValidationDefinition(name=dataset.name, data=batch, suite=suite)
            )
            # each run stores its results in the context, which the Data Docs read
            validations.append(definition.run(run_id=run, result_format=RESULT_FORMAT))
    finally:
        close_connections()  # the warehouse file must be free for dbt, another process, right after the gate
    # only tonight's pages and the index are rendered: earlier nights' pages stay as they are (the history)
    tonight = [key for key in context.validation_results_store.list_keys() if key.run_id.run_name == run_id]
    _encode_stored_values(context.validation_results_store, tonight)
    context.build_data_docs(site_names=[SITE], resource_identifiers=tonight)
    # one validation per dataset, in the datasets' order (a failing expectation is reported, never raised)
    return [_dataset_result(dataset, validation) for dataset, validation in zip(datasets, validations, strict=True)]


def docs_index(quality_dir: Path) -> Path:
    return quality_dir / "docs" / "index.html"


def _suite(gx, dataset: Dataset):
    # built whole: `add_expectation` looks the suite up in the store once per expectation
    return gx.ExpectationSuite(
        name=dataset.name,
        expectations=[_expectation(gx, rule) for rule in dataset.rules],
        meta={"dataset": dataset.name, "view": dataset.view},
    )


def _expectation(gx, rule: Rule):
    meta = {"rule": rule.name, "severity": rule.severity}
    expect = gx.expectations
    if rule.check == "not_null":
        return expect.ExpectColumnValuesToNotBeNull(column=rule.column, meta=meta)
    if rule.check == "in_set":
        return expect.ExpectColumnValuesToBeInSet(column=rule.column, value_set=list(rule.values), meta=meta)
    if rule.check in ("at_least", "between"):
        return expect.ExpectColumnValuesToBeBetween(
            column=rule.column, min_value=rule.minimum, max_value=rule.maximum, strict_min=rule.strict, meta=meta
        )
    if rule.check == "flag_false":
        return expect.ExpectColumnValuesToBeInSet(column=rule.column, value_set=[False], meta=meta)
    if rule.check == "has_rows":
        return expect.ExpectTableRowCountToBeBetween(min_value=1, meta=meta)
    raise ValueError(f"unknown check {rule.check!r} in rule {rule.name}")


def _dataset_result(dataset: Dataset, validation) -> DatasetResult:
    rules = {rule.name: rule for rule in dataset.rules}
    results = []
    for item in validation.results:
        rule = rules.get((item.expectation_config.meta or {}).get("rule"))
        if rule is None:
            continue
        raised = _raised(item.exception_info)
        summary = item.result or {}
        checked = summary.get("element_count", summary.get("observed_value"))
        results.append(
            RuleResult(
                dataset=dataset.name,
                rule=rule,
                evaluated=not raised,
                passed=bool(item.success) and not raised,
                rows_checked=int(checked) if checked is not None else None,
                failing_rows=int(summary["unexpected_count"]) if summary.get("unexpected_count") is not None else None,
                error=_exception_message(item.exception_info) if raised else None,
            )
        )
    return DatasetResult(dataset, len(dataset.rules), sum(r.evaluated for r in results), results)


def _encode_stored_values(store, keys) -> None:
    """GX's Data Docs renderers put the sample of rejected values (`partial_unexpected_list`, …) into the HTML as
    they are, so a delivered `<script>` would run in the analyst's browser. The stored results of tonight get
    every delivered value HTML-encoded (and long ones cut) before any page is rendered; the gate's counts come
    from the in-memory results, which keep the values as delivered."""
    for key in keys:
        stored = store.get(key)
        for item in stored.results:
            if item.result:
                item.result = _encoded(item.result)
            if item.exception_info:
                item.exception_info = _encoded(item.exception_info)
        store.set(key, stored)


def _encoded(value):
    if isinstance(value, str):
        cut = value if len(value) <= MAX_SHOWN_VALUE else value[:MAX_SHOWN_VALUE] + "…"
        return html.escape(cut, quote=True)
    if isinstance(value, dict):
        return {k: _encoded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encoded(v) for v in value]
    return value


def _raised(info: dict | None) -> bool:
    """GX reports a metric it could not compute in `exception_info`, per metric or at the top level."""
    if not info:
        return False
    return bool(info.get("raised_exception")) or any(
        isinstance(value, dict) and value.get("raised_exception") for value in info.values()
    )


def _exception_message(info: dict) -> str:
    for value in info.values():
        if isinstance(value, dict) and value.get("exception_message"):
            return str(value["exception_message"]).splitlines()[0]
    return str(info.get("exception_message", "the expectation raised an error")).splitlines()[0]


def _quiet(context) -> None:
    """No progress bars on the terminal (the CLI prints its own progress)."""
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.variables.save()


def _docs_site(context, directory: Path) -> None:
    config = {
        "class_name": "SiteBuilder",
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(directory)},
    }
    sites = context.list_data_docs_sites() if hasattr(context, "list_data_docs_sites") else {}
    if SITE in sites:
        context.update_data_docs_site(SITE, config)
    else:
        context.add_data_docs_site(SITE, config)
