"""Import end to end: quarantine, duplicates, modes, custom fields, atomicity."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import crmlens
from crmlens.errors import InputError
from crmlens.model import TABLE_NAMES

MESSY = (
    "ID сделки;Дата создания;Воронка;Статус;Бюджет;Размер компании;Партнёр\r\n"
    "D1;01.03.2025 14:05;main;В работе;1 234,50;120;да\r\n"  # 2 ok
    "D2;02.03.2025;main;Успешно реализовано;около миллиона;5;нет\r\n"  # 3 not a number
    "D3;31.02.2024 10:00;main;В работе;10;5;нет\r\n"  # 4 impossible date
    ";03.03.2025;main;В работе;10;5;нет\r\n"  # 5 missing key
    "D4;03.03.2025;main;непонятно;10;5;нет\r\n"  # 6 bad enum
    "D1;01.03.2025 14:05;main;В работе;1 234,50;120;да\r\n"  # 7 exact duplicate
    "D5;04.03.2025;main;В работе;10;5;нет\r\n"  # 8 conflict with 9
    "D5;04.03.2025;main;В работе;11;5;нет\r\n"  # 9
    "D6;05.03.2025;main;В работе;10;5;нет;лишнее\r\n"  # 10 too many fields
    "D7;06.03.2025;main;Закрыто и не реализовано;0,5;7;да\r\n"  # 11 ok
)


@pytest.fixture
def messy(tmp_path: Path) -> Path:
    path = tmp_path / "deals_export.csv"
    path.write_bytes(MESSY.encode("cp1251"))
    return path


def quarantine_rows(wh: crmlens.Warehouse) -> list[tuple[int, str | None, str]]:
    q = wh.quarantine.order_by(["row", "source_column"]).to_pyarrow().to_pylist()
    return [(r["row"], r["source_column"], r["reason"]) for r in q]


def test_messy_file_loads_exactly_the_valid_rows(tmp_path: Path, messy: Path) -> None:
    wh = crmlens.open(tmp_path / "wh.duckdb")
    report = wh.import_files([messy], table="deals")
    counts = report.tables[0]
    assert (counts.rows_read, counts.loaded, counts.duplicates) == (10, 2, 1)
    assert counts.quarantined == 7
    assert sorted(wh.deals.deal_id.execute()) == ["D1", "D7"]
    found = quarantine_rows(wh)
    assert [(r, c) for r, c, _ in found] == [
        (3, "Бюджет"),
        (4, "Дата создания"),
        (5, "ID сделки"),
        (6, "Статус"),
        (8, "ID сделки"),
        (9, "ID сделки"),
        (10, None),
    ]
    reasons = {(r, c): why for r, c, why in found}
    assert "is not a number" in reasons[(3, "Бюджет")]
    assert "same key as row 9" in reasons[(8, "ID сделки")]
    deals = wh.deals.execute().set_index("deal_id")
    assert deals.loc["D1", "amount"] == 1234.5
    assert deals.loc["D7", "status"] == "lost"
    assert str(deals.loc["D1", "created_at"]) == "2025-03-01 14:05:00"


def test_custom_columns_keep_values_and_types(tmp_path: Path, messy: Path) -> None:
    wh = crmlens.open(tmp_path / "wh.duckdb")
    wh.import_files([messy], table="deals")
    schema = wh.deals.schema()
    assert str(schema["razmer_kompanii"]) == "int64"
    assert str(schema["partner"]) == "boolean"
    custom = wh.custom_columns.execute()
    assert set(custom.source_label) == {"Размер компании", "Партнёр"}


def test_reimport_changes_nothing(tmp_path: Path, messy: Path) -> None:
    wh = crmlens.open(tmp_path / "wh.duckdb")
    wh.import_files([messy], table="deals")
    before = wh.deals.execute().sort_values("deal_id").reset_index(drop=True)
    again = wh.import_files([messy], table="deals").tables[0]
    assert (again.loaded, again.updated, again.unchanged) == (0, 0, 2)
    after = wh.deals.execute().sort_values("deal_id").reset_index(drop=True)
    assert before.equals(after)


def test_upsert_updates_and_append_refuses(tmp_path: Path) -> None:
    wh = crmlens.open(tmp_path / "wh.duckdb")
    first = tmp_path / "deals.csv"
    first.write_text(
        "deal_id,created_at,pipeline_id,status,amount\nD1,2025-01-01,p,open,10\n"
    )
    wh.import_files([first])
    first.write_text(
        "deal_id,created_at,pipeline_id,status,amount\nD1,2025-01-01,p,won,10\nD2,2025-01-02,p,open,5\n"
    )
    up = wh.import_files([first]).tables[0]
    assert (up.loaded, up.updated) == (1, 1)
    assert wh.deals.filter(wh.deals.deal_id == "D1").status.execute().tolist() == [
        "won"
    ]
    app = wh.import_files([first], mode="append").tables[0]
    assert (app.loaded, app.quarantined) == (0, 2)
    rep = wh.import_files([first], mode="replace").tables[0]
    assert rep.loaded == 2
    assert wh.deals.count().execute() == 2


def checksums(wh: crmlens.Warehouse) -> dict[str, tuple[int, int]]:
    con = wh.storage.con  # type: ignore[union-attr]
    out = {}
    for name in [*TABLE_NAMES, "imports", "quarantine"]:
        row = con.execute(
            f'SELECT count(*), coalesce(sum(hash(t)), 0) FROM "{name}" t'
        ).fetchone()
        out[name] = (row[0], int(row[1]))
    return out


def test_failure_half_way_leaves_warehouse_unchanged(
    tmp_path: Path, messy: Path
) -> None:
    wh = crmlens.open(tmp_path / "wh.duckdb")
    wh.import_files([messy], table="deals")
    before = checksums(wh)
    data = tmp_path / "more"
    data.mkdir()
    (data / "managers.csv").write_text("manager_id,name\nM1,Анна\n")
    (data / "deals.csv").write_text(
        "deal_id,created_at,pipeline_id,status\nD9,2025-01-01,p,open\n"
    )
    from crmlens.warehouse.load import import_paths

    with pytest.raises(RuntimeError, match="injected failure"):
        import_paths(wh.storage, [data], fail_after="deals")  # type: ignore[arg-type]
    assert checksums(wh) == before

    def interrupt(item: str, done: int, total: int) -> None:
        if done == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        wh.import_files([data], progress=interrupt)
    assert checksums(wh) == before


def test_unreadable_file_aborts_whole_import(tmp_path: Path, messy: Path) -> None:
    wh = crmlens.open(tmp_path / "wh.duckdb")
    broken = tmp_path / "leads.xlsx"
    broken.write_bytes(b"not a workbook")
    with pytest.raises(InputError, match="cannot be read as an Excel workbook"):
        wh.import_files([messy, broken], table="deals")
    assert wh.deals.count().execute() == 0


KILL_SCRIPT = """
import sys, crmlens
from pathlib import Path
wh = crmlens.open(sys.argv[1])
def slow(item, done, total):
    print("step", done, flush=True)
    if done >= 1:
        import time; time.sleep(60)
