"""The quality gate: rules (`rules.py`), Great Expectations suites (`suites.py`), quarantine and verdict
(`gate.py`)."""

from __future__ import annotations

import os
from urllib.parse import quote, urlencode

from orchestration.lib.quality.duckdb_dialect import register
from orchestration.settings import Settings


def warehouse_url(settings: Settings, environ: dict[str, str] | None = None) -> str:
    """The SQLAlchemy URL of the build warehouse of the configured dbt target (PostgreSQL from the
    CLOSEDLOOP_PG_* variables, like the dbt profile; Spark's Thrift server, like dbt-spark's `thrift` method)."""
    if settings.dbt_target == "postgres":
        from orchestration.lib.postgres import postgres_settings_from_env

        pg = postgres_settings_from_env(environ)
        password = f":{quote(str(pg['password']), safe='')}" if pg.get("password") else ""
        return f"postgresql+psycopg2://{pg['user']}{password}@{pg['host']}:{pg['port']}/{pg['dbname']}"
    if settings.dbt_target == "spark":
        # the Thrift server dbt uses (the run's own, on the port it exported), through PyHive's dialect
        env = os.environ if environ is None else environ
        port = settings.spark_port or env["CLOSEDLOOP_SPARK_PORT"]
        return f"hive://{_spark_sign_in(settings)}{settings.spark_host}:{port}/default?{_spark_auth_query(settings)}"
    return f"{register()}:///{settings.warehouse_path}"


def _spark_sign_in(settings: Settings) -> str:
    """`user[:password]@` of the gate's URL: the sign-in of the dbt profile, so both fail alike when it is wrong."""
    if not settings.spark_user:
        return ""
    secret = f":{quote(settings.spark_password, safe='')}" if settings.spark_password else ""
    return f"{quote(settings.spark_user, safe='')}{secret}@"


def _spark_auth_query(settings: Settings) -> str:
    service = {"kerberos_service_name": settings.spark_kerberos_service} if settings.spark_kerberos_service else {}
    return urlencode({"auth": settings.spark_auth, **service})
