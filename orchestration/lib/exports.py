"""Parquet copies of the published tables in <data dir>/exports/: one file per table, replaced atomically, with the
dbt descriptions as field and schema metadata. A file whose table did not change since it was written is kept
(its fingerprint says so), so a night writes only what changed.

The largest facts are folders of files instead, one file per month (`fct_touchpoints.parquet/`, by when the
touch happened; `fct_attribution.parquet/` and `fct_attribution_rule_based.parquet/`, by conversion month), because
most of their rows do not change: a night writes again only the months whose rows changed. The long form of
attribution (a view over fct_attribution_wide in the serving file) keeps its Markov and Shapley rows in a file of
their own, since those shares move for every conversion each night. A folder's name is a link to a hidden version
folder, swapped in one rename, so a reader sees one night's files, never a mix
(docs/serving.md#the-largest-facts-are-folders)."""

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
from orchestration.lib.publish import MONTH_COLUMNS, PUBLISHED, attribution_long_form, published_tables
from orchestration.lib.serving_changes import in_months
from orchestration.lib.serving_docs import TableDoc, docs_from_duckdb
from orchestration.lib.sql import quote_ident as _ident

# the long form is written from the wide rows it unpivots: a tenth of the rows to read and fingerprint
LONG_FORM = {"marts.fct_attribution": "marts.fct_attribution_wide"}
DATA_DRIVEN = ("markov", "shapley")  # the models whose shares move for every conversion when a night adds paths


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
        folders = []
        for name in (name for name in targets if name in MONTH_COLUMNS):
            doc = docs.get(name, TableDoc())
            folder = _plan_folder(targets[name], _folder_parts(con, name, doc), doc)
            if folder is not None:  # None: nothing changed
                folders.append(folder)

        def in_cursor(write: Callable, *args) -> bool | None:
            with con.cursor() as cursor:  # a cursor per thread
                return write(cursor, *args)

        # pyarrow compresses a file in one thread: the files are written side by side, one per core
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            # the folders first: they are the largest. A folder's files one after another: at 1 M leads, writing
            # them side by side on both cores took longer (more CPU seconds fighting over the cores)
            folder_writes = [pool.submit(in_cursor, _write_parts, folder) for folder in folders]
            tables = {
                target: pool.submit(in_cursor, _write_parquet, name, docs.get(name, TableDoc()), target)
                for name, target in targets.items()
                if name not in MONTH_COLUMNS
            }
            for folder_write in folder_writes:
                folder_write.result()  # raises what the write raised
            written = [target for target, wrote in tables.items() if wrote.result()]
    for folder in folders:
        _swap(folder)
    return [folder.link for folder in folders] + written


def _write_parquet(con, name: str, doc: TableDoc, target: Path) -> bool:
    """Writes the table to `target`, unless the file there already holds the same rows, columns and descriptions
    (its `closedloop_fingerprint` metadata says so); whether it wrote."""
    relation = con.sql(f"select * from {name}")
    # fetched whole: the export's reader runs on this connection next
    rows, total = con.execute(
        f"select count(*), sum(hash({', '.join(_ident(c) for c in relation.columns)})::hugeint) from {name}"
    ).fetchall()[0]
    fingerprint = _digest(rows, total, _described(con, name, relation, doc))
    if _fingerprint_of(target) == fingerprint:
        return False
    _write_file(relation, doc, fingerprint, target)
    return True


def _write_parts(con, folder: Folder) -> None:
    for part in folder.parts:
        _write_file(con.sql(part.query), folder.doc, part.fingerprint, folder.version / part.name)


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


def _described(con, name: str, relation, doc: TableDoc) -> list:
    """What a file of table or view `name` (read as `relation`) looks like besides its rows: columns, types,
    descriptions, and a view's query."""
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
    """One file of a folder export: its name, its rows and their fingerprint."""

    name: str
    query: str
    fingerprint: bytes


@dataclass(frozen=True)
class Folder:
    """A new version of a folder export: the hidden folder it is written into, the parts still to write there (the
    others are linked from the current version already) and the table's descriptions, which every file carries."""

    link: Path
    version: Path
    parts: list[Part]
    doc: TableDoc


def _folder_parts(con, name: str, doc: TableDoc) -> list[Part]:
    """The files of the folder export of `name`: one per month of its MONTH_COLUMNS column; for fct_attribution, the
    rule-based models' rows by month and the data-driven models' in one file. Each is fingerprinted from the rows
    it comes from (for fct_attribution, the wide table's: a tenth of the long form's, whose hash would cost 4.6 s
    at 1 M leads)."""
    base = LONG_FORM.get(name, name)
    columns = [row[0] for row in con.execute(f"describe {base}").fetchall()]
    splits = _splits(name, columns)
    sums = ", ".join(f"sum(hash({', '.join(_ident(c) for c in chosen)})::hugeint)" for _, chosen, _ in splits)
    column = MONTH_COLUMNS[name]
    months = con.execute(
        f"select date_trunc('month', {_ident(column)}) as month, count(*), {sums} from {base} group by month"
    ).fetchall() or [(None, 0, *[None] * len(splits))]
    described = _described(con, name, con.sql(f"select * from {name}"), doc)

    def part(file: str, rows: int, total: int | None, chosen: list[str], within: str = "true") -> Part:
        relation = f"(select * from {base} as r where {within})"
        if name in LONG_FORM:
            query = attribution_long_form(relation, chosen)
        else:
            query = f"select {', '.join(_ident(c) for c in chosen)} from {relation}"
        return Part(file, query, _digest(rows, total, [*described, file]))

    parts = []
    for index, (prefix, chosen, by_month) in enumerate(splits):
        if not by_month:
            rows, total = sum(m[1] for m in months), sum(m[2 + index] or 0 for m in months)
            parts.append(part(f"{prefix}.parquet", rows, total, chosen))
            continue
        parts += [  # the largest first
            part(
                f"{prefix}{_month_name(m[0])}.parquet",
                m[1],
                m[2 + index],
                chosen,
                in_months("r", column, [m[0]]),
            )
            for m in sorted(months, key=lambda m: -m[1])
        ]
    return parts


def _splits(name: str, columns: list[str]) -> list[tuple[str, list[str], bool]]:
    """How a folder export divides a table's rows into files: (file name or prefix, its columns, whether one file
    per month). fct_attribution_wide's columns are those of the long form's files before it is unpivoted."""
    if name not in LONG_FORM:
        return [("", columns, True)]
    shares = [c for c in columns if c.startswith("share_")]
    data_driven = [c for c in shares if c.removeprefix("share_") in DATA_DRIVEN]
    rule_based = [c for c in shares if c not in data_driven]
    splits = []
    if data_driven:
        splits.append(("data_driven", [c for c in columns if c not in rule_based], False))
    if rule_based:
        splits.append(("rule_based_", [c for c in columns if c not in data_driven], True))
    return splits


def _month_name(month) -> str:
    return "none" if month is None else f"{month:%Y-%m}"


def _plan_folder(link: Path, parts: list[Part], doc: TableDoc) -> Folder | None:
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
    return Folder(link, version, [part for part in parts if part not in kept], doc)


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
