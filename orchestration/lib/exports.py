"""Parquet copies of the published tables in <data dir>/exports/: one file per table, replaced atomically, with the
dbt descriptions as field and schema metadata. A file whose table did not change since it was written is kept
(its fingerprint says so), so a night writes only what changed.

The long form of attribution (fct_attribution, a view over fct_attribution_wide in the serving file) is a folder
of files instead, `fct_attribution.parquet/`, because it is the largest export and most of it does not change: the
rule-based models' rows in one file per conversion month, which a night writes again only for the months whose
conversions changed, and the data-driven models' rows (Markov and Shapley move every conversion each night) in one
file of their own. The folder name is a link to a hidden version folder, swapped in one rename, so a reader sees
one night's files, never a mix (docs/serving.md#the-long-form-of-attribution-is-a-folder)."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.lib.files import atomic_replace, replace_synced
from orchestration.lib.publish import PUBLISHED, SERVED_AS_VIEWS, attribution_long_form, published_tables
from orchestration.lib.serving_docs import TableDoc, docs_from_duckdb
from orchestration.lib.sql import quote_ident as _ident
from orchestration.lib.sql import sql_literal

DATA_DRIVEN = ("markov", "shapley")  # the models whose shares move for every conversion when a night adds paths
MONTH = "date_trunc('month', converted_at)"  # a rule-based file's rows: their conversion month


def export_parquet(serving_path: Path, exports_dir: Path, schemas: tuple[str, ...] = tuple(PUBLISHED)) -> list[Path]:
    """Parquet copies of the published tables of `schemas`, with each column's description as field metadata
    (`description`) and the table's as schema metadata; the files (and folder) written, not those kept."""
    exports_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(serving_path), read_only=True) as con:
        catalog = con.execute("select current_database()").fetchone()[0]
        docs = docs_from_duckdb(con, catalog)
        targets = {
            name: exports_dir / f"{table if schema == 'marts' else f'{schema}_{table}'}.parquet"
            for name in published_tables(con, catalog)
            for schema, table in [name.split(".")]
            if schema in schemas
        }
        folders = {
            name: _plan_folder(targets[name], _attribution_parts(con, name, docs.get(name, TableDoc())))
            for name in targets
            if name in SERVED_AS_VIEWS
        }
        # the folders' files first: they are the largest
        jobs: list[tuple[Path, Callable]] = [
            (folder.version / part.name, lambda cursor, target, part=part: _write_part(cursor, part, target))
            for folder in folders.values()
            if folder is not None
            for part in folder.parts
        ]
        jobs += [
            (target, lambda cursor, target, name=name: _write_parquet(cursor, name, docs.get(name, TableDoc()), target))
            for name, target in targets.items()
            if name not in folders
        ]

        def run(job: tuple[Path, Callable]) -> bool:
            with con.cursor() as cursor:  # a cursor per thread
                return job[1](cursor, job[0])

        # pyarrow compresses a file in one thread: the files are written side by side, one per core
        with ThreadPoolExecutor(max_workers=max(1, min(len(jobs), os.cpu_count() or 1))) as pool:
            done = list(pool.map(run, jobs))
    for folder in folders.values():
        if folder is not None:
            _swap(folder)
    written = [targets[name] for name, folder in folders.items() if folder is not None]
    return written + [
        target for (target, _), wrote in zip(jobs, done, strict=True) if wrote and target in targets.values()
    ]


def _write_parquet(con, name: str, doc: TableDoc, target: Path) -> bool:
    """Writes the table to `target`, unless the file there already holds the same rows, columns and descriptions
    (its `closedloop_fingerprint` metadata says so); whether it wrote."""
    relation = con.sql(f"select * from {name}")
    # fetched whole: the export's reader runs on this connection next
    rows, total = con.execute(
        f"select count(*), sum(hash({', '.join(_ident(c) for c in relation.columns)})::hugeint) from {name}"
    ).fetchall()[0]
    fingerprint = _digest(rows, total, _described(con, name, doc))
    if _fingerprint_of(target) == fingerprint:
        return False
    _write_file(relation, doc, fingerprint, target)
    return True


def _write_part(con, part: Part, target: Path) -> bool:
    _write_file(con.sql(part.query), part.doc, part.fingerprint, target)
    return False  # the folder counts as written, not its files


def _write_file(relation, doc: TableDoc, fingerprint: bytes, target: Path) -> None:
    """The rows of `relation` into `target`, replaced atomically, with the descriptions and the fingerprint."""
    # DuckDB 1.4 renamed fetch_arrow_reader to to_arrow_reader
    open_reader = getattr(relation, "to_arrow_reader", None) or relation.fetch_arrow_reader
    reader = open_reader(1_000_000)
    fields = [
        f.with_metadata({"description": doc.columns[f.name]}) if doc.columns.get(f.name) else f for f in reader.schema
    ]
    metadata = {"closedloop_fingerprint": fingerprint, **({"description": doc.description} if doc.description else {})}
    schema = pa.schema(fields, metadata=metadata)

    def write(temporary: Path) -> None:
        with pq.ParquetWriter(temporary, schema, write_statistics=_with_statistics(schema)) as writer:
            for batch in reader:
                writer.write_batch(pa.RecordBatch.from_arrays(batch.columns, schema=schema))

    atomic_replace(target, write)


