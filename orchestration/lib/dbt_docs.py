"""dbt's static docs site under the data dir, so analysts have lineage and column docs offline.

The site is the manifest plus the warehouse catalog (column types); both change only when the dbt project does,
so it is regenerated only when the manifest differs from the one it was built from (seconds saved nightly).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from orchestration.lib.files import atomic_replace


def write_dbt_docs(manifest_path: Path, site: Path, engine: str, generate: Callable[[Path], object]) -> bool:
    """Writes `site/index.html` with `generate(build_dir)` (`dbt docs generate --static --target-path build_dir`)
    unless it is already built from this manifest; True if it was (re)written. A site built once for a manifest
    and engine is kept beside the manifest and copied to every other data dir: it holds no data, only the
    project's documentation and the warehouse's column types."""
    digest = hashlib.sha256(Path(manifest_path).read_bytes()).hexdigest()
    stamp, index = site / ".manifest.sha256", site / "index.html"
    if index.exists() and stamp.exists() and stamp.read_text() == digest:
        return False
    cached = Path(manifest_path).parent / "dbt_docs" / f"{digest[:16]}-{engine}.html"
    if not cached.exists():
        _build(generate, site.parent / ".dbt_docs_build", cached)
    site.mkdir(parents=True, exist_ok=True)
    atomic_replace(index, lambda temporary: shutil.copyfile(cached, temporary))
    stamp.write_text(digest)
    return True


def _build(generate: Callable[[Path], object], build: Path, cached: Path) -> None:
    shutil.rmtree(build, ignore_errors=True)
    try:
        generate(build)
        cached.parent.mkdir(parents=True, exist_ok=True)
        # several data dirs share the cache: each builder writes a temporary file of its own
        temporary = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")
        atomic_replace(cached, lambda t: shutil.copyfile(build / "static_index.html", t), temporary)
    finally:
        shutil.rmtree(build, ignore_errors=True)
