"""Monthly landing files, appended chunk after chunk: `<source>/<source>_YYYY-MM.csv` (or `.parquet`).

CSV is rendered with Arrow string kernels (quotes only where RFC 4180 needs them, and around values with edge
whitespace so no reader trims them); Parquet keeps one open writer per file, every column a string.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .text import DAY

_NEEDS_QUOTES = r'[",\r\n]|^\s|\s$'
_SPECIAL = np.zeros(256, dtype=bool)
_SPECIAL[[ord(c) for c in '",\r\n \t\v\f']] = True


@dataclass
class Batch:
    """Rows of one source and the timestamp (epoch seconds) that files them into a month."""

    table: pa.Table
    when: np.ndarray


def month_labels(seconds: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Month number per row and the YYYY-MM label of each month number."""
    months = (np.asarray(seconds, dtype=np.int64) // DAY).astype("datetime64[D]").astype("datetime64[M]")
    codes = months.astype(np.int64)
    lo, hi = (int(codes.min()), int(codes.max())) if len(codes) else (0, -1)
    labels = [str(m) for m in np.arange(lo, hi + 1).astype("datetime64[M]")]
    return codes - lo, labels


def write_csv(f, table: pa.Table, header: bool) -> None:
    if header:
        f.write((",".join(table.column_names) + "\n").encode())
    if table.num_rows == 0:
        return
    fields = [_csv_field(column.combine_chunks()) for column in table.columns]
    lines = pc.binary_join_element_wise(*fields, ",", null_handling="replace", null_replacement="")
    lines = pc.binary_join_element_wise(lines, "\n", "")
    f.write(_values(lines))


def _csv_field(text: pa.Array) -> pa.Array:
    """Quote the values that need it; most columns (ids, timestamps, codes) are skipped by a byte scan."""
    if not _SPECIAL[np.frombuffer(_values(text), dtype=np.uint8)].any():
        return text
    needs = pc.fill_null(pc.match_substring_regex(text, _NEEDS_QUOTES), False)
    if not pc.any(needs).as_py():
        return text
    some = text.filter(needs)
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(some, '"', '""'), '"', "")
    return pc.replace_with_mask(text, needs, quoted)


def _values(strings: pa.Array) -> memoryview:
    """The values of a string array back to back, straight from its data buffer."""
    if len(strings) == 0:
        return memoryview(b"")
    _, offsets, data = strings.buffers()
    kind = np.int64 if strings.type == pa.large_string() else np.int32
    offs = np.frombuffer(offsets, dtype=kind)[strings.offset : strings.offset + len(strings) + 1]
    return memoryview(data)[int(offs[0]) : int(offs[-1])]


class LandingWriter:
    def __init__(self, out_dir: Path, fmt: str, columns: dict[str, tuple[str, ...]]):
        if fmt not in ("csv", "parquet"):
            raise ValueError(f"fmt must be 'csv' or 'parquet', not {fmt!r}")
        self.out_dir, self.fmt, self.columns = out_dir, fmt, columns
        self.rows = dict.fromkeys(columns, 0)
        self._files: dict[Path, pq.ParquetWriter | None] = {}

    def write(self, source: str, batch: Batch) -> None:
        if batch.table.num_rows == 0:
            return
        when, table = batch.when, batch.table
        if len(when) > 1 and (np.diff(when) < 0).any():
            order = np.argsort(when, kind="stable")
            when, table = when[order], table.take(pa.array(order))
        codes, labels = month_labels(when)
        bounds = np.searchsorted(codes, np.arange(len(labels) + 1))
        for k, label in enumerate(labels):
            if bounds[k + 1] > bounds[k]:
                self._append(source, label, table.slice(bounds[k], bounds[k + 1] - bounds[k]))
        self.rows[source] += table.num_rows

    def _append(self, source: str, label: str, table: pa.Table) -> None:
        path = self.out_dir / source / f"{source}_{label}.{self.fmt}"
        new = path not in self._files
        if new:
            path.parent.mkdir(parents=True, exist_ok=True)
        if self.fmt == "csv":
            self._files[path] = None
            with open(path, "wb" if new else "ab") as f:
                write_csv(f, table, header=new)
            return
        if new:
            self._files[path] = pq.ParquetWriter(path, table.schema, compression="zstd")
        self._files[path].write_table(table)

    def close(self) -> int:
        """Close every file. A source without rows gets no file: closedloop refuses header-only exports, and a
        missing folder is how an optional source says "none". Returns the file count."""
        for writer in self._files.values():
            if writer is not None:
                writer.close()
        return len(self._files)