wh.import_files([Path(sys.argv[2])], progress=slow)
"""


def test_killed_process_leaves_warehouse_unchanged(tmp_path: Path, messy: Path) -> None:
    path = tmp_path / "wh.duckdb"
    wh = crmlens.open(path)
    wh.import_files([messy], table="deals")
    before = checksums(wh)
    wh.close()
    data = tmp_path / "more"
    data.mkdir()
    (data / "managers.csv").write_text("manager_id,name\nM1,Анна\n")
    (data / "deals.csv").write_text(
        "deal_id,created_at,pipeline_id,status\nD9,2025-01-01,p,open\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(path), str(data)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.stdout.readline().startswith("step 1"):
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert checksums(crmlens.open(path)) == before


def test_directory_twice_keeps_counts(tmp_path: Path) -> None:
    data = tmp_path / "crm"
    data.mkdir()
    (data / "managers.csv").write_text(
        "manager_id,name,region\nM1,Анна,Урал\nM2,Олег,Юг\n"
    )
    (data / "сделки.csv").write_text(
        "ID сделки;Дата создания;Воронка;Статус;Ответственный\n"
        "D1;01.03.2025;main;в работе;M1\n",
        encoding="utf-8",
    )
    (data / "notes.txt.bak").write_text("ignored")
    wh = crmlens.open(tmp_path / "wh.duckdb")
    wh.import_files([data])
    counts = {t: wh.table(t).count().execute() for t in TABLE_NAMES}
    report = wh.import_files([data])
    assert {t: wh.table(t).count().execute() for t in TABLE_NAMES} == counts
    assert counts["managers"] == 2
    assert counts["deals"] == 1
    assert all(t.unchanged == t.rows_read for t in report.tables)
