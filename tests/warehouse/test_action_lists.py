"""Stored action lists: a Spark (Parquet) warehouse made before the table existed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import duckdb

from crmlens.warehouse.action_lists import save_action_list
from crmlens.warehouse.storage import ParquetStorage

ITEM = {"action_id": "2024-03-04:win_back:A1", "list_date": dt.date(2024, 3, 4),
        "manager_id": "M1", "rank": 1, "list": "today", "capacity": 3,
        "kind": "win_back", "account_id": "A1", "probability": 0.5, "amount": 10.0,
        "expected_value": 5.0, "reason_ru": "почему", "reason_en": "why",
        "evidence": {"analysis": "customers_churn", "gap_ratio": 4.0}}  # fmt: skip


def test_parquet_warehouse_without_the_table(tmp_path: Path) -> None:
    storage = ParquetStorage(tmp_path / "wh")
    (storage.current / "action_lists.parquet").unlink()  # an older warehouse
    before = storage.current.name
    wh = SimpleNamespace(storage=storage, url=SimpleNamespace(raw="spark://local"),
                         refresh=lambda: None)  # fmt: skip
    assert (
        save_action_list(wh, [ITEM], list_date=ITEM["list_date"], managers=["M1"]) == 1
    )  # type: ignore[arg-type]
    assert storage.current.name != before  # a new version was published
    path = storage.current / "action_lists.parquet"
    rows = duckdb.sql(f"SELECT kind, evidence FROM read_parquet('{path}')").fetchall()
    assert rows == [("win_back", '{"analysis": "customers_churn", "gap_ratio": 4.0}')]
    assert (storage.current / "deals.parquet").exists()  # the others carried over
