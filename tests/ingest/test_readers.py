"""Readers: encodings, delimiters, decimal commas, spreadsheet row numbers, Excel, Parquet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from crmlens.errors import InputError
from crmlens.ingest.readers import (
    detect_decimal_comma,
    detect_delimiter,
    detect_encoding,
    read_file,
)

RU = (
    "ID сделки;Бюджет;Статус\r\nD1;1 234,50;В работе\r\nD2;12,5;Успешно реализовано\r\n"
)


def rows(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[object, ...]]:
    return con.execute(f"SELECT * FROM {table} ORDER BY _row").fetchall()


def test_cp1251_semicolon_decimal_comma(tmp_path: Path) -> None:
    path = tmp_path / "сделки.csv"
    path.write_bytes(RU.encode("cp1251"))
    con = duckdb.connect()
    raw = read_file(con, path, "r")
    assert raw.encoding == "cp1251"
    assert raw.delimiter == ";"
    assert raw.decimal_comma is True
    assert raw.columns == ["ID сделки", "Бюджет", "Статус"]
    assert rows(con, "r") == [
        (2, "D1", "1 234,50", "В работе"),
        (3, "D2", "12,5", "Успешно реализовано"),
    ]


def test_utf8_bom_and_tab(tmp_path: Path) -> None:
    path = tmp_path / "x.tsv"
    path.write_bytes(b"\xef\xbb\xbfa\tb\n1\t2\n")
    con = duckdb.connect()
    raw = read_file(con, path, "r")
    assert raw.encoding == "utf-8-sig"
    assert raw.columns == ["a", "b"]
    assert rows(con, "r") == [(2, "1", "2")]


def test_row_numbers_skip_rejected_lines(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n3,4,5\n6,7\n8\n9,10\n")
    con = duckdb.connect()
    raw = read_file(con, path, "r")
    assert [r[0] for r in rows(con, "r")] == [2, 4, 6]
    assert [r["row"] for r in raw.rejected] == [3, 5]


def test_trailing_empty_column_dropped(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b,\n1,2,\n3,4,\n")
    con = duckdb.connect()
    raw = read_file(con, path, "r")
    assert raw.columns == ["a", "b"]
    assert raw.dropped_columns


def test_excel_rows_and_dates(tmp_path: Path) -> None:
    import openpyxl

    path = tmp_path / "deals.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["deal_id", "created_at", "amount"])
    sheet.append(["D1", dt.datetime(2025, 3, 1, 14, 5), 12500.0])
    sheet.append([None, None, None])
    sheet.append(["D2", "01.04.2025", "12,5"])
    book.save(path)
    con = duckdb.connect()
    read_file(con, path, "r")
    assert rows(con, "r") == [
        (2, "D1", "2025-03-01 14:05:00", "12500"),
        (4, "D2", "01.04.2025", "12,5"),
    ]


def test_parquet_keeps_types(tmp_path: Path) -> None:
    path = tmp_path / "orders.parquet"
    duckdb.sql("SELECT 'O1' AS order_id, 12.5::DOUBLE AS amount").write_parquet(
        str(path)
    )
    con = duckdb.connect()
    raw = read_file(con, path, "r")
    assert raw.typed
    assert rows(con, "r") == [(2, "O1", 12.5)]


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "is empty"), (b"\x00\x01\x02", "not a text file")],
)
def test_unreadable_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_file(duckdb.connect(), path, "r")


def test_detectors() -> None:
    assert detect_delimiter("a;b;c\n1;2;3\n") == ";"
    assert detect_delimiter("a|b\n1|2\n") == "|"
    assert detect_decimal_comma("x;12,50;3,1\n", ";") is True
    assert detect_decimal_comma("x,12.50\n", ",") is False
    assert detect_encoding("привет".encode("cp1251") * 20) == "cp1251"
