"""The keyed hash (HMAC-SHA256) that stands in for an email or phone wherever one must be recognised later:
`dim_people`, the suppression list of erased people, and for the columns the dbt YAML tags
`pii_published: keyed_hash` (the cookie ids of fct_touchpoints) in everything published (`published_query`).
The key is `CLOSEDLOOP_PII_KEY` (`Settings.pii_key`), else a random key generated once into `<data dir>/pii.key`
(readable by its owner only); losing it makes old hashes unmatchable."""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from orchestration.lib.sql import quote_ident
from orchestration.settings import Settings, load_settings

KEY_FILE = "pii.key"


def pii_key(settings: Settings | Path) -> bytes:
    """The key of `settings` (`Settings.pii_key`, from CLOSEDLOOP_PII_KEY), else of its data dir's key file.
    A path stands for the settings of that data dir."""
    if not isinstance(settings, Settings):
        settings = load_settings(data_dir=settings)
    if settings.pii_key:
        return settings.pii_key.encode()
    path = settings.data_dir / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def keyed_hash(value: str, key: bytes) -> str:
    digest = _keyed(key).copy()  # the key schedule is computed once per key, not once per value
    digest.update(value.encode())
    return digest.hexdigest()


@functools.lru_cache(maxsize=4)
def _keyed(key: bytes):
    return hmac.new(key, digestmod=hashlib.sha256)


def hmac_sha256_sql(expression: str, key: bytes) -> str:
    """DuckDB SQL of HMAC-SHA256(key, UTF-8 of `expression`) in lowercase hex: `keyed_hash`, value for value
    (RFC 2104 spelled out with sha256 over blobs; the inner and outer padded keys are literals of this query only,
    never stored)."""
    block = hashlib.sha256(key).digest() if len(key) > 64 else key
    block = block.ljust(64, b"\0")
    inner = bytes(b ^ 0x36 for b in block).hex()
    outer = bytes(b ^ 0x5C for b in block).hex()
    return f"sha256(unhex('{outer}') || unhex(sha256(unhex('{inner}') || encode(cast({expression} as varchar)))))"


def published_query(con, source: str, hashed_columns, key: bytes | None) -> str:
    """The query that publishes the table `source` on DuckDB connection `con`: every column as it is, but
    `hashed_columns` replaced by their keyed hash. Done at publishing, in DuckDB, for every engine: the warehouse of
    every dbt target is read through DuckDB here, so one implementation gives the same hashes whatever built the
    marts, and the key never reaches dbt (its compiled SQL, logs and run_results.json would keep it)."""
    columns = list(hashed_columns)
    if not columns:
        return f"select * from {source}"
    if not key:
        raise ValueError(f"{source}: publishing {', '.join(columns)} as keyed hashes needs the PII key")
    # each distinct value hashed once, into a temporary table of the connection, and joined back: a cookie id
    # recurs on many touches (4.5 per cookie at 100 k leads), the HMAC is two SHA-256 per value, and publishing
    # may read the query more than once (serving_changes compares, then inserts the changed rows)
    lookups = []
    for n, column in enumerate(columns):
        lookup = "published_hashes_" + re.sub(r"[^a-z0-9]+", "_", f"{source}_{column}".lower())
        con.execute(
            f"create or replace temp table {lookup} as select value, {hmac_sha256_sql('value', key)} as hashed"
            f" from (select distinct {quote_ident(column)} as value from {source})"
        )
        lookups.append(f"left join temp.{lookup} as hashed_{n} on hashed_{n}.value = published.{quote_ident(column)}")
    replaced = ", ".join(f"hashed_{n}.hashed as {quote_ident(c)}" for n, c in enumerate(columns))
    return f"select published.* replace ({replaced}) from {source} as published {' '.join(lookups)}"
