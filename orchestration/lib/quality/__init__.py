"""The quality gate: rules (`rules.py`), Great Expectations suites (`suites.py`), quarantine and verdict
(`gate.py`)."""

from __future__ import annotations

from urllib.parse import quote

from orchestration.lib.quality.duckdb_dialect import register
from orchestration.settings import Settings


def warehouse_url(settings: Settings, environ: dict[str, str] | None = None) -> str:
    """The SQLAlchemy URL of the build warehouse of the configured dbt target (PostgreSQL from the
    CLOSEDLOOP_PG_* variables, like the dbt profile)."""
    if settings.dbt_target == "postgres":
        from orchestration.lib.postgres import postgres_settings_from_env

        pg = postgres_settings_from_env(environ)
        password = f":{quote(str(pg['password']), safe='')}" if pg.get("password") else ""
        return f"postgresql+psycopg2://{pg['user']}{password}@{pg['host']}:{pg['port']}/{pg['dbname']}"
    return f"{register()}:///{settings.warehouse_path}"
