"""Erasure of a person (docs/privacy.md): `closedloop erase` and delivered `erasure_requests/` files.

1. **Find the person's keys.** From the requested email (normalised) or phone (E.164): the raw values that
   normalise to that email; the rows of raw tables that carry them; from those rows the person's anonymous ids,
   lead ids, deal ids and the ids of their touchpoints, orders and activities, and from their lead and order
   records their other emails and phones (not blocklisted ones); then, when identity resolution has run, every
   identifier of the same `person_id` in `intermediate.identity_people` — repeated until nothing new turns up.
2. **Suppress.** The keyed hashes (HMAC-SHA256) of the person's emails, phones, anonymous ids, lead ids and deal
   ids go to `raw._suppressed`; the loader leaves out every later row that carries one (`suppression.py`).
3. **Purge.** Their rows leave every raw table and the phone cache; a delivered erasure request keeps only its
   date and the outcome. Rows of every table of `intermediate`, `marts` and `quality` whose personal-data columns
   (declared in the dbt YAML as `meta: {pii: ...}`, read from the manifest: `personal_data.py`) point at the
   person are deleted too, so the warehouse is consistent at once, without a full refresh (staging is views). A
   table the dbt project does not declare stops the erasure before anything is deleted.
4. **Rewrite the files.** A deleted row survives in the free pages of a DuckDB file, so `warehouse.duckdb` is
   copied into a fresh file (COPY FROM DATABASE) that replaces it, and `serving.duckdb` is rebuilt without the
   person's rows and renamed over the old one (BI readers of the old file keep it whole, like a publish); the
   Parquet exports are rewritten from it.

Modules: `requests` (what a request names, the outcome), `keys` (step 1), `purge` (steps 2-3), `rewrite`
(step 4), `postgres` and `spark` (the same on a PostgreSQL or Spark build warehouse).

The caller holds the writer lock (`closedloop erase`, or the nightly run that loaded the requests).
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from orchestration.lib.erasure.postgres import purge_postgres, server_identity
from orchestration.lib.erasure.purge import purge
from orchestration.lib.erasure.requests import (
    PENDING_REQUEST,
    Erasure,
    ErasureError,
    cleared_request,
    parse_request,
    parse_timestamp,
    utcnow,
)
from orchestration.lib.erasure.rewrite import finish, purge_serving, rewrite_database
from orchestration.lib.landing import ensure_raw_tables
from orchestration.lib.privacy import pii_key
from orchestration.lib.spark import engine_session
from orchestration.settings import Settings

__all__ = [
    "Erasure",
    "ErasureError",
    "apply_erasure_requests",
    "erase",
    "parse_request",
    "purge",
    "purge_postgres",
    "rewrite_database",
]


def erase(settings: Settings, seeds: list[tuple[str, str]], requested_at: datetime | None = None) -> Erasure:
    """Erases the person named by `seeds` (see parse_request) from the data dir; works before any run too (the
    suppression list is then all there is to write)."""
    now = utcnow()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key = pii_key(settings)
    # an existing warehouse is rewritten even when no row of the person is left in it: a retry after an
    # interrupted erasure (rows deleted, file not yet rewritten) must still clear the free pages
    existed = settings.warehouse_path.exists()
    with engine_session(settings):
        with duckdb.connect(str(settings.warehouse_path)) as con:
            ensure_raw_tables(con)
            identity, fetch = engine_identity(settings), _engine_fetch(settings)
            result = purge(con, seeds, key, requested_at or now, now, identity, fetch)
            result.requests = 1
            serving = purge_serving(con, settings.serving_path, result)
        finish(settings, result, serving, rewrite=existed)
    return result


def _engine_fetch(settings: Settings):
    """On the spark target, what brings the raw rows the erasure searches from Spark (erasure/spark.py)."""
    if settings.dbt_target != "spark":
        return None
    from orchestration.lib.erasure.spark import SparkRawFetch
    from orchestration.lib.spark import active_session

    return SparkRawFetch(active_session())


def engine_identity(settings: Settings):
    """identity_people of a PostgreSQL or Spark build warehouse (identity resolution writes it there), as Arrow;
    None on DuckDB (the erasure reads it in place) or before identity resolution ever ran."""
    if settings.dbt_target == "postgres":
        return server_identity(settings)
    if settings.dbt_target == "spark":
        from orchestration.lib.erasure.spark import spark_identity
        from orchestration.lib.spark import active_session

        return spark_identity(active_session())
    return None


def apply_erasure_requests(settings: Settings) -> Erasure:
    """Applies the delivered requests not applied yet, all at once, then clears their identifiers: a request keeps
    its date and, in `_extra`, `{"erasure": "applied" | "unusable", "erased_at": ...}`. A request with no usable
    email or phone is cleared too, and counted in `unusable`."""
    now = utcnow()
    if not settings.warehouse_path.exists():
        return Erasure()
    with duckdb.connect(str(settings.warehouse_path)) as con:
        ensure_raw_tables(con)
        pending = con.execute(
            "select rowid, requested_at, email, coalesce(_phone_e164, phone) from raw.erasure_requests"
            f" where {PENDING_REQUEST}"
        ).fetchall()
        if not pending:
            return Erasure()
        seeds, outcomes, dates = [], {}, []
        for rowid, requested_at, email, phone in pending:
            try:
                seeds += parse_request(email, phone, settings.default_phone_region)
            except ErasureError:
                outcomes[rowid] = "unusable"
                continue
            outcomes[rowid] = "applied"
            dates.append(parse_timestamp(requested_at))
        key = pii_key(settings)
        earliest = min((d for d in dates if d), default=now)
        result = Erasure()
        if seeds:
            result = purge(con, seeds, key, earliest, now, engine_identity(settings), _engine_fetch(settings))
        cleared = 0
        for outcome in ("applied", "unusable"):
            rowids = [rowid for rowid, o in outcomes.items() if o == outcome]
            if rowids:
                cleared += con.execute(
                    f"update raw.erasure_requests set {cleared_request(outcome, now)}"
                    " where rowid in (select unnest(?))",
                    [rowids],
                ).fetchone()[0]
        result.removed["raw.erasure_requests"] = cleared
        result.unusable = sum(1 for o in outcomes.values() if o == "unusable")
        result.requests = len(pending) - result.unusable
        serving = purge_serving(con, settings.serving_path, result) if seeds else None
    finish(settings, result, serving)
    return result
