"""Finding the person (step 1): every key that identifies them, gathered in the temp table `_erase_keys`
(kind, value), and the SQL conditions that match a raw or downstream row against those keys."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import duckdb
import pyarrow as pa

from orchestration.lib import personal_data
from orchestration.lib.contract import CONTRACTS
from orchestration.lib.identity import blocked_sql, read_blocklist_seed
from orchestration.lib.normalise import normalise_email
from orchestration.lib.sql import quote_ident, table_names

KEYS = "_erase_keys"  # temp table (kind, value) of everything that identifies the person

IDENTITY_TABLE = ("intermediate", "identity_people")

IDENTITY_KINDS = ("email", "phone", "anon", "lead")  # the typed prefixes of identity_people.identifier

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

# which columns of intermediate/marts/quality tables (and the serving file) point at a person: their dbt YAML says
# (`meta: {pii: ...}`), read by personal_data.key_columns

DOWNSTREAM_SCHEMAS = ("intermediate", "marts", "quality")


def add_keys(con: duckdb.DuckDBPyConnection, pairs: Iterable[tuple[str, str]]) -> None:
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


def expand(con: duckdb.DuckDBPyConnection, fetch: Callable | None = None) -> None:
    """Adds the person's other keys until nothing new turns up (a few passes: email → lead → deal, ...). `fetch(con)`
    runs before each pass: it brings the raw rows the pass may need from where they live (Spark) into `con`."""
    identity = _temp_exists(con, "_identity_people")
    for _ in range(10):
        if fetch is not None:
            fetch(con)
        before = _count(con)
        _add_raw_emails(con)
        _add_profile_identifiers(con)
        for table in raw_tables(con):
            columns = columns_of(con, "raw", table)
            harvest = [c for c in columns if c in RAW_HARVEST]
            match = raw_match(columns)
            if not harvest or match is None:
                continue
            # one scan of the table: the matched rows' keys, unpivoted (unnest of two lists of the same length)
            kinds = ", ".join(f"'{RAW_HARVEST[c]}'" for c in harvest)
            values = ", ".join(f"nullif({_raw_key(c)}, '')" for c in harvest)
            found = (
                f"select unnest([{kinds}]) as kind, unnest([{values}]) as value"
                f" from raw.{quote_ident(table)} where {match}"
            )
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
    needles = email_needles(emails)
    con.register("_needles", pa.table({"needle": needles}))
    try:
        candidates = set()
        for table in raw_tables(con):
            if "email" not in columns_of(con, "raw", table):
                continue
            candidates |= {
                row[0]
                for row in con.execute(
                    "select distinct e.email"
                    f" from (select distinct email from raw.{quote_ident(table)}) as e, _needles as n"
                    " where e.email is not null and contains(replace(lower(e.email), '.', ''), n.needle)"
                ).fetchall()
            }
    finally:
        con.unregister("_needles")
    add_keys(con, [("raw_email", raw) for raw in candidates if normalise_email(raw) in emails])


def email_needles(emails: Iterable[str]) -> list[str]:
    """What a delivered spelling of one of the (normalised) `emails` contains once lowercased, dots removed."""
    return sorted({email.split("@", 1)[0].replace(".", "") for email in emails})


def _add_profile_identifiers(con) -> None:
    """The emails and phones on the person's lead and order records, junk (the identity blocklist) left out."""
    found = set()
    for table in PROFILE_TABLES:
        columns = columns_of(con, "raw", table)
        match = raw_match([c for c in columns if c in ("email", "_phone_e164", "lead_id")])
        if match is None:
            continue
        sql = f"select distinct email, _phone_e164 from raw.{quote_ident(table)} where {match}"
        for email, phone in con.execute(sql).fetchall():
            if normalise_email(email):
                found.add(f"email:{normalise_email(email)}")
            if phone:
                found.add(f"phone:{phone}")
    if found:
        con.register("_erase_found", pa.table({"identifier": pa.array(sorted(found), pa.string())}))
        con.register("_erase_patterns", pa.table({"pattern": pa.array(read_blocklist_seed(), pa.string())}))
        junk = {row[0] for row in con.execute(blocked_sql("_erase_found", "_erase_patterns")).fetchall()}
        con.unregister("_erase_found")
        con.unregister("_erase_patterns")
        add_keys(con, [tuple(identifier.split(":", 1)) for identifier in sorted(found - junk)])


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


def _in_keys(expression: str, kinds: Iterable[str]) -> str:
    kinds = list(kinds)
    if kinds == ["identifier"]:
        typed = ", ".join(f"'{k}'" for k in IDENTITY_KINDS)
        return f"{expression} in (select kind || ':' || value from {KEYS} where kind in ({typed}))"
    return f"{expression} in (select value from {KEYS} where kind in ({', '.join(repr(k) for k in kinds)}))"


def raw_match(columns: Iterable[str]) -> str | None:
    conditions = []
    for column in columns:
        kind = RAW_MATCH.get(column)
        if kind is None:
            continue
        expression = quote_ident(column) if column in ("email", "_phone_e164") else _raw_key(column)
        conditions.append(_in_keys(expression, [kind]))
    return " or ".join(conditions) or None


def _raw_key(column: str) -> str:
    """A raw id as staging makes it: trimmed; a cookie id also lowercased (cookies match whatever their case)."""
    trimmed = f"trim({quote_ident(column)})"
    return f"lower({trimmed})" if column == "anonymous_id" else trimmed


def downstream_match(relation: str, columns: Iterable[str], published: bool = False) -> str | None:
    """Rows of `relation` (`schema.table`) that point at the person, by its columns' personal-data tags
    (`published`: as the serving file carries them, hashed where the tag says so); None when no column does."""
    conditions = [
        _in_keys(f"cast({quote_ident(column)} as varchar)", kinds)
        for column, kinds in personal_data.key_columns(relation, columns, published).items()
    ]
    return " or ".join(conditions) or None


def raw_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    present = set(table_names(con, "raw", base_only=True))
    return [name for name in CONTRACTS if name in present]


def _temp_exists(con, name: str) -> bool:
    return bool(
        con.execute(
            "select 1 from duckdb_tables() where temporary and table_name = ? union all"
            " select 1 from duckdb_views() where temporary and view_name = ?",
            [name, name],
        ).fetchone()
    )


def columns_of(con: duckdb.DuckDBPyConnection, schema: str, table: str, catalog: str | None = None) -> list[str]:
    return [
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns where table_catalog = coalesce(?, current_database())"
            " and table_schema = ? and table_name = ? order by ordinal_position",
            [catalog, schema, table],
        ).fetchall()
    ]
