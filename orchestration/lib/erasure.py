"""Erasure of a person (docs/privacy.md): `closedloop erase` and delivered `erasure_requests/` files.

1. **Find the person's keys.** From the requested email (normalised) or phone (E.164): the raw values that
   normalise to that email; the rows of raw tables that carry them; from those rows the person's anonymous ids,
   lead ids, deal ids and the ids of their touchpoints, orders and activities, and from their lead and order
   records their other emails and phones (not blocklisted ones); then, when identity resolution has run, every
   identifier of the same `person_id` in `intermediate.identity_people` — repeated until nothing new turns up.
2. **Suppress.** The keyed hashes (HMAC-SHA256) of the person's emails, phones, anonymous ids, lead ids and deal
   ids go to `raw._suppressed`; the loader leaves out every later row that carries one (`suppression.py`).
3. **Purge.** Their rows leave every raw table and the phone cache; a delivered erasure request keeps only its
   date and the outcome. Rows of every table of `intermediate`, `marts` and `quality` whose key columns (`DOWNSTREAM_COLUMNS`)
   point at the person are deleted too, so the warehouse is consistent at once, without a full refresh (staging
   is views). A table that holds a person's data must carry one of those columns.
4. **Rewrite the files.** A deleted row survives in the free pages of a DuckDB file, so `warehouse.duckdb` is
   copied into a fresh file (COPY FROM DATABASE) that replaces it, and `serving.duckdb` is rebuilt without the
   person's rows and renamed over the old one (BI readers of the old file keep it whole, like a publish); the
   Parquet exports are rewritten from it.

The caller holds the writer lock (`closedloop erase`, or the nightly run that loaded the requests).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from orchestration.lib import suppression
from orchestration.lib.contract import CONTRACTS
from orchestration.lib.files import fsync, remove_database
from orchestration.lib.identity import blocked, read_blocklist_seed
from orchestration.lib.landing import ensure_raw_tables
from orchestration.lib.normalise import normalise_email, normalise_phone
from orchestration.lib.privacy import pii_key
from orchestration.settings import Settings

KEYS = "_erase_keys"  # temp table (kind, value) of everything that identifies the person
IDENTITY_TABLE = ("intermediate", "identity_people")
IDENTITY_KINDS = ("email", "phone", "anon", "lead")  # the typed prefixes of identity_people.identifier
ID_KINDS = ("touchpoint", "lead", "deal", "order", "activity")
# raw column -> the kind of key it is matched against (emails as delivered: `raw_email`); ids are trimmed like staging
RAW_MATCH = {
    "email": "raw_email",
    "_phone_e164": "phone",
    "anonymous_id": "anon",
    "lead_id": "lead",
    "deal_id": "deal",
    "touchpoint_id": "touchpoint",
    "order_id": "order",
    "activity_id": "activity",
}
# raw columns whose values, on a matched row, are more keys of the person
RAW_HARVEST = {k: v for k, v in RAW_MATCH.items() if k not in ("email", "_phone_e164")}
# records about one person (not a visit: a shared cookie must not spread an erasure): their emails and phones,
# on a row matched by email, phone or lead id, are the person's too
PROFILE_TABLES = ("leads", "orders")
# columns of intermediate/marts/quality tables (and the serving file) that point at a person, and what they hold
DOWNSTREAM_COLUMNS = {
    "touchpoint_id": ("touchpoint",),
    "lead_id": ("lead",),
    "deal_id": ("deal",),
    "order_id": ("order",),
    "activity_id": ("activity",),
    "person_id": ("person",),
    "anonymous_id": ("anon",),
    "email": ("email",),
    "phone": ("phone",),
    "identifier": ("identifier",),  # typed: email:…, phone:…, anon:…, lead:…
    "record_key": ID_KINDS,  # quality.quarantine and quarantined_keys: the key of the row
}
DOWNSTREAM_SCHEMAS = ("intermediate", "marts", "quality")
SUPPRESSED_KINDS = tuple(suppression.COLUMN_KINDS.values())
# a delivered request not handled yet: it still names somebody (a handled one keeps only `{"erasure": ...}`)
PENDING_REQUEST = (
    "email is not null or phone is not null or _phone_e164 is not null"
    " or (_extra is not null and json_extract_string(_extra, '$.erasure') is null)"
)


class ErasureError(ValueError):
    """An erasure request that names nobody: no usable email or phone."""


@dataclass
class Erasure:
    removed: dict[str, int] = field(default_factory=dict)  # table -> rows removed (or cleared)
    identifiers: dict[str, int] = field(default_factory=dict)  # kind -> keys of the person found
    suppressed: int = 0  # identifier hashes newly added to raw._suppressed
    requests: int = 0  # requests applied
    unusable: int = 0  # delivered requests with no valid email or phone (cleared, nothing erased)
    rewritten: list[Path] = field(default_factory=list)
    # kind -> values: to purge other copies of the raw data (PostgreSQL); held in memory only, never written
    keys: dict[str, set[str]] = field(default_factory=dict, repr=False)

    @property
    def rows_removed(self) -> int:
        """Rows deleted from the warehouse (a cleared erasure request is not a removed row, nor is serving's copy)."""
        return sum(n for table, n in self.removed.items() if table != "raw.erasure_requests" and ":" not in table)


def parse_request(email: str | None, phone: str | None, phone_region: str = "US") -> list[tuple[str, str]]:
    """The (kind, normalised value) pairs a request names: its valid email and phone; ErasureError when neither
    is valid (a request with a valid email and a garbled phone still erases by the email)."""
    seeds, errors = [], []
    if email is not None and str(email).strip():
        normalised = normalise_email(email)
        if normalised is None:
            errors.append(f"{email!r} is not a valid email address")
        else:
            seeds.append(("email", normalised))
    if phone is not None and str(phone).strip():
        e164 = normalise_phone(phone, phone_region)
        if e164 is None:
            errors.append(f"{phone!r} is not a valid phone number (region {phone_region} when it has no country code)")
        else:
            seeds.append(("phone", e164))
    if not seeds:
        raise ErasureError("; ".join(errors) or "an erasure request needs an email or a phone")
    return seeds


def erase(settings: Settings, seeds: list[tuple[str, str]], requested_at: datetime | None = None) -> Erasure:
    """Erases the person named by `seeds` (see parse_request) from the data dir; works before any run too (the
    suppression list is then all there is to write)."""
    now = _utcnow()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key = pii_key(settings.data_dir)
    # an existing warehouse is rewritten even when no row of the person is left in it: a retry after an
    # interrupted erasure (rows deleted, file not yet rewritten) must still clear the free pages
    existed = settings.warehouse_path.exists()
    with duckdb.connect(str(settings.warehouse_path)) as con:
        ensure_raw_tables(con)
        result = purge(con, seeds, key, requested_at or now, now, _server_identity(settings))
        result.requests = 1
        serving = _purge_serving(con, settings.serving_path, result)
    _finish(settings, result, serving, rewrite=existed)
    return result


def apply_erasure_requests(settings: Settings) -> Erasure:
    """Applies the delivered requests not applied yet, all at once, then clears their identifiers: a request keeps
    its date and, in `_extra`, `{"erasure": "applied" | "unusable", "erased_at": ...}`. A request with no usable
    email or phone is cleared too, and counted in `unusable`."""
    now = _utcnow()
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
            dates.append(_timestamp(requested_at))
        key = pii_key(settings.data_dir)
        earliest = min((d for d in dates if d), default=now)
        result = purge(con, seeds, key, earliest, now, _server_identity(settings)) if seeds else Erasure()
        cleared = 0
        for outcome in ("applied", "unusable"):
            rowids = [rowid for rowid, o in outcomes.items() if o == outcome]
            if rowids:
                cleared += con.execute(
                    f"update raw.erasure_requests set {_cleared_request(outcome, now)} where rowid in (select unnest(?))",
                    [rowids],
                ).fetchone()[0]
        result.removed["raw.erasure_requests"] = cleared
        result.unusable = sum(1 for o in outcomes.values() if o == "unusable")
        result.requests = len(pending) - result.unusable
        serving = _purge_serving(con, settings.serving_path, result) if seeds else None
    _finish(settings, result, serving)
    return result


def purge(
    con: duckdb.DuckDBPyConnection,
    seeds: Iterable[tuple[str, str]],
    key: bytes,
    requested_at: datetime,
    erased_at: datetime,
    identity: pa.Table | None = None,
) -> Erasure:
    """Steps 1-3 on an open warehouse connection; leaves the person's keys in the temp table `_erase_keys`.
    `identity`: the rows of identity_people when identity resolution wrote them elsewhere (a PostgreSQL server)."""
    con.execute(f"create or replace temp table {KEYS} (kind varchar, value varchar)")
    _add_keys(con, seeds)
    if identity is not None:
        con.register("_server_identity", identity)
        con.execute("create or replace temp table _identity_people as select * from _server_identity")
        con.unregister("_server_identity")
    elif _table_exists(con, *IDENTITY_TABLE):
        con.execute("create or replace temp view _identity_people as select * from intermediate.identity_people")
    _expand(con)
    keys: dict[str, set[str]] = {}
    for kind, value in con.execute(f"select kind, value from {KEYS}").fetchall():
        keys.setdefault(kind, set()).add(value)
    result = Erasure(identifiers={k: len(v) for k, v in sorted(keys.items()) if k != "raw_email"}, keys=keys)
    result.suppressed = suppression.record(
        con, [(kind, value) for kind in SUPPRESSED_KINDS for value in keys.get(kind, ())], key, requested_at, erased_at
    )
    con.execute("begin transaction")
    try:
        result.removed = _delete_raw(con) | _delete_downstream(con)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return result


def rewrite_database(path: Path) -> None:
    """Copies every schema, table, view and macro into a fresh file and renames it over `path`: deleted rows left
    in free pages of the old file are gone with it. The file must not be open elsewhere."""
    fresh = path.with_name(f".{path.name}.rewrite.tmp")
    remove_database(fresh)
    try:
        with duckdb.connect() as con:
            con.execute(f"attach {_sql_string(str(path))} as old_file (read_only)")
            con.execute(f"attach {_sql_string(str(fresh))} as new_file")
            con.execute("copy from database old_file to new_file")
            con.execute("detach new_file")
            con.execute("detach old_file")
        fsync(fresh)
        os.replace(fresh, path)
        fsync(path.parent)
    finally:
        remove_database(fresh)


# --- finding the person -------------------------------------------------------------------------------------


def _add_keys(con, pairs: Iterable[tuple[str, str]]) -> None:
    pairs = sorted({(k, v) for k, v in pairs if v is not None})
    if not pairs:
        return
    con.register("_new_keys", pa.table({"kind": [k for k, _ in pairs], "value": [v for _, v in pairs]}))
    try:
        con.execute(
            f"insert into {KEYS} select n.kind, n.value from _new_keys n"
            f" where not exists (select 1 from {KEYS} k where k.kind = n.kind and k.value = n.value)"
        )
    finally:
        con.unregister("_new_keys")


def _count(con) -> int:
    return con.execute(f"select count(*) from {KEYS}").fetchone()[0]


def _expand(con) -> None:
    """Adds the person's other keys until nothing new turns up (a few passes: email → lead → deal, ...)."""
    identity = _temp_exists(con, "_identity_people")
    for _ in range(10):
        before = _count(con)
        _add_raw_emails(con)
        _add_profile_identifiers(con)
        for table in _raw_tables(con):
            columns = _columns(con, "raw", table)
            harvest = [c for c in columns if c in RAW_HARVEST]
            match = _raw_match(columns)
            if not harvest or match is None:
                continue
            # one scan of the table: the matched rows' keys, unpivoted (unnest of two lists of the same length)
            kinds = ", ".join(f"'{RAW_HARVEST[c]}'" for c in harvest)
            values = ", ".join(f"nullif({_raw_key(c)}, '')" for c in harvest)
            found = f"select unnest([{kinds}]) as kind, unnest([{values}]) as value from raw.{_ident(table)} where {match}"
            con.execute(
                f"insert into {KEYS} select distinct kind, value from ({found}) as found where value is not null"
                f" and not exists (select 1 from {KEYS} k where k.kind = found.kind and k.value = found.value)"
            )
        if identity:
            _expand_identity(con)
        if _count(con) == before:
            return


def _add_raw_emails(con) -> None:
    """The raw (delivered) spellings of the person's emails: candidates are found in SQL (the normalised local part
    occurs in the lowercased value with dots removed), then checked with normalise_email, once per distinct value."""
    emails = {v for (v,) in con.execute(f"select value from {KEYS} where kind = 'email'").fetchall()}
    if not emails:
        return
    needles = sorted({email.split("@", 1)[0].replace(".", "") for email in emails})
    con.register("_needles", pa.table({"needle": needles}))
    try:
        candidates = set()
        for table in _raw_tables(con):
            if "email" not in _columns(con, "raw", table):
                continue
            candidates |= {
                row[0]
                for row in con.execute(
                    f"select distinct e.email from (select distinct email from raw.{_ident(table)}) as e, _needles as n"
                    " where e.email is not null and contains(replace(lower(e.email), '.', ''), n.needle)"
                ).fetchall()
            }
    finally:
        con.unregister("_needles")
    _add_keys(con, [("raw_email", raw) for raw in candidates if normalise_email(raw) in emails])


def _add_profile_identifiers(con) -> None:
    """The emails and phones on the person's lead and order records, junk (the identity blocklist) left out."""
    found = set()
    for table in PROFILE_TABLES:
        columns = _columns(con, "raw", table)
        match = _raw_match([c for c in columns if c in ("email", "_phone_e164", "lead_id")])
        if match is None:
            continue
        sql = f"select distinct email, _phone_e164 from raw.{_ident(table)} where {match}"
        for email, phone in con.execute(sql).fetchall():
            if normalise_email(email):
                found.add(f"email:{normalise_email(email)}")
            if phone:
                found.add(f"phone:{phone}")
    if found:
        typed = pd.Series(sorted(found), dtype="string")
        kept = typed[~blocked(typed, read_blocklist_seed())]
        _add_keys(con, [tuple(identifier.split(":", 1)) for identifier in kept])


def _expand_identity(con) -> None:
    """Every identifier of the person_ids that any of the person's identifiers belongs to."""
    kinds = ", ".join(f"'{k}'" for k in IDENTITY_KINDS)
    con.execute(
        f"create or replace temp table _erase_people as select distinct person_id from _identity_people"
        f" where identifier in (select kind || ':' || value from {KEYS} where kind in ({kinds}))"
    )
    con.execute(
        f"insert into {KEYS} select distinct kind, value from ("
        "  select 'person' as kind, cast(person_id as varchar) as value from _erase_people"
        "  union all"
        "  select split_part(identifier, ':', 1), substr(identifier, strpos(identifier, ':') + 1)"
        "  from _identity_people where person_id in (select person_id from _erase_people)"
        f") as found where kind in ('person', {kinds}) and value is not null"
        f" and not exists (select 1 from {KEYS} k where k.kind = found.kind and k.value = found.value)"
    )


# --- removing the rows --------------------------------------------------------------------------------------


def _delete_raw(con) -> dict[str, int]:
    removed = {}
    for table in _raw_tables(con):
        if table in suppression.EXEMPT_SOURCES:
            continue  # erasure_requests: cleared below, the request itself stays
        match = _raw_match(_columns(con, "raw", table))
        if match is not None:
            removed[f"raw.{table}"] = con.execute(f"delete from raw.{_ident(table)} where {match}").fetchone()[0]
    removed["raw._phone_numbers"] = con.execute(
        f"delete from raw._phone_numbers where phone_e164 in (select value from {KEYS} where kind = 'phone')"
    ).fetchone()[0]
    removed["raw.erasure_requests"] = con.execute(
        f"update raw.erasure_requests set {_cleared_request('applied', _utcnow())}"
        f" where {_raw_match(['email', '_phone_e164'])}"
    ).fetchone()[0]
    return removed


def _delete_downstream(con) -> dict[str, int]:
    removed = {}
    for schema in DOWNSTREAM_SCHEMAS:
        for table in _base_tables(con, schema):
            match = _downstream_match(_columns(con, schema, table))
            if match is not None:
                removed[f"{schema}.{table}"] = con.execute(
                    f"delete from {schema}.{_ident(table)} where {match}"
                ).fetchone()[0]
    return removed


def _purge_serving(con, serving_path: Path, result: Erasure) -> Path | None:
    """Replaces the serving file with a new one without the person's rows (a new file renamed over the old one,
    never an in-place write, keeping its comments and keys); returns its path. None when there is no serving file
    or it holds none of the person's rows (then it stays as it is)."""
    from orchestration.lib.publish import write_and_replace
    from orchestration.lib.serving_docs import docs_from_duckdb

    if not serving_path.exists():
        return None
    con.execute(f"attach {_sql_string(str(serving_path))} as old_serving (read_only)")
    try:
        tables = {}
        for schema, table in _base_tables_in(con, "old_serving"):
            match = _downstream_match(_columns(con, schema, table, catalog="old_serving")) or "false"
            source = f"old_serving.{_ident(schema)}.{_ident(table)}"
            hits = con.execute(f"select count(*) from {source} where {match}").fetchone()[0]
            tables[f"{schema}.{table}"] = f"select * from {source} where not coalesce({match}, false)"
            result.removed[f"serving: {schema}.{table}"] = hits
        if not any(result.removed[f"serving: {name}"] for name in tables):
            return None
        write_and_replace(con, serving_path, "erase", tables, docs_from_duckdb(con, "old_serving"))
    finally:
        con.execute("detach old_serving")
    return serving_path


def _finish(settings: Settings, result: Erasure, serving: Path | None, rewrite: bool = False) -> None:
    """Renames the rebuilt serving file over the old one, rewrites the Parquet exports, and rewrites the
    warehouse when rows left it or `rewrite` (the warehouse connection is closed by now)."""
    if serving is not None:
        result.rewritten.append(settings.serving_path)
        if settings.exports_dir.is_dir():
            from orchestration.lib.publish import export_parquet

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


def _server_identity(settings: Settings) -> pa.Table | None:
    """identity_people of the PostgreSQL build warehouse (identity resolution writes it there), if it has one."""
    if settings.dbt_target != "postgres":
        return None
    from orchestration.lib.warehouse import open_warehouse

    with open_warehouse("postgres", settings.warehouse_path) as warehouse:
        found = warehouse.read_text(
            "select count(*) as found from information_schema.tables"
            " where table_schema = 'intermediate' and table_name = 'identity_people'"
        )
        if found.column("found")[0].as_py() == "0":
            return None
        return warehouse.read_text("select identifier, person_id from intermediate.identity_people")


# --- the PostgreSQL copy of raw (orchestration/lib/postgres.py) and the models dbt built there -------------


def purge_postgres(
    conninfo: dict | str, keys: dict[str, set[str]], schemas: Iterable[str] = ("raw", *DOWNSTREAM_SCHEMAS)
) -> dict[str, int]:
    """Deletes the person (`Erasure.keys` of an erase on the DuckDB warehouse) from a PostgreSQL server: raw rows
    by the same rules as in DuckDB (an erasure request keeps its date), and rows of the intermediate, marts and
    quality tables by their key columns; then VACUUM FULL rewrites each table that lost rows, so dead tuples do
    not keep the bytes. Returns rows removed per table."""
    import psycopg2

    pg = psycopg2.connect(conninfo) if isinstance(conninfo, str) else psycopg2.connect(**conninfo)
    removed: dict[str, int] = {}
    try:
        with pg, pg.cursor() as cur:
            cur.execute(f"create temp table {KEYS} (kind text, value text) on commit drop")
            rows = [(kind, value) for kind, values in sorted(keys.items()) for value in sorted(values)]
            cur.executemany(f"insert into {KEYS} values (%s, %s)", rows)
            for schema in schemas:
                cur.execute(
                    "select table_name from information_schema.tables where table_schema = %s"
                    " and table_type = 'BASE TABLE' order by 1",
                    [schema],
                )
                for (table,) in cur.fetchall():
                    cur.execute(
                        "select column_name from information_schema.columns where table_schema = %s"
                        " and table_name = %s order by ordinal_position",
                        [schema, table],
                    )
                    columns = [row[0] for row in cur.fetchall()]
                    name = f"{_ident(schema)}.{_ident(table)}"
                    if schema == "raw" and table in suppression.EXEMPT_SOURCES:
                        cur.execute(
                            f"update {name} set {_cleared_request('applied', _utcnow())}"
                            f" where {_raw_match(['email', '_phone_e164'])}"
                        )
                    else:
                        match = _raw_match(columns) if schema == "raw" else _downstream_match(columns)
                        if match is None:
                            continue
                        cur.execute(f"delete from {name} where {match}")
                    removed[f"{schema}.{table}"] = cur.rowcount
        pg.autocommit = True  # VACUUM cannot run inside a transaction
        with pg.cursor() as cur:
            for table, rows in removed.items():
                if rows:
                    schema, name = table.split(".", 1)
                    cur.execute(f"vacuum full {_ident(schema)}.{_ident(name)}")
    finally:
        pg.close()
    return removed


# --- SQL helpers --------------------------------------------------------------------------------------------


def _cleared_request(outcome: str, erased_at: datetime) -> str:
    """SET clause of an erasure request once handled: no identifier left, only what happened and when."""
    marker = json.dumps({"erasure": outcome, "erased_at": erased_at.isoformat(timespec="seconds")})
    return f"email = null, phone = null, _phone_e164 = null, _extra = {_sql_string(marker)}"


def _in_keys(expression: str, kinds: Iterable[str]) -> str:
    kinds = list(kinds)
    if kinds == ["identifier"]:
        typed = ", ".join(f"'{k}'" for k in IDENTITY_KINDS)
        return f"{expression} in (select kind || ':' || value from {KEYS} where kind in ({typed}))"
    return f"{expression} in (select value from {KEYS} where kind in ({', '.join(repr(k) for k in kinds)}))"


def _raw_match(columns: Iterable[str]) -> str | None:
    conditions = []
    for column in columns:
        kind = RAW_MATCH.get(column)
        if kind is None:
            continue
        expression = _ident(column) if column in ("email", "_phone_e164") else _raw_key(column)
        conditions.append(_in_keys(expression, [kind]))
    return " or ".join(conditions) or None


def _raw_key(column: str) -> str:
    """A raw id as staging makes it: trimmed; a cookie id also lowercased (cookies match whatever their case)."""
    trimmed = f"trim({_ident(column)})"
    return f"lower({trimmed})" if column == "anonymous_id" else trimmed


def _downstream_match(columns: Iterable[str]) -> str | None:
    conditions = [
        _in_keys(f"cast({_ident(column)} as varchar)", DOWNSTREAM_COLUMNS[column])
        for column in columns
        if column in DOWNSTREAM_COLUMNS
    ]
    return " or ".join(conditions) or None


def _raw_tables(con) -> list[str]:
    present = set(_base_tables(con, "raw"))
    return [name for name in CONTRACTS if name in present]


def _base_tables(con, schema: str) -> list[str]:
    return [
        row[0]
        for row in con.execute(
            "select table_name from information_schema.tables where table_catalog = current_database()"
            " and table_schema = ? and table_type = 'BASE TABLE' order by 1",
            [schema],
        ).fetchall()
    ]


def _base_tables_in(con, catalog: str) -> list[tuple[str, str]]:
    return [
        (schema, table)
        for schema, table in con.execute(
            "select table_schema, table_name from information_schema.tables where table_catalog = ?"
            " and table_type = 'BASE TABLE' order by 1, 2",
            [catalog],
        ).fetchall()
    ]


def _temp_exists(con, name: str) -> bool:
    return bool(con.execute("select 1 from duckdb_tables() where temporary and table_name = ? union all"
                            " select 1 from duckdb_views() where temporary and view_name = ?", [name, name]).fetchone())


def _table_exists(con, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select 1 from information_schema.tables where table_catalog = current_database()"
            " and table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()
    )


def _columns(con, schema: str, table: str, catalog: str | None = None) -> list[str]:
    return [
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns where table_catalog = coalesce(?, current_database())"
            " and table_schema = ? and table_name = ? order by ordinal_position",
            [catalog, schema, table],
        ).fetchall()
    ]


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _timestamp(value) -> datetime | None:
    """A delivered requested_at (text) as a naive UTC timestamp, or None when it does not parse."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(timezone.utc).replace(tzinfo=None) if parsed.tzinfo else parsed




def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
