"""Rewriting the files (step 4): the serving file rebuilt without the person and renamed over the old one, the
Parquet exports and BI's PostgreSQL copy written again from it, and the warehouse file copied into a fresh one so
the deleted rows do not survive in its free pages."""

from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration.lib.erasure.keys import columns_of, downstream_match
from orchestration.lib.erasure.postgres import purge_postgres
from orchestration.lib.erasure.requests import Erasure
from orchestration.lib.files import remove_database, replace_synced
from orchestration.lib.sql import list_tables, quote_ident, sql_literal
from orchestration.settings import Settings


def rewrite_database(path: Path) -> None:
    """Copies every schema, table, view and macro into a fresh file and renames it over `path`: deleted rows left
    in free pages of the old file are gone with it. The file must not be open elsewhere."""
    fresh = path.with_name(f".{path.name}.rewrite.tmp")
    remove_database(fresh)
    try:
        with duckdb.connect() as con:
            con.execute(f"attach {sql_literal(str(path))} as old_file (read_only)")
            con.execute(f"attach {sql_literal(str(fresh))} as new_file")
            con.execute("copy from database old_file to new_file")
            con.execute("detach new_file")
            con.execute("detach old_file")
        replace_synced(fresh, path)
    finally:
        remove_database(fresh)


def purge_serving(con: duckdb.DuckDBPyConnection, serving_path: Path, result: Erasure) -> Path | None:
    """Replaces the serving file with a new one without the person's rows (a new file renamed over the old one,
    never an in-place write, keeping its comments and keys); returns its path. None when there is no serving file
    or it holds none of the person's rows (then it stays as it is)."""
    from orchestration.lib.publish import write_and_replace
    from orchestration.lib.serving_docs import docs_from_duckdb

    if not serving_path.exists():
        return None
    con.execute(f"attach {sql_literal(str(serving_path))} as old_serving (read_only)")
    try:
        tables = {}
        for schema, table in list_tables(con, catalog="old_serving", base_only=True):
            columns = columns_of(con, schema, table, catalog="old_serving")
            match = downstream_match(f"{schema}.{table}", columns, published=True) or "false"
            source = f"old_serving.{quote_ident(schema)}.{quote_ident(table)}"
            hits = con.execute(f"select count(*) from {source} where {match}").fetchone()[0]
            tables[f"{schema}.{table}"] = f"select * from {source} where not coalesce({match}, false)"
            result.removed[f"serving: {schema}.{table}"] = hits
        if not any(result.removed[f"serving: {name}"] for name in tables):
            return None
        write_and_replace(con, serving_path, "erase", tables, docs_from_duckdb(con, "old_serving"))
    finally:
        con.execute("detach old_serving")
    return serving_path


def finish(settings: Settings, result: Erasure, serving: Path | None, rewrite: bool = False) -> None:
    """Renames the rebuilt serving file over the old one, rewrites the Parquet exports, and rewrites the
    warehouse when rows left it or `rewrite` (the warehouse connection is closed by now)."""
    if serving is not None:
        result.rewritten.append(settings.serving_path)
        if settings.exports_dir.is_dir():
            from orchestration.lib.exports import export_parquet

            export_parquet(settings.serving_path, settings.exports_dir)
        if settings.serving_url:  # BI's PostgreSQL copy forgets the person now, not at the next night
            from orchestration.lib.serving_postgres import publish_to_postgres

            publish_to_postgres(settings.serving_path, settings.serving_url)
    if rewrite or any(n for table, n in result.removed.items() if not table.startswith("serving:")):
        rewrite_database(settings.warehouse_path)
        result.rewritten.insert(0, settings.warehouse_path)
    if settings.dbt_target == "postgres" and result.keys:  # the build warehouse on the server forgets them too
        from orchestration.lib.postgres import postgres_settings_from_env

        removed = purge_postgres(postgres_settings_from_env(), result.keys)
        result.removed |= {f"postgres: {table}": rows for table, rows in removed.items()}
    if settings.dbt_target == "spark" and result.keys:  # so does Spark's (raw copied again, models rewritten)
        from orchestration.lib.erasure.spark import purge_spark
        from orchestration.lib.spark import active_session

        changed = [
            table.split(".", 1)[1] for table, rows in result.removed.items() if table.startswith("raw.") and rows
        ]
        removed = purge_spark(active_session(), settings.warehouse_path, result.keys, changed)
        result.removed |= {f"spark: {table}": rows for table, rows in removed.items()}
