"""The suppression list of erased people (docs/privacy.md): `raw._suppressed`, one row per identifier of an erased
person, stored as its keyed hash (HMAC-SHA256, `orchestration/lib/privacy.py`), never as the identifier itself.

The loader consults it for every newly loaded file, so an old export delivered again does not bring an erased
person back. Like the phone cache, Python only sees the *distinct* identifier values of a file (to normalise and
hash them); the rows themselves are filtered by DuckDB with an anti-join on the raw values found suppressed.
Nothing here runs while the list is empty, which is the common case.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

import duckdb
import pyarrow as pa

from orchestration.lib.normalise import normalise_email, normalise_phone
from orchestration.lib.privacy import keyed_hash
from orchestration.lib.sql import quote_ident

TABLE = "raw._suppressed"
DDL = (
    f"create table if not exists {TABLE} (identifier_hash varchar, kind varchar, requested_at timestamp,"
    " erased_at timestamp)"
)
# landing column -> the kind of identifier it carries (the kinds are identity's typed prefixes, plus deal)
COLUMN_KINDS = {"email": "email", "phone": "phone", "anonymous_id": "anon", "lead_id": "lead", "deal_id": "deal"}
# an erasure request carries the erased person's identifiers by design: it is applied, not filtered
EXEMPT_SOURCES = ("erasure_requests",)
# a temp table of the current file's raw values to leave out: (column_name, value)
FILE_FILTER = "_suppressed_values"


def canonical(kind: str, value: str | None, phone_region: str = "US") -> str | None:
    """The form an identifier is hashed in: what staging makes of it (normalised email, E.164 phone, trimmed id)."""
    if value is None:
        return None
    if kind == "email":
        return normalise_email(value)
    if kind == "phone":
        return normalise_phone(value, phone_region)
    if kind == "anon":  # a cookie id in another case is the same cookie (staging lowercases it too)
        return str(value).strip().lower() or None
    return str(value).strip() or None


def record(
    con: duckdb.DuckDBPyConnection,
    identifiers: Iterable[tuple[str, str]],
    key: bytes,
    requested_at: datetime,
    erased_at: datetime,
) -> int:
    """Adds (kind, canonical value) pairs to the list as hashes; returns how many were not listed yet."""
    hashes = sorted({(kind, keyed_hash(value, key)) for kind, value in identifiers if value})
    if not hashes:
        return 0
    con.register(
        "_new_suppressed", pa.table({"kind": [k for k, _ in hashes], "identifier_hash": [h for _, h in hashes]})
    )
    try:
        return con.execute(
            f"insert into {TABLE} select n.identifier_hash, n.kind, ?, ? from _new_suppressed n"
            f" where not exists (select 1 from {TABLE} s"
            " where s.kind = n.kind and s.identifier_hash = n.identifier_hash)",
            [requested_at, erased_at],
        ).fetchone()[0]
    finally:
        con.unregister("_new_suppressed")


def suppressed_kinds(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.execute(f"select distinct kind from {TABLE}").fetchall()}


def prepare_file_filter(
    con: duckdb.DuckDBPyConnection,
    source: str,
    columns: Mapping[str, str],
    key: bytes | None,
    phone_region: str,
    relation: str = "_landing_file",
) -> list[str]:
    """Finds the raw values of the file being loaded whose identifier is suppressed and keeps them in the temp
    table `_suppressed_values`. `columns` maps contract columns to the file's own column names. Returns the contract
    columns that have suppressed values (empty: nothing to filter, the common case)."""
    if source in EXEMPT_SOURCES:
        return []
    kinds = suppressed_kinds(con)
    wanted = {column: name for column, name in columns.items() if COLUMN_KINDS.get(column) in kinds}
    if not wanted:
        return []
    if key is None:
        raise ValueError("the suppression list is not empty: loading needs the PII key to apply it")
    found_columns, found_values = [], []
    for column, name in wanted.items():
        kind = COLUMN_KINDS[column]
        distinct = f"select distinct cast({quote_ident(name)} as varchar) as v from {relation}"
        if kind == "phone":  # the E.164 from the phone cache when known: phonenumbers runs only for the rest
            sql = (
                f"select d.v, p.phone_e164 from ({distinct}) as d left join raw._phone_numbers as p"
                " on p.phone = d.v and p.region = ? where d.v is not null"
            )
            values = con.execute(sql, [phone_region]).fetchall()
        else:
            values = con.execute(f"select v, null from ({distinct}) where v is not null").fetchall()
        hashed = {}
        for value, e164 in values:
            form = e164 or canonical(kind, value, phone_region)
            if form is not None:
                hashed[value] = keyed_hash(form, key)
        if not hashed:
            continue
        con.register("_file_hashes", pa.table({"value": list(hashed), "identifier_hash": list(hashed.values())}))
        try:
            matched = con.execute(
                f"select f.value from _file_hashes f join {TABLE} s on s.identifier_hash = f.identifier_hash"
                " and s.kind = ?",
                [kind],
            ).fetchall()
        finally:
            con.unregister("_file_hashes")
        found_columns += [column] * len(matched)
        found_values += [row[0] for row in matched]
    found = pa.table(
        {"column_name": pa.array(found_columns, pa.string()), "value": pa.array(found_values, pa.string())}
    )
    con.register("_found_arrow", found)
    try:
        con.execute(f"create or replace temp table {FILE_FILTER} as select * from _found_arrow")
    finally:
        con.unregister("_found_arrow")
    return sorted(set(found_columns))


def filter_sql(columns: Mapping[str, str], filtered: Iterable[str], alias: str = "f") -> str:
    """A where-condition keeping the rows of the file with no suppressed value (`filtered` from prepare_file_filter)."""
    conditions = [
        f"not exists (select 1 from {FILE_FILTER} s where s.column_name = '{column}'"
        f" and s.value = cast({alias}.{quote_ident(columns[column])} as varchar))"
        for column in filtered
    ]
    return " and ".join(conditions) or "true"
