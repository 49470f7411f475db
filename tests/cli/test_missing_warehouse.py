"""A report on a warehouse that does not exist says so instead of reading a new, empty one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import crmlens
from crmlens.cli.app import app
from crmlens.errors import WarehouseError

runner = CliRunner()


@pytest.mark.parametrize(
    "args",
    [
        ["managers", "compare"],
        ["customers", "rfm"],
        ["funnel"],
        ["insights"],
    ],
)
def test_reports_refuse_a_missing_warehouse(tmp_path: Path, args: list[str]) -> None:
    path = tmp_path / "typo" / "crm.duckdb"
    result = runner.invoke(app, [*args, "-w", str(path)])
    assert isinstance(result.exception, WarehouseError)
    assert f"there is no warehouse at {path}" in str(result.exception)
    assert "crmlens import" in str(result.exception)
    assert not path.parent.exists()  # nothing was created


def test_the_command_line_prints_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "crm.duckdb"
    out = subprocess.run(
        [
            str(Path(sys.executable).with_name("crmlens")),
            "customers",
            "rfm",
            "-w",
            str(path),
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode != 0
    assert f"error: there is no warehouse at {path}" in out.stderr + out.stdout
    assert not path.exists()


def test_import_still_creates_one(tmp_path: Path) -> None:
    csv = tmp_path / "orders.csv"
    csv.write_text("order_id,account_id,order_date,amount\nO1,A1,2025-01-05,100\n")
    path = tmp_path / "new" / "crm.duckdb"
    result = runner.invoke(app, ["import", str(csv), "-w", str(path)])
    assert result.exit_code == 0, result.output
    assert crmlens.open(path, create=False).orders.count().execute() == 1


def test_open_without_create_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="no warehouse at"):
        crmlens.open(tmp_path / "x.duckdb", create=False)
    with pytest.raises(WarehouseError, match="no warehouse at"):
        crmlens.open(f"spark://local?path={tmp_path / 'sp'}", create=False)
    assert crmlens.open(":memory:", create=False).orders.count().execute() == 0
