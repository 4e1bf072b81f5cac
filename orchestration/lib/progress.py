"""One-line progress messages for long steps, on stderr so stdout stays a clean summary."""

from __future__ import annotations

import sys
import time

from orchestration.settings import load_settings

_START = time.monotonic()


def progress(message: str) -> None:
    if load_settings().quiet:
        return
    print(f"[{time.monotonic() - _START:7.1f}s] {message}", file=sys.stderr, flush=True)
