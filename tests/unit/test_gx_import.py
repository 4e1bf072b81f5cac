"""The quality gate's Great Expectations import, started in the background while dbt builds the staged data."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

IN_A_FRESH_INTERPRETER = """
import sys, threading
from orchestration.lib.quality.suites import start_import
assert "great_expectations" not in sys.modules
thread = start_import()
assert thread.daemon and thread is not threading.current_thread()
thread.join(120)
assert "great_expectations" in sys.modules
"""


def test_great_expectations_is_imported_on_another_thread():
    result = subprocess.run([sys.executable, "-c", IN_A_FRESH_INTERPRETER], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
