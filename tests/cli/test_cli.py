"""The CLI contract: help with examples, the JSON envelope, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.warehouse.test_fuzz import run_cli


def test_help_lists_commands_with_examples() -> None:
    code, out, _ = run_cli(["--help"])
    assert code == 0
    for command in ("import", "quarantine", "tables", "demo"):
        assert command in out
    assert "Examples" in out


def test_import_json_envelope_and_quarantine_formats(tmp_path: Path) -> None:
    path = tmp_path / "deals.csv"
    path.write_text(
        "deal_id,created_at,pipeline_id,status,amount\nD1,2025-01-01,p,won,x\nD2,2025-01-01,p,won,5\n"
    )
    wh = str(tmp_path / "wh.duckdb")
    code, out, _ = run_cli(["import", str(path), "-w", wh, "-f", "json"])
    assert code == 0
    data = json.loads(out)
    assert set(data) >= {"analysis", "params", "rows", "findings", "errors", "warnings"}
    assert data["rows"][0]["loaded"] == 1
    assert data["rows"][0]["quarantined"] == 1
    assert data["errors"][0]["row"] == 2
    assert data["errors"][0]["column"] == "amount"
    code, out, _ = run_cli(["quarantine", "-w", wh, "-f", "csv"])
    assert code == 0
    assert out.splitlines()[0].startswith("import_id,file,row,table_name,column_name")
    assert ",2,deals,amount,amount,x," in out
    code, out, _ = run_cli(["quarantine", "-w", wh, "-f", "json"])
    assert json.loads(out)["rows"][0]["record"]


def test_error_is_one_line_and_json_envelope(tmp_path: Path) -> None:
    code, out, err = run_cli(
        [
            "import",
            str(tmp_path / "missing.csv"),
            "-w",
            str(tmp_path / "w.duckdb"),
            "-f",
            "json",
        ]
    )
    assert code == 1
    assert err.strip().startswith("error:")
    assert "missing.csv" in err
    assert "Traceback" not in err
    envelope = json.loads(out)
    assert envelope["ok"] is False
    assert envelope["status"] == 400
    assert "file not found" in envelope["error"]


def test_nothing_usable_exits_non_zero(tmp_path: Path) -> None:
    path = tmp_path / "deals.csv"
    path.write_text("deal_id,created_at,pipeline_id,status\nD1,never,p,won\n")
    code, _, _ = run_cli(["import", str(path), "-w", str(tmp_path / "w.duckdb")])
    assert code == 1


def test_unknown_preset_and_table_are_clear(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    code, _, err = run_cli(
        ["import", str(path), "-w", str(tmp_path / "w.duckdb"), "--preset", "nope"]
    )
    assert code == 1
    assert "unknown preset 'nope'" in err
    code, _, err = run_cli(["import", str(path), "-w", str(tmp_path / "w.duckdb")])
    assert code == 1
    assert "cannot tell which table" in err


def test_import_crmlens_is_light() -> None:
    code = (
        "import sys, crmlens; "
        "heavy = [m for m in ('ibis', 'pandas', 'pyspark', 'duckdb', 'sklearn') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_an_unknown_option_is_a_usage_error_not_an_internal_one() -> None:
    code, out, err = run_cli(["funnel", "--bogus"])
    assert code == 2
    text = out + err
    assert "No such option: --bogus" in text
    assert "Usage: crmlens funnel" in text
    assert "internal error" not in text
