"""The layer contract of DESIGN.md holds (import-linter)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path


def test_import_linter_contracts_hold() -> None:
    exe = shutil.which("lint-imports") or str(
        Path(sys.executable).parent / "lint-imports"
    )
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run([exe], cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "KEPT" in result.stdout
    assert "BROKEN" not in result.stdout
