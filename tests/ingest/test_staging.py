"""Staging in one pass: typed as read, trimmed where needed, bad rows read again, rows
held outside the transaction (freed at once), file order kept."""

from __future__ import annotations

import gc
import tempfile
import weakref
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

import crmlens
from crmlens.ingest import normalise
from crmlens.ingest.readers import SAMPLE_ROWS, row_numbers
from crmlens.ingest.stage import Staged, _increasing, _needs_trim, run_on


def quarantined(wh: crmlens.Warehouse) -> list[tuple[int, str | None, str]]:
    rows = wh.quarantine.order_by(["row", "source_column"]).to_pyarrow().to_pylist()
    return [(r["row"], r["source_column"], r["reason"]) for r in rows]


def test_padded_text_is_trimmed_and_a_blank_key_quarantined(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text(
        "account_id,name,created_at,city\n"
        "A1, Ромашка ,2025-01-01,\u00a0Москва\n"
        'A2,Лютик,2025-01-02,"Тверь\t"\n'
        " ,Без ключа,2025-01-03,Казань\n"
        "A4,Астра,2025-01-04,\n",
        encoding="utf-8",
    )
    wh = crmlens.open(tmp_path / "wh.duckdb")
    counts = wh.import_files([path]).tables[0]
    assert (counts.rows_read, counts.loaded, counts.quarantined) == (4, 3, 1)
    got = wh.accounts.order_by("account_id").select("account_id", "name", "city")
    assert got.to_pyarrow().to_pylist() == [
        {"account_id": "A1", "name": "Ромашка", "city": "Москва"},
        {"account_id": "A2", "name": "Лютик", "city": "Тверь"},
        {"account_id": "A4", "name": "Астра", "city": None},
    ]
    assert quarantined(wh) == [(4, "account_id", "is empty but required")]


def test_a_bad_value_after_the_sample_is_quarantined_with_its_row(
    tmp_path: Path,
) -> None:
    n = SAMPLE_ROWS + 30
    lines = ["deal_id,created_at,pipeline_id,status,amount"]
    lines += [f"D{i:06d},2025-01-01 10:00:00,main,open,{i}" for i in range(n)]
    lines[n - 5 + 1] = f"D{n - 5:06d},2025-01-01 10:00:00,main,open,около 5"
    lines[n - 2 + 1] = f"D{n - 2:06d},31.02.2024,main,open,7"
    path = tmp_path / "deals.csv"
    path.write_text("\n".join(lines) + "\n")
    wh = crmlens.open(tmp_path / "wh.duckdb")
    counts = wh.import_files([path]).tables[0]
    assert (counts.loaded, counts.quarantined) == (n - 2, 2)
    found = quarantined(wh)
    assert [(r, c) for r, c, _ in found] == [(n - 3, "amount"), (n, "created_at")]
    assert "is not a number" in found[0][2]
    assert "is not a valid date" in found[1][2]
    record = wh.quarantine.filter(wh.quarantine.row == n - 3).record.execute()[0]
    assert record.startswith(f'{{"_row":{n - 3},')
    assert "около 5" in record
    schema = wh.deals.schema()
    assert (str(schema["amount"]), str(schema["created_at"])) == (
        "float64",
        "timestamp(6)",
    )


def test_custom_fields_typed_on_the_sample_fall_back_to_text(tmp_path: Path) -> None:
    n = SAMPLE_ROWS + 10
    lines = ["lead_id,created_at,Оценка,Доля,Партнёр"]
    lines += [f"L{i:06d},2025-01-01,{i % 7},{i % 3},да" for i in range(n)]
    lines[n] = f"L{n - 1:06d},2025-01-01,высокая,{(n - 1) % 3},нет"  # after the sample
    lines[n - 1] = f"L{n - 2:06d},2025-01-01,1,много,нет"
    path = tmp_path / "leads.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    wh = crmlens.open(tmp_path / "wh.duckdb")
    counts = wh.import_files([path]).tables[0]
    assert (counts.loaded, counts.quarantined) == (n, 0)
    types = {
        r["source_label"]: r["type"] for r in wh.custom_columns.to_pyarrow().to_pylist()
    }
    assert types == {"Оценка": "string", "Доля": "string", "Партнёр": "bool"}
    leads = wh.leads.order_by("lead_id").to_pyarrow().to_pylist()
    assert (leads[0]["otsenka"], leads[-1]["otsenka"]) == ("0", "высокая")
    assert leads[-2]["dolya"] == "много"
    assert (leads[0]["partner"], leads[-1]["partner"]) == (True, False)


def test_the_table_keeps_the_files_order(tmp_path: Path) -> None:
    ids = ["D7", "D3", "D9", "D1", "D5"]
    path = tmp_path / "deals.csv"
    path.write_text(
        "deal_id,created_at,pipeline_id,status\n"
        + "".join(f"{d},2025-01-01,main,open\n" for d in ids)
    )
    wh = crmlens.open(tmp_path / "wh.duckdb")
    wh.import_files([path])
    con = wh.storage.con  # type: ignore[union-attr]
    got = con.execute("SELECT deal_id FROM deals ORDER BY rowid").fetchall()
    assert [r[0] for r in got] == ids


def test_a_converted_copy_is_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    path = tmp_path / "managers.csv"
    path.write_bytes("manager_id;name\r\nM1;Анна\r\nM2;Олег\r\n".encode("cp1251"))
    wh = crmlens.open(tmp_path / "wh.duckdb")
    assert wh.import_files([path]).tables[0].loaded == 2
    assert sorted(wh.managers.name.execute()) == ["Анна", "Олег"]
    assert list(temp.iterdir()) == []


def test_staged_rows_are_freed_inside_the_transaction() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (a BIGINT)")
    con.execute("BEGIN")
    data = pa.table({"a": [1, 2, 3]})
    held = weakref.ref(data)
    run_on(con, data, "x", "INSERT INTO t SELECT a FROM x")
    del data
    gc.collect()
    assert held() is None  # a registered view would keep it until the commit
    con.execute("COMMIT")
    assert con.execute("SELECT sum(a) FROM t").fetchall() == [(6,)]


@pytest.mark.parametrize(
    ("values", "padded"),
    [
        (["a", "b"], False),
        ([" a"], True),
        (["a "], True),
        (["a\t"], True),
        (["\na"], True),
        (["a\r"], True),
        (["\u00a0a"], True),
        (["a\u00a0"], True),
        (["Р", "аР"], False),  # Р ends in byte A0, no no-break space
        ([""], True),
        ([None, "x"], False),
        ([None], False),
    ],
)
def test_needs_trim(values: list[str | None], padded: bool) -> None:
    for kind in (pa.string(), pa.large_string(), pa.string_view()):
        assert _needs_trim(pa.array(values, kind)) is padded
    longer = pa.array(["x", *values, "y"])
    assert _needs_trim(longer.slice(1, len(values))) is padded


def test_row_numbers_skip_rejected_lines() -> None:
    assert row_numbers(3, []).to_pylist() == [2, 3, 4]
    assert row_numbers(3, [{"row": 3}, {"row": 5}]).to_pylist() == [2, 4, 6]
    assert row_numbers(2, [{"row": 2}]).to_pylist() == [3, 4]


@pytest.mark.parametrize(
    ("rows", "rising"),
    [
        ({"deal_id": ["D1", "D2", "D3"]}, True),
        ({"deal_id": ["D1", "D3", "D2"]}, False),
        ({"deal_id": ["D1", "D1"]}, False),
        ({"deal_id": ["D1", None]}, False),
        ({"deal_id": ["D1"]}, True),
    ],
)
def test_increasing_single_key(rows: dict[str, list[str | None]], rising: bool) -> None:
    batch = Staged("f", "deals", "s", ["deal_id"], {}, derived=False)
    batch.data = pa.table(rows)
    assert _increasing(batch) is rising


def test_increasing_compound_key() -> None:
    batch = Staged("f", "call_reviews", "s", ["activity_id", "item"], {}, False)
    batch.data = pa.table(
        {"activity_id": ["X1", "X1", "X2", "X2"], "item": ["a", "b", "a", "c"]}
    )
    assert _increasing(batch)
    batch.data = pa.table({"activity_id": ["X1", "X1"], "item": ["b", "b"]})
    assert not _increasing(batch)
    batch.data = pa.table({"activity_id": ["X1", "X1"], "item": ["b", "a"]})
    assert not _increasing(batch)


TEXTS = [" a", "a ", "a", "", "\u00a0b\u00a0", "\tc\n", "  ", None, "ёж ", " ёж"]
TEXTS += ["ёж\u00a0", "x\r", "a\r\n", "Р", "e\u0301 "]


@pytest.mark.parametrize("value", TEXTS)
def test_text_trims_exactly_the_whitespace(value: str | None) -> None:
    con = duckdb.connect()
    sql = normalise.text('"x"')  # the guarded form, for a column
    got = con.execute(f"SELECT {sql} FROM (SELECT ?::VARCHAR AS x)", [value]).fetchall()
    stripped = value.strip(normalise.WHITESPACE) if value is not None else None
    assert got == [(stripped or None,)]
