"""Replacing a file whole: the new content is written to a temporary file beside the old one (same directory,
so same file system), synced, and renamed over it, then the directory is synced. A reader opens the old file
or the new one, never half of one, and after a crash the disk holds one of the two. Publishing, erasure, the
exports, the report and the dbt files all replace their files this way."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def fsync(path: Path) -> None:
    """Flush a file (or a directory entry) to disk before the rename that makes it visible."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_synced(new_path: Path, path: Path) -> None:
    """Renames the finished `new_path` (in the same directory) over `path`: the file is synced first, the
    directory after, so the rename is durable and never shows a file whose content is not on disk yet."""
    fsync(new_path)
    os.replace(new_path, path)
    fsync(Path(path).parent)


def atomic_replace(path: Path, writer: Callable[[Path], object], temporary: Path | None = None) -> Path:
    """Replaces `path` with what `writer(temporary)` writes into a temporary file beside it (default
    `.<name>.tmp`), synced and renamed over it (replace_synced); the temporary file is removed if `writer` fails."""
    path = Path(path)
    temporary = temporary or path.with_name(f".{path.name}.tmp")
    try:
        writer(temporary)
        replace_synced(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """`path` replaced by `data` (atomic_replace)."""
    return atomic_replace(path, lambda temporary: temporary.write_bytes(data))


def atomic_write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    """`path` replaced by `text` (atomic_replace)."""
    return atomic_replace(path, lambda temporary: temporary.write_text(text, encoding=encoding))


def remove_database(path: Path) -> None:
    """A DuckDB file and its write-ahead log, if present."""
    for candidate in (path, Path(f"{path}.wal")):
        candidate.unlink(missing_ok=True)
