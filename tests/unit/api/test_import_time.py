"""Nothing in ``api`` reads settings or builds the app at import time."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import os
os.environ["LADDER_MAX_DEPTH"] = "not a number"
import api.app, api.schema, api.http, api.settings, api.schema_export
try:
    api.settings.get_settings()
except Exception as exc:
    print(type(exc).__name__)
"""


def test_importing_the_api_reads_no_settings() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ValidationError"
