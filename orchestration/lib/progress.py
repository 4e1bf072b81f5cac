"""One-line progress messages for long steps, on stderr so stdout stays a clean summary."""

from __future__ import annotations

import os
import sys
import time

_START = time.monotonic()


def progress(message: str) -> None:
    if os.environ.get("CLOSEDLOOP_QUIET") == "1":
        return
    print(f"[{time.monotonic() - _START:7.1f}s] {message}", file=sys.stderr, flush=True)
