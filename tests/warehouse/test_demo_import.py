"""The demo's messy export: exactly the valid rows load, every planted bad row is quarantined."""

from __future__ import annotations

import json
from pathlib import Path

import crmlens
from crmlens.model import TABLE_NAMES
from tests.warehouse.test_fuzz import run_cli


def test_messy_file_against_truth(demo_dir: Path, tmp_path: Path) -> None:
    truth = json.loads((demo_dir / "truth.json").read_text())["messy"]
    wh = crmlens.open(tmp_path / "wh.duckdb")
    report = wh.import_files([demo_dir / truth["file"]], table=truth["table"])
    counts = report.tables[0]
    assert counts.rows_read == truth["data_rows"]
    assert counts.loaded == truth["valid_rows"]
    assert counts.duplicates == truth["exact_duplicates"]
    assert counts.quarantined == len(truth["bad_rows"])
    assert wh.deals.count().execute() == truth["valid_rows"]
    quarantined = wh.quarantine.to_pyarrow().to_pylist()
    found = {(q["row"], q["source_column"]) for q in quarantined}
    planted = {(b["row"], b["column"]) for b in truth["bad_rows"]}
    assert found == planted
    assert all(q["reason"] for q in quarantined)


def test_demo_command_builds_and_summarises(tmp_path: Path) -> None:
    out, wh_path = tmp_path / "demo", tmp_path / "demo.duckdb"
    code, stdout, err = run_cli(
        ["demo", "--out", str(out), "-w", str(wh_path), "-f", "json"]
    )
    assert code == 0, err
    data = json.loads(stdout)
    assert data["analysis"] == "demo"
    rows = {r["table_name"]: r["row_count"] for r in data["rows"]}
    assert set(rows) == set(TABLE_NAMES)
    assert all(n > 0 for n in rows.values())
    truth = json.loads((out / "truth.json").read_text())
    messy = data["imports"][1]["tables"][0]
    assert messy["quarantined"] == len(truth["messy"]["bad_rows"])
