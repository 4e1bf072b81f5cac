"""What the landing-files sensor compares between two looks: the files' names, sizes and modification times."""

from __future__ import annotations

import hashlib
from pathlib import Path

from orchestration.settings import SOURCES


def landing_fingerprint(landing_dir: Path) -> tuple[str | None, float]:
    """A digest of every source file's relative path, size and mtime (None when there is none), and the newest
    modification time, so a caller can wait for a delivery to settle."""
    digest, newest, found = hashlib.sha256(), 0.0, False
    for source in SOURCES:
        folder = landing_dir / source
        if not folder.is_dir():
            continue
        for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
            stat = path.stat()
            digest.update(f"{source}/{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
            newest, found = max(newest, stat.st_mtime), True
    return (digest.hexdigest() if found else None), newest
