"""Reads landing files into `raw.<source>` tables of the DuckDB warehouse.

Every contract column lands as text, exactly as delivered (staging casts); unknown columns go to `_extra` as
JSON. Each file is loaded once, keyed by the SHA-256 of its content, inside one transaction, so a refused file
leaves nothing half-loaded. Phones are normalised here because `phonenumbers` is Python: only the distinct
values of a file go through it, never every row. Rows of erased people (the suppression list, `suppression.py`)
are left out as the file is read.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import duckdb
import pyarrow as pa

from orchestration.lib import suppression
from orchestration.lib.contract import CONTRACTS, SourceContract
from orchestration.lib.normalise import normalise_phones
from orchestration.lib.sql import quote_ident, sql_literal

EXTENSIONS = (".csv", ".jsonl", ".ndjson", ".parquet")
# a row's number in its file: `_landing_file` is written in the file's order (one scan of a file keeps its order in
# DuckDB, and a new table keeps insertion order), so its rowid counts the rows; numbering them with row_number()
# took a pass of its own, a third of loading a touchpoints file
FILE_ROW = "rowid + 1 as _file_row"
METADATA_COLUMNS = ("_extra", "_phone_e164", "_row_number", "_source_file", "_file_hash", "_loaded_at", "_run_id")


class LandingError(Exception):
    """A delivered file that cannot be loaded; the message names the file, the line and the rule."""

    def __init__(self, path: Path, reason: str, line: int | None = None):
        self.path, self.reason, self.line = Path(path), reason, line
        where = f"{self.path}" + (f", line {line}" if line else "")
        super().__init__(f"{where}: {reason}")


@dataclass
class SourceLoad:
    source: str
    files_loaded: list[str] = field(default_factory=list)
    files_skipped: list[str] = field(default_factory=list)
    rows: int = 0
    rows_suppressed: int = 0  # rows of erased people left out (docs/privacy.md)
    files_deferred: list[tuple[str, str]] = field(default_factory=list)  # (file, why): taken on a later run
    files_changed: list[str] = field(default_factory=list)  # a name loaded before, now with other content


def discover(landing_dir: Path, source: str) -> list[Path]:
    """The source's landing files, by name. A symbolic link is followed only when it points inside the landing
    zone: one that leads elsewhere (another user's files, /etc) is refused, not read."""
    folder = landing_dir / source
    if not folder.is_dir():
        return []
    zone = Path(landing_dir).resolve()
    found = sorted(p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(EXTENSIONS))
    for path in found:
        if path.is_symlink() and not path.resolve().is_relative_to(zone):
            raise LandingError(
                path,
                f"a symbolic link to {path.resolve()}, outside the landing zone {zone}: refused"
                " (copy the file into the landing zone instead)",
            )
    return found


def complete_files(
    files: list[Path], settle_seconds: float, marker: str = "", clock=time.time, sleep=time.sleep
) -> tuple[list[Path], list[tuple[Path, str]]]:
    """(files taken tonight, (file, why) deferred to a later run). A file is complete when it has not changed
    between two looks `settle_seconds` apart (size and modification time; a file last written longer ago than
    that needs one look) and, with a `marker` such as `_SUCCESS`, when its folder holds that marker written after
    it. A writer still at work is seen changing; a deferred file is taken by the next run that finds it settled."""
    ready, deferred = [], []
    first = {path: _look(path) for path in files}
    young = [p for p in files if first[p] and clock() - first[p][1] / 1e9 < settle_seconds]
    if young:
        sleep(min(settle_seconds, max(settle_seconds - (clock() - first[p][1] / 1e9) for p in young)))
    markers: dict[Path, tuple | None] = {}
    for path in files:
        second = _look(path) if path in young else first[path]
        if second is None or second != first[path]:
            deferred.append((path, f"still being written (it changed within {settle_seconds:g} s)"))
            continue
        if marker:
            folder = path.parent
            if folder not in markers:
                markers[folder] = _look(folder / marker)
            if markers[folder] is None:
                deferred.append((path, f"no {marker} marker in {folder} yet"))
                continue
            if markers[folder][1] < second[1]:
                deferred.append((path, f"written after the {marker} marker"))
                continue
        ready.append(path)
    return ready, deferred


def _look(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return info.st_size, info.st_mtime_ns


class _ChangedWhileLoading(Exception):
    pass


# content hashes already computed, by (path, size, mtime in ns): a run hashes each landing file once
_known_hashes: dict[tuple[str, int, int], str] = {}


def file_hash(path: Path) -> str:
    look = _look(path)
    key = (str(path), *look) if look else None
    if key in _known_hashes:
        return _known_hashes[key]
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    if key:
        _known_hashes[key] = digest.hexdigest()
    return digest.hexdigest()


def remember_hash(path: Path, size: int, mtime_ns: int, digest: str) -> None:
    """A hash known from an earlier run (orchestration/lib/night_state.py) for a file of this size and mtime."""
    _known_hashes[(str(path), size, mtime_ns)] = digest


def ensure_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Every raw table exists, even for a source never delivered, so staging views always compile."""
    con.execute("create schema if not exists raw")
    con.execute(
        "create table if not exists raw._loaded_files (file_hash varchar primary key, source varchar,"
        " file_name varchar, row_count bigint, loaded_at timestamp, run_id varchar)"
    )
    con.execute("create table if not exists raw._phone_numbers (phone varchar, region varchar, phone_e164 varchar)")
    con.execute(suppression.DDL)
    for contract in CONTRACTS.values():
        columns = ", ".join(f'"{c}" varchar' for c in contract.columns)
        con.execute(
            f"create table if not exists raw.{contract.name} ({columns}, _extra varchar, _phone_e164 varchar,"
            " _row_number bigint, _source_file varchar, _file_hash varchar, _loaded_at timestamp, _run_id varchar)"
        )


def load_source(
    con: duckdb.DuckDBPyConnection,
    source: str,
    files: list[Path],
    run_id: str,
    loaded_at: datetime | None = None,
    encoding: str = "utf-8",
    phone_region: str = "US",
    pii_key: bytes | None = None,
    sink: RowSink | None = None,
) -> SourceLoad:
    """Loads the files of one source not loaded before; raises LandingError on the first bad file. `pii_key` hashes
    the file's identifiers to leave out erased people; it is needed only once the suppression list is not empty.
    `sink` writes the checked rows somewhere else than `raw.<source>` of `con` (Spark: spark_landing.py)."""
    sink = sink or DuckDBSink()
    contract = CONTRACTS[source]
    loaded_at = loaded_at or datetime.now(UTC).replace(tzinfo=None)
    result = SourceLoad(source)
    for path in files:
        before = _look(path)
        digest = file_hash(path)
        if con.execute("select 1 from raw._loaded_files where file_hash = ?", [digest]).fetchone():
            result.files_skipped.append(path.name)
            continue
        try:
            rows, suppressed = _load_file(
                con, contract, path, FileLoad(digest, run_id, loaded_at), encoding, phone_region, pii_key, before, sink
            )
        except _ChangedWhileLoading:
            result.files_deferred.append((path.name, "it changed while it was being loaded"))
            continue
        if con.execute(
            "select 1 from raw._loaded_files where source = ? and file_name = ? and file_hash <> ?",
            [source, path.name, digest],
        ).fetchone():
            result.files_changed.append(path.name)
        result.rows += rows
        result.rows_suppressed += suppressed
        result.files_loaded.append(path.name)
    return result


def loaded_in_run(warehouse_path: Path, run_id: str) -> list[tuple[str, int, int]]:
    """(source, files, rows) loaded by one run, from raw._loaded_files."""
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        rows = con.execute(
            "select source, count(*), sum(row_count) from raw._loaded_files where run_id = ? group by 1 order by 1",
            [run_id],
        ).fetchall()
    return [(source, int(files), int(count)) for source, files, count in rows]


@dataclass(frozen=True)
class FileLoad:
    """What every row of one loaded file carries besides its values."""

    digest: str
    run_id: str
    loaded_at: datetime


@dataclass(frozen=True)
class CheckedFile:
    """A landing file whose header passed the contract, read into the temp table `_landing_file` of the loader's
    DuckDB connection in the file's order; `keep` is the condition on its rows (alias `f`) that leaves erased
    people out."""

    path: Path
    contract: SourceContract
    header: list[str]
    phone_region: str
    keep: str
    load: FileLoad
    encoding: str

    def rows_sql(self, numbered: str, phones: str = "raw._phone_numbers") -> str:
        """The raw rows of the file as a select over `numbered` (its rows with `_file_row`, their number)."""
        return _rows_sql(self, numbered, phones)


class DuckDBSink:
    """Writes the rows into `raw.<source>` of the loader's own DuckDB connection (the default)."""

    def write(self, con, checked: CheckedFile) -> int:
        numbered = f"(select *, {FILE_ROW} from _landing_file)"
        return con.execute(f"insert into raw.{checked.contract.name} {checked.rows_sql(numbered)}").fetchone()[0]

    def undo(self, source: str, digest: str) -> None:
        pass  # the loader's transaction rolls the rows back


class RowSink(Protocol):
    def write(self, con, checked: CheckedFile) -> int:
        """Writes the checked file's rows (reading `_landing_file` of `con` or the file itself); returns how many."""

    def undo(self, source: str, digest: str) -> None:
        """Takes the rows of a file written by `write` out again: the file was not loaded after all."""


def _load_file(
    con, contract, path, load: FileLoad, encoding, phone_region, pii_key, before=None, sink: RowSink | None = None
) -> tuple[int, int]:
    """(rows loaded, rows of erased people left out)"""
    sink = sink or DuckDBSink()
    relation, header = _open_relation(con, path, encoding)
    _check_columns(path, contract, header)
    with _file_in_memory(con, path, relation):
        con.execute("begin transaction")
        try:
            rows, suppressed = _insert(con, path, contract, header, phone_region, pii_key, load, encoding, sink)
            if rows == 0 and suppressed == 0:
                raise LandingError(path, "the file has no data rows (an export with a header only is refused)")
            if before is not None and _look(path) != before:  # the second look: what was read may be half a file
                raise _ChangedWhileLoading(path)
            con.execute(
                "insert into raw._loaded_files values (?, ?, ?, ?, ?, ?)",
                [load.digest, contract.name, path.name, rows, load.loaded_at, load.run_id],
            )
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            sink.undo(contract.name, load.digest)
            raise
    return rows, suppressed


@contextmanager
def _file_in_memory(con, path: Path, relation: str) -> Iterator[None]:
    """The file's rows as the temp table `_landing_file`, read once for the phones, the suppression filter and the
    insert, in the file's order (see FILE_ROW); dropped after. Read before the load's transaction: inside one, a
    new table's rowids count from a transaction-local offset, not from 0."""
    try:
        con.execute(f"create or replace temp table _landing_file as {relation}")
        failure = None
    except duckdb.Error as exc:
        failure = (_describe_read_error(exc), _error_line(exc))
    if failure:  # raised outside the handler, like _insert's
        raise LandingError(path, *failure)
    try:
        yield
    finally:
        con.execute("drop table if exists _landing_file")


def _open_relation(con, path: Path, encoding: str) -> tuple[str, list[str]]:
    """SQL for reading the file with every column as text, and its column names as delivered."""
    quoted = sql_literal(str(path))
    name = path.name.lower()
    if name.endswith(".parquet"):
        try:
            header = [row[0] for row in con.execute(f"describe select * from read_parquet({quoted})").fetchall()]
        except duckdb.Error as exc:
            reason = f"not a readable Parquet file ({first_line(exc)})"
        else:
            return f"select * from read_parquet({quoted})", header
        raise LandingError(path, reason)
    if name.endswith((".jsonl", ".ndjson")):
        return _open_jsonl(con, path, quoted)
    header = _csv_header(path, encoding)
    columns = "{" + ", ".join(f"{sql_literal(h)}: 'VARCHAR'" for h in header) + "}"
    duck_encoding = "utf-8" if encoding.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig") else encoding
    return (
        f"select * from read_csv({quoted}, header=true, auto_detect=false, delim=',', quote='\"',"
        f" escape='\"', strict_mode=true, null_padding=false, encoding={sql_literal(duck_encoding)},"
        f" columns={columns})",
        header,
    )


def _csv_header(path: Path, encoding: str) -> list[str]:
    with path.open("rb") as handle:
        first = handle.readline()
    if not first.strip():
        raise LandingError(path, "the file is empty (no header row)", line=1)
    try:
        text = first.decode("utf-8-sig" if encoding.lower().startswith("utf") else encoding)
    except UnicodeDecodeError as exc:
        raise LandingError(path, _encoding_hint(exc), line=1) from exc
    header = next(csv.reader(io.StringIO(text)))
    if len(set(header)) != len(header):
        dupes = sorted({h for h in header if header.count(h) > 1})
        raise LandingError(path, f"the header repeats column(s) {', '.join(dupes)}", line=1)
    return header


def _open_jsonl(con, path: Path, quoted: str) -> tuple[str, list[str]]:
    source = f"read_json_objects({quoted}, format='newline_delimited')"
    try:
        keys = con.execute(f"select distinct unnest(json_keys(json)) from {source}").fetchall()
    except duckdb.Error as exc:
        failure = (f"not valid JSON lines ({first_line(exc)})", _error_line(exc))
    else:
        failure = None
    if failure:  # not chained: DuckDB's message may quote the line (see _insert)
        raise LandingError(path, *failure)
    header = sorted(k[0] for k in keys)
    columns = ", ".join(f"json ->> {sql_literal(k)} as {quote_ident(k)}" for k in header)
    return f"select {columns or 'null as _empty'} from {source}", header


def _check_columns(path: Path, contract: SourceContract, header: list[str]) -> None:
    present = {_canonical(h) for h in header}
    missing = [c for c in contract.required if c not in present]
    if missing:
        hints = []
        # a rename left a column the contract does not know: a present contract column is not a candidate
        unknown = sorted(present - set(contract.columns))
        for column in missing:
            close = difflib.get_close_matches(column, unknown, n=1, cutoff=0.6)
            hints.append(f"{column} (found {close[0]!r} — renamed?)" if close else column)
        raise LandingError(path, f"missing required column(s) for {contract.name}: {', '.join(hints)}", line=1)
    if contract.one_of and not present.intersection(contract.one_of):
        raise LandingError(path, f"{contract.name} needs at least one of the columns {', '.join(contract.one_of)}")


def _insert(
    con,
    path: Path,
    contract: SourceContract,
    header: list[str],
    phone_region: str,
    pii_key: bytes | None,
    load: FileLoad,
    encoding: str,
    sink: RowSink,
) -> tuple[int, int]:
    """Inserts the file's rows (`_landing_file`) through `sink`. Returns (rows inserted, rows of erased people left
    out)."""
    try:
        columns = {_canonical(h): h for h in header if _canonical(h) in contract.columns}
        filtered = suppression.prepare_file_filter(con, contract.name, columns, pii_key, phone_region)
        keep = suppression.filter_sql(columns, filtered)
        _register_phones(con, phone_column(contract, header), phone_region, keep)
        _refuse_nul_bytes(con, path, header)
        checked = CheckedFile(path, contract, header, phone_region, keep, load, encoding)
        rows = sink.write(con, checked)
        if not filtered:
            return rows, 0
        return rows, con.execute(f"select count(*) from _landing_file as f where not ({keep})").fetchone()[0]
    except duckdb.Error as exc:
        failure = (_describe_read_error(exc), _error_line(exc))
    # raised outside the handler: DuckDB's own message quotes the offending line, and a chained exception would
    # carry that row (a person's email, phone, name) into Dagster's run history
    raise LandingError(path, *failure)


def _refuse_nul_bytes(con, path: Path, header: list[str]) -> None:
    """A NUL byte (U+0000) in a value is refused with its row and column: PostgreSQL cannot store it in text and
    BI tools cut strings at it, so passing it on would make the marts differ by engine and tool."""
    if not header or (not path.name.lower().endswith(".parquet") and not _has_nul_byte(path)):
        return  # a text file without the byte needs no scan by column
    found = " or ".join(f"contains(cast({quote_ident(h)} as varchar), chr(0))" for h in header)
    hit = con.execute(
        f"select _file_row, {', '.join(f'contains(cast({quote_ident(h)} as varchar), chr(0))' for h in header)}"
        f" from (select *, {FILE_ROW} from _landing_file) where {found} order by 1 limit 1"
    ).fetchone()
    if hit:
        column = next(h for h, flagged in zip(header, hit[1:], strict=True) if flagged)
        raise LandingError(
            path,
            f"data row {hit[0]}, column {_canonical(column)}: contains a NUL byte (\\x00);"
            " NUL bytes are refused: remove them and deliver the file again",
        )


def _has_nul_byte(path: Path) -> bool:
    with path.open("rb") as handle:
        return any(b"\x00" in block for block in iter(lambda: handle.read(1 << 22), b""))


def phone_column(contract: SourceContract, header: list[str]) -> str | None:
    """The file's own name of the phone column, when the source has one and the file delivers it."""
    if "phone" not in contract.columns:
        return None
    return next((h for h in header if _canonical(h) == "phone"), None)


def _register_phones(con, phone_column: str | None, region: str, keep: str = "true") -> None:
    """Adds this file's new distinct phones to raw._phone_numbers (phone, region → E.164). Python runs once per
    value ever seen, not per row: the same people call in night after night. Only rows that `keep` (the
    suppression filter) count: an erased person's phone never enters the cache."""
    if phone_column is None:
        return
    new = con.execute(
        f"select distinct cast(f.{quote_ident(phone_column)} as varchar) as phone from _landing_file as f"
        f" where phone is not null and ({keep})"
        " and phone not in (select phone from raw._phone_numbers where region = ?)",
        [region],
    ).fetchall()
    distinct = [row[0] for row in new]
    if distinct:
        # an Arrow table, not executemany: row-by-row inserts are slow in DuckDB
        phones = pa.table(
            {"phone": distinct, "region": [region] * len(distinct), "phone_e164": normalise_phones(distinct, region)}
        )
        con.register("_phones_arrow", phones)
        con.execute("insert into raw._phone_numbers select phone, region, phone_e164 from _phones_arrow")
        con.unregister("_phones_arrow")


def _rows_sql(checked: CheckedFile, numbered: str, phones: str) -> str:
    contract, header = checked.contract, checked.header
    by_canonical = {_canonical(h): h for h in header}
    csv_file = not checked.path.name.lower().endswith((".parquet", ".jsonl", ".ndjson"))

    def text(column: str) -> str:
        value = f"cast(f.{quote_ident(column)} as varchar)"
        # a line break inside a quoted CSV value is kept as \n, whatever the file's line ends (Spark's reader does so)
        return f"replace({value}, chr(13) || chr(10), chr(10))" if csv_file else value

    selects = []
    for column in contract.columns:
        original = by_canonical.get(column)
        selects.append(text(original) if original else "cast(null as varchar)")
    extras = [h for h in header if _canonical(h) not in contract.columns]
    extra_sql = (
        "to_json(struct_pack(" + ", ".join(f"{quote_ident(h)} := {text(h)}" for h in extras) + "))::varchar"
        if extras
        else "cast(null as varchar)"
    )
    phone = phone_column(contract, header)
    phone_join = (
        f" left join {phones} p on p.phone = cast(f.{quote_ident(phone)} as varchar)"
        f" and p.region = {sql_literal(checked.phone_region)}"
        if phone
        else ""
    )
    phone_sql = "p.phone_e164" if phone else "cast(null as varchar)"
    load = checked.load
    metadata = [
        "f._file_row",
        sql_literal(checked.path.name),
        sql_literal(load.digest),
        f"cast({sql_literal(load.loaded_at.isoformat(sep=' '))} as timestamp)",
        sql_literal(load.run_id),
    ]
    return (
        f"select {', '.join(selects)}, {extra_sql}, {phone_sql}, {', '.join(metadata)} from {numbered} as f"
        + phone_join
        + ("" if checked.keep == "true" else f" where {checked.keep}")
    )


def _canonical(column: str) -> str:
    """Header names match the contract regardless of case, surrounding spaces and a UTF-8 BOM."""
    return column.replace("\ufeff", "").strip().lower().replace(" ", "_")


def _describe_read_error(exc: Exception) -> str:
    text = str(exc)
    if "not utf-8 encoded" in text or "Invalid unicode" in text:
        return "the file is not UTF-8 encoded (re-export it as UTF-8, or set CLOSEDLOOP_CSV_ENCODING, e.g. latin-1)"
    expected = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
    if expected:
        return f"expected {expected.group(1)} fields, found {expected.group(2)} (check quoting and separators)"
    if "unterminated quote" in text:
        return "a quoted value is never closed (unterminated quote)"
    too_long = re.search(r"Maximum line size of (\d+) bytes exceeded\. Actual Size: ?(\d+) bytes", text)
    if too_long:
        return (
            f"the line is {int(too_long.group(2)):,} bytes long, above DuckDB's maximum line size of"
            f" {int(too_long.group(1)):,} bytes (a runaway field or a missing closing quote?)"
        )
    # DuckDB's first line and the reason lines after it, never the quoted row ("Original Line: …", personal data)
    reasons = [
        line.strip()
        for line in text.splitlines()[1:4]
        if line.strip() and not line.startswith(("Original Line", "Possible", "*", "  "))
    ]
    return "; ".join([first_line(exc), *reasons])[:500]


def _error_line(exc: Exception) -> int | None:
    match = re.search(r"(?:CSV Error on Line|line)[: ]+(\d+)", str(exc), re.IGNORECASE)
    return int(match.group(1)) if match else None


def _encoding_hint(exc: UnicodeDecodeError) -> str:
    return (
        f"the file is not UTF-8 encoded (byte 0x{exc.object[exc.start]:02x}); re-export it as UTF-8, or set"
        " CLOSEDLOOP_CSV_ENCODING, e.g. latin-1"
    )


def first_line(exc: Exception) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