def _with_statistics(schema: pa.Schema) -> list[str]:
    """The columns whose min and max the file records: all but text ids (`*_id`). Ids are spread evenly over every
    row group, so their bounds let a reader skip nothing, and computing them was a fifth of writing
    fct_attribution.parquet."""
    return [f.name for f in schema if not (pa.types.is_string(f.type) and f.name.endswith("_id"))]


def _fingerprint_of(path: Path) -> bytes | None:
    """The `closedloop_fingerprint` of the Parquet file at `path`, None when there is no such file."""
    if not path.is_file():
        return None
    return (pq.read_schema(path).metadata or {}).get(b"closedloop_fingerprint")


def _described(con, name: str, doc: TableDoc) -> list:
    """What a file of table or view `name` looks like besides its rows: columns, types, descriptions, and a view's
    query."""
    relation = con.sql(f"select * from {name}")
    schema, table = name.split(".")
    definition = con.execute(
        "select sql from duckdb_views() where database_name = current_database() and schema_name = ? and view_name = ?",
        [schema, table],
    ).fetchall()
    return [
        relation.columns,
        [str(t) for t in relation.types],
        doc.description,
        sorted(doc.columns.items()),
        definition,
    ]


def _digest(rows: int, total: int | None, described: list) -> bytes:
    """A file's fingerprint: its rows' count and hash sum, and how it is described."""
    return hashlib.sha256(repr((rows, total, described)).encode()).hexdigest().encode()


@dataclass(frozen=True)
class Part:
    """One file of a folder export: its name, its rows, their fingerprint and descriptions."""

    name: str
    query: str
    fingerprint: bytes
    doc: TableDoc


@dataclass(frozen=True)
class Folder:
    """A new version of a folder export: the hidden folder it is written into, and the parts still to write there
    (the others are linked from the current version already)."""

    link: Path
    version: Path
    parts: list[Part]


def _attribution_parts(con, name: str, doc: TableDoc) -> list[Part]:
    """The files of fct_attribution (view `name`): its rule-based models' rows in one file per conversion month,
    its data-driven models' rows in one file. Each is fingerprinted from the wide table's rows it comes from, a
    tenth of its own (the long form's hash would cost 4.6 s at 1 M leads)."""
    base = SERVED_AS_VIEWS[name]
    columns = [row[0] for row in con.execute(f"describe {base}").fetchall()]
    shares = [c for c in columns if c.startswith("share_")]
    data_driven = [c for c in shares if c.removeprefix("share_") in DATA_DRIVEN]
    rule_based = [c for c in shares if c not in data_driven]
    others = [c for c in columns if c not in shares]

    def summed(chosen: list[str]) -> str:
        return f"sum(hash({', '.join(_ident(c) for c in others + chosen)})::hugeint)"

    months = con.execute(
        f"select {MONTH} as month, count(*), {summed(rule_based)}, {summed(data_driven)} from {base} group by month"
    ).fetchall() or [(None, 0, None, None)]
    described = _described(con, name, doc)

    def part(file: str, rows: int, total: int | None, dropped: list[str], where: str = "") -> Part:
        query = attribution_long_form(f"(select * from {base}{where})", [c for c in columns if c not in dropped])
        return Part(file, query, _digest(rows, total, [*described, file]), doc)

    parts = []
    if data_driven:
        total = sum(month[3] or 0 for month in months)
        parts.append(part("data_driven.parquet", sum(month[1] for month in months), total, rule_based))
    if rule_based:
        parts += [
            part(f"rule_based_{_month_name(month)}.parquet", rows, total, data_driven, _in_month(month))
            for month, rows, total, _ in sorted(months, key=lambda m: -m[1])
        ]
    return parts


def _month_name(month) -> str:
    return "none" if month is None else f"{month:%Y-%m}"


def _in_month(month) -> str:
    """The filter of a month's rows: a range, which skips row groups and costs less than truncating every row."""
    if month is None:
        return " where converted_at is null"
    start = sql_literal(f"{month:%Y-%m-%d}")
    return f" where converted_at >= {start} and converted_at < cast({start} as date) + interval 1 month"


def _plan_folder(link: Path, parts: list[Part]) -> Folder | None:
    """The new version of the folder export at `link`, with every part that the current version holds already
    (same name and fingerprint) linked into it; None when the current version holds exactly the parts."""
    current = link.resolve() if link.is_symlink() else None
    kept = [part for part in parts if current is not None and _fingerprint_of(current / part.name) == part.fingerprint]
    names = sorted(part.name for part in parts)
    if current is not None and len(kept) == len(parts) and sorted(p.name for p in current.iterdir()) == names:
        return None
    version = link.with_name(f".{link.name}.{time.time_ns()}")
    version.mkdir()
    for part in kept:
        os.link(current / part.name, version / part.name)
    return Folder(link, version, [part for part in parts if part not in kept])


def _swap(folder: Folder) -> None:
    """Points the folder's name at its new version in one rename, then removes every other version: a reader with
    files of the old one open keeps reading them, and an erased person leaves the old files at once."""
    temporary = folder.link.with_name(f".{folder.link.name}.link")
    temporary.unlink(missing_ok=True)
    os.symlink(folder.version.name, temporary)  # relative: the data dir may move
    if folder.link.is_dir() and not folder.link.is_symlink():
        shutil.rmtree(folder.link)
    replace_synced(temporary, folder.link)
    for stale in folder.link.parent.glob(f".{folder.link.name}.*"):
        if stale.is_dir() and not stale.is_symlink():
            if stale != folder.version:
                shutil.rmtree(stale)
        else:
            stale.unlink()
