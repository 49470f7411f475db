"""Hand-computed cases for every normaliser."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from crmlens.ingest import normalise
from crmlens.model import TABLES

CON = duckdb.connect()


def evaluate(sql: str, value: str | None) -> object:
    row = CON.execute(f"SELECT {sql} FROM (SELECT ?::VARCHAR AS x)", [value]).fetchone()
    assert row is not None
    return row[0]


@pytest.mark.parametrize(
    ("text", "decimal_comma", "expected"),
    [
        ("1 234 567,50", True, 1234567.5),
        ("1\u00a0234,5", False, 1234.5),
        ("12,5", True, 12.5),
        ("12,5", False, 12.5),
        ("1,234,567.50", True, 1234567.5),
        ("1,234,567.50", False, 1234567.5),
        ("1.234.567,5", False, 1234567.5),
        ("1,234", False, 1234.0),
        ("1,234", True, 1.234),
        ("₽ 1200", True, 1200.0),
        ("12.5 руб.", False, 12.5),
        ("-3", True, -3.0),
        ("около миллиона", True, None),
        ("", True, None),
        ("1e400", False, None),
    ],
)
def test_number(text: str, decimal_comma: bool, expected: float | None) -> None:
    assert (
        evaluate(normalise.number("x", decimal_comma=decimal_comma).value, text)
        == expected
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("01.03.2025 14:05", dt.datetime(2025, 3, 1, 14, 5)),
        ("01.03.2025", dt.datetime(2025, 3, 1)),
        ("01.03.25", dt.datetime(2025, 3, 1)),
        ("2025-03-01", dt.datetime(2025, 3, 1)),
        ("2025-03-01 14:05:06.123", dt.datetime(2025, 3, 1, 14, 5, 6, 123000)),
        ("2025-03-01T10:00:00+03:00", dt.datetime(2025, 3, 1, 7, 0)),
        ("2025-03-01T10:00:00Z", dt.datetime(2025, 3, 1, 10, 0)),
        ("45351", dt.datetime(2024, 2, 29)),  # Excel serial
        ("45351.5", dt.datetime(2024, 2, 29, 12, 0)),
        ("31.02.2024", None),  # impossible date
        ("2024-02-30", None),
        ("вчера", None),
    ],
)
def test_timestamp(text: str, expected: dt.datetime | None) -> None:
    assert evaluate(normalise.timestamp("x").value, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("да", True),
        ("Нет", False),
        ("YES", True),
        ("false", False),
        ("1", True),
        ("0", False),
        ("может быть", None),
    ],
)
def test_boolean(text: str, expected: bool | None) -> None:
    assert evaluate(normalise.boolean("x").value, text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Успешно реализовано", "won"),
        ("Закрыто и не реализовано", "lost"),
        ("В работе", "open"),
        (" WON ", "won"),
        ("Closed Lost", "lost"),
        ("непонятно", None),
    ],
)
def test_deal_status(text: str, expected: str | None) -> None:
    column = TABLES["deals"].column("status")
    typed = normalise.typed("x", column, source_type="VARCHAR", decimal_comma=True)
    assert evaluate(typed.value, text) == expected
