"""What BI tools show beside a published table: its description, its columns' descriptions and its key.

The dbt YAML is the one place they are written. `docs_from_manifest` reads them from dbt's manifest (models of
the `marts` schema, the gate's `quality` source tables); `docs_from_duckdb` reads them back from a published
serving file, so a step that rebuilds the serving file from the old one (erasure, a refused night) keeps them.

A key is the column with a `unique` test, or the columns of a `unique_combination` test, or the columns a mart's
YAML names in `meta: {serving_row_key: [...]}` (unique by construction, and compared by it; not declared). A mart
whose YAML sets `meta: {serving_key: false}` publishes its key in the description only: an index over a fact with
hundreds of millions of rows would cost more than a BI tool gains from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

PUBLISHED_SCHEMAS = ("marts", "quality")


@dataclass
class TableDoc:
    description: str = ""
    columns: dict[str, str] = field(default_factory=dict)
    key: tuple[str, ...] = ()
    key_not_null: bool = True  # every key column is tested not null: a primary key, else a unique constraint
    # whether the serving file declares the key as a constraint; a big fact's key (`meta: {serving_key: false}`) is
    # tested but not indexed, and publishing still compares its rows by it
    declared: bool = True
    # published whole every night, without comparing its rows first: they all change (`meta: {serving_whole: true}`)
    whole: bool = False


def docs_from_manifest(manifest_path: Path) -> dict[str, TableDoc]:
    """`schema.table` → its documentation, for the models and sources of the published schemas."""
    manifest = json.loads(Path(manifest_path).read_text())
    docs: dict[str, TableDoc] = {}
    ids: dict[str, str] = {}
    for node in [*manifest["nodes"].values(), *manifest["sources"].values()]:
        if node["resource_type"] not in ("model", "source") or node["schema"] not in PUBLISHED_SCHEMAS:
            continue
        table = node.get("identifier") or node.get("alias") or node["name"]
        name = f"{node['schema']}.{table}"
        docs[name] = TableDoc(
            description=_clean(node.get("description")),
            columns={c: _clean(col.get("description")) for c, col in node.get("columns", {}).items()},
        )
        if node["resource_type"] == "model":
            ids[node["unique_id"]] = name
            meta = node.get("config", {}).get("meta", {})
            docs[name].declared, docs[name].whole = meta.get("serving_key", True), meta.get("serving_whole", False)
            docs[name].key = tuple(meta.get("serving_row_key", ()))  # a tested key, added below, replaces it
    _add_keys(manifest, ids, docs)
    return docs


def docs_from_duckdb(con, catalog: str) -> dict[str, TableDoc]:
    """The documentation a DuckDB file carries: table, view and column comments, primary key or unique constraint."""
    docs: dict[str, TableDoc] = {}
    for schema, table, comment in con.execute(
        "select schema_name, table_name, comment from duckdb_tables() where database_name = ? union all"
        " select schema_name, view_name, comment from duckdb_views() where database_name = ? and not internal",
        [catalog, catalog],
    ).fetchall():
        docs[f"{schema}.{table}"] = TableDoc(description=comment or "")
    for schema, table, column, comment in con.execute(
        "select schema_name, table_name, column_name, comment from duckdb_columns() where database_name = ?", [catalog]
    ).fetchall():
        if comment and f"{schema}.{table}" in docs:
            docs[f"{schema}.{table}"].columns[column] = comment
    for schema, table, kind, columns in con.execute(
        "select schema_name, table_name, constraint_type, constraint_column_names from duckdb_constraints()"
        " where database_name = ? and constraint_type in ('PRIMARY KEY', 'UNIQUE')",
        [catalog],
    ).fetchall():
        doc = docs.get(f"{schema}.{table}")
        if doc is not None:
            doc.key, doc.key_not_null = tuple(columns), kind == "PRIMARY KEY"
    return docs


def _add_keys(manifest: dict, ids: dict[str, str], docs: dict[str, TableDoc]) -> None:
    not_null = {model: _not_null_by_contract(manifest["nodes"][model]) for model in ids}
    keys: dict[str, tuple[str, ...]] = {}
    for node in manifest["nodes"].values():
        test = node.get("test_metadata")
        model = node.get("attached_node")
        if node["resource_type"] != "test" or not test or model not in ids:
            continue
        kwargs = test.get("kwargs", {})
        if test["name"] == "not_null":
            not_null[model].add(node.get("column_name") or kwargs.get("column_name"))
        elif test["name"] == "unique" and model not in keys:
            keys[model] = (node.get("column_name") or kwargs["column_name"],)
        elif test["name"] == "unique_combination":
            keys[model] = tuple(kwargs["columns"])
    for model, columns in keys.items():
        doc = docs[ids[model]]
        doc.key = columns
        doc.key_not_null = set(columns) <= not_null[model]


def _not_null_by_contract(model: dict) -> set[str]:
    return {
        name
        for name, column in model.get("columns", {}).items()
        if any(c.get("type") == "not_null" for c in column.get("constraints", []))
    }


def _clean(text: str | None) -> str:
    """One line: YAML folded descriptions keep their line breaks, which BI tools show as they are."""
    return " ".join((text or "").split())
