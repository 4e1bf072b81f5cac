"""Personal data by declaration (docs/privacy.md): which columns hold personal data is written once,
in the dbt YAML, as column meta `pii: <kind>`, and read here from dbt's manifest (target/manifest.json, which the
job parses before every run). Erasure (`erasure/`), the publish step's hashing (`privacy.published_query`) and
the serving file's scan during an erasure read these tags; no code matches column names.

    columns:
      - name: anonymous_id
        config:
          meta: {pii: cookie, pii_published: keyed_hash}

`pii` says what a column holds (`PII_KINDS`): the person's own identifiers (`email`, `phone`, `cookie`), the keys
that point at them (`person_id`, `lead_id`, …, a typed `identifier`, a quality `record_key`), their keyed hashes
(`email_hash`, …), or personal data that is no key (`name`, `company`, `free_text`, `url`, …): a table holding
that must also carry a key column, by which erasure deletes the row (tests/unit/test_personal_data.py).
`pii_published: keyed_hash` publishes the column as its HMAC-SHA256 (`privacy.py`): the serving file, its
PostgreSQL copy and the Parquet exports carry the hash, the warehouse keeps the raw value.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

from orchestration.settings import DBT_PROJECT_DIR

MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"
KEYED_HASH = "keyed_hash"  # the one value of `pii_published`
DBT_WORK_SUFFIXES = ("__dbt_tmp", "__dbt_backup")  # dbt's working copies of a model
ID_KINDS = ("touchpoint", "lead", "deal", "order", "activity")
# meta `pii` -> the kinds of erasure keys (erasure.keys.KEYS, `_erase_keys`) its values are matched against; () for
# personal data that is no key (the row goes by the table's key columns)
PII_KINDS: dict[str, tuple[str, ...]] = {
    "email": ("email",),  # normalised email (a raw table's email as delivered: see erasure.keys.RAW_MATCH)
    "phone": ("phone",),  # E.164
    "cookie": ("anon",),  # anonymous (cookie) id, lowercased
    "person_id": ("person",),
    "lead_id": ("lead",),
    "deal_id": ("deal",),
    "order_id": ("order",),
    "activity_id": ("activity",),
    "touchpoint_id": ("touchpoint",),
    "identifier": ("identifier",),  # typed: email:…, phone:…, anon:…, lead:…
    "record_key": ID_KINDS,  # quality tables: the key of the row, whatever the dataset
    "email_hash": ("email_hash",),  # keyed hash (privacy.keyed_hash) of the normalised email
    "phone_hash": ("phone_hash",),
    "cookie_hash": ("anon_hash",),
    "name": (),
    "company": (),
    "url": (),  # page and referrer URLs: query strings may carry anything
    "free_text": (),  # delivered values of any column (quarantine, unknown columns)
    "ip": (),
}
# the key kinds whose keyed hashes an erasure matches too (a column published as keyed_hash, dim_people's hashes)
HASHED_KINDS = {"email": "email_hash", "phone": "phone_hash", "anon": "anon_hash"}


class UndeclaredTable(LookupError):
    """A table of a schema erasure cleans that the dbt project does not declare (as a model, source or snapshot):
    nothing says which of its columns hold personal data."""


@dataclass(frozen=True)
class PiiColumn:
    kind: str
    published: str = ""  # KEYED_HASH: published as its keyed hash

    def key_kinds(self, published: bool = False) -> tuple[str, ...]:
        """The erasure key kinds this column's values match, in the warehouse or (published) in the serving file."""
        kinds = PII_KINDS[self.kind]
        if published and self.published == KEYED_HASH:
            return tuple(HASHED_KINDS[k] for k in kinds)
        return kinds


def pii_columns(manifest_path: Path = MANIFEST) -> dict[str, dict[str, PiiColumn]]:
    """`schema.table` → {column: its tag} for every model, snapshot, seed and source of the dbt project (a
    declared table with no tagged column maps to {})."""
    path = Path(manifest_path)
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: the personal-data tags are read from dbt's manifest (`dbt parse`,"
            " or any `closedloop run` / `closedloop erase`, writes it)"
        )
    return _read(str(path), path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _read(path: str, _mtime: int) -> dict[str, dict[str, PiiColumn]]:
    manifest = json.loads(Path(path).read_text())
    found: dict[str, dict[str, PiiColumn]] = {}
    for node in [*manifest["nodes"].values(), *manifest["sources"].values()]:
        if node["resource_type"] not in ("model", "source", "snapshot", "seed"):
            continue
        table = node.get("identifier") or node.get("alias") or node["name"]
        columns = found.setdefault(f"{node['schema']}.{table}", {})
        for name, column in node.get("columns", {}).items():
            meta = {**column.get("meta", {}), **column.get("config", {}).get("meta", {})}
            if "pii" in meta:
                if meta["pii"] not in PII_KINDS:
                    raise ValueError(
                        f"{node['unique_id']}.{name}: meta pii {meta['pii']!r} is not one of {sorted(PII_KINDS)}"
                    )
                published = meta.get("pii_published", "")
                if published not in ("", KEYED_HASH):
                    raise ValueError(f"{node['unique_id']}.{name}: meta pii_published must be {KEYED_HASH!r}")
                columns[name] = PiiColumn(meta["pii"], published)
    return found


def key_columns(
    relation: str, columns, published: bool = False, manifest_path: Path = MANIFEST
) -> dict[str, tuple[str, ...]]:
    """{column: erasure key kinds} of the table `relation` (`schema.table`) with these `columns`, by its tags;
    `published`: as the serving file carries it. UndeclaredTable when the dbt project does not declare it."""
    declared = pii_columns(manifest_path)
    for suffix in DBT_WORK_SUFFIXES:  # dbt's working copy of a model is the model's data
        relation = relation.removesuffix(suffix)
    if relation not in declared:
        raise UndeclaredTable(
            f"{relation} is not declared in the dbt project (a model, source or snapshot whose columns say"
            " `meta: {pii: ...}`): erasure cannot tell which of its columns hold personal data"
        )
    tags = declared[relation]
    return {c: tags[c].key_kinds(published) for c in columns if c in tags and tags[c].key_kinds(published)}


def published_hashes(manifest_path: Path = MANIFEST) -> dict[str, tuple[str, ...]]:
    """`schema.table` → the columns the publish step replaces by their keyed hash."""
    return {
        relation: tuple(c for c, tag in columns.items() if tag.published == KEYED_HASH)
        for relation, columns in pii_columns(manifest_path).items()
        if any(tag.published == KEYED_HASH for tag in columns.values())
    }


def hashed_keys(keys: dict[str, set[str]], key: bytes) -> list[tuple[str, str]]:
    """(hashed kind, keyed hash) of the person's emails, phones and cookies: what their published hashes and
    dim_people's hashes hold."""
    from orchestration.lib.privacy import keyed_hash

    return [
        (HASHED_KINDS[kind], keyed_hash(value, key)) for kind in HASHED_KINDS for value in sorted(keys.get(kind, ()))
    ]
