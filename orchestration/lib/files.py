"""File steps shared by publishing and erasure: a DuckDB file is replaced by writing a new one beside it, syncing
it, and renaming it over the old one."""

from __future__ import annotations

import os
from pathlib import Path


def fsync(path: Path) -> None:
    """Flush a file (or a directory entry) to disk before the rename that makes it visible."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_database(path: Path) -> None:
    """A DuckDB file and its write-ahead log, if present."""
    for candidate in (path, Path(f"{path}.wal")):
        candidate.unlink(missing_ok=True)
