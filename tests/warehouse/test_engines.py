"""Engine parity: the same import and the same Ibis analysis on DuckDB and on PySpark."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmlens.cli.render import records
from crmlens.insights.registry import tables_rows
from tests.backends import assert_same_rows, open_engine

CRM = {
    "managers.csv": "manager_id,name,region,hired_at\nM1,Анна,Урал,2022-01-10\nM2,Олег,Юг,2023-05-01\n",
    "deals.csv": (
        "deal_id;created_at;pipeline_id;status;amount;closed_at;Канал\n"
        "D1;01.03.2025 14:05;main;won;1 234,50;10.04.2025;сайт\n"
        "D2;02.03.2025;main;open;10;;звонок\n"
        "D3;03.03.2025;main;lost;около миллиона;;сайт\n"
    ),
    "orders.csv": "order_id,account_id,order_date,amount\nO1,A1,2025-01-05,100\nO2,A1,2025-02-05,150.5\n",
}

EXPECTED = {
    "managers": (2, "2022-01-10 00:00:00", "2023-05-01 00:00:00"),
    "deals": (2, "2025-03-01 14:05:00", "2025-03-02 00:00:00"),
    "orders": (2, "2025-01-05 00:00:00", "2025-02-05 00:00:00"),
    "leads": (0, None, None),
    "pipelines": (0, None, None),
}


@pytest.fixture(scope="module")
def crm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("crm")
    for name, text in CRM.items():
        (out / name).write_text(text, encoding="utf-8")
    return out


def test_tables_on_engine(engine: str, crm_dir: Path, tmp_path: Path) -> None:
    wh = open_engine(engine, tmp_path / "wh")
    report = wh.import_files([crm_dir])
    assert sum(t.quarantined for t in report.tables) == 1
    rows = {r["table_name"]: r for r in records(tables_rows(wh))}
    assert len(rows) == 13
    for table, (count, first, last) in EXPECTED.items():
        assert (
            rows[table]["row_count"],
            rows[table]["first_at"],
            rows[table]["last_at"],
        ) == (
            count,
            first,
            last,
        ), table
    assert "kanal" in wh.columns("deals")


@pytest.mark.spark
def test_tables_identical_on_duckdb_and_spark(crm_dir: Path, tmp_path: Path) -> None:
    results = []
    for engine in ("duckdb", "spark"):
        wh = open_engine(engine, tmp_path / engine)
        wh.import_files([crm_dir])
        results.append(records(tables_rows(wh)))
    assert_same_rows(results[0], results[1])
    assert results[0] == results[1]  # same order too: the overview is sorted by table


@pytest.mark.spark
def test_spark_import_is_atomic(crm_dir: Path, tmp_path: Path) -> None:
    from crmlens.warehouse.load import import_paths

    wh = open_engine("spark", tmp_path / "wh")
    wh.import_files([crm_dir])
    before = records(tables_rows(wh))
    with pytest.raises(RuntimeError, match="injected"):
        import_paths(wh.storage, [crm_dir], fail_after="deals", mode="replace")
    wh.refresh()
    assert records(tables_rows(wh)) == before


@pytest.mark.spark
def test_two_spark_warehouses_do_not_shadow_each_other(
    crm_dir: Path, tmp_path: Path
) -> None:
    first = open_engine("spark", tmp_path / "one")
    first.import_files([crm_dir])
    second = open_engine("spark", tmp_path / "two")
    assert second.deals.count().execute() == 0
    assert first.deals.count().execute() == 2
