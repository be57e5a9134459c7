"""Where the harness finds the project, its interpreter and gunicorn, and where it logs."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))
LOG_DIR = ROOT / "test-results" / "liveserver"
