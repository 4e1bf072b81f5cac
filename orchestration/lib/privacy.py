"""The keyed hash (HMAC-SHA256) that stands in for an email or phone wherever one must be recognised later:
`dim_people`, the suppression list of erased people. The key is `CLOSEDLOOP_PII_KEY` (`Settings.pii_key`), else a random key generated
once into `<data dir>/pii.key` (readable by its owner only); losing it makes old hashes unmatchable."""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import secrets
from pathlib import Path

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
