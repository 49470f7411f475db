"""Records, the envelope, CSV and XLSX of crmlens.insights.tabular (shared by CLI and web)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmlens.insights.tabular import (
    csv_file,
    envelope,
    plain,
    records,
    to_csv,
    xlsx_file,
)

MSK = dt.timezone(dt.timedelta(hours=3))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (True, True),
        (7, 7),
        ("текст", "текст"),
        (1.5, 1.5),
        (float("nan"), None),
        (float("-inf"), None),
        (Decimal("2.50"), 2.5),
        (dt.date(2025, 3, 1), "2025-03-01"),
        (dt.datetime(2025, 3, 1, 9, 30), "2025-03-01 09:30:00"),
        (dt.datetime(2025, 3, 1, 12, 0, tzinfo=MSK), "2025-03-01 09:00:00"),
        (dt.time(8, 15), "08:15:00"),
        (dt.timedelta(hours=1), 3600.0),
        ({"a": dt.date(2025, 1, 2), 3: None}, {"a": "2025-01-02", "3": None}),
        ((1, float("nan")), [1, None]),
        (frozenset({"x"}), ["x"]),
    ],
)
def test_plain_makes_values_json_friendly(value: Any, expected: Any) -> None:
    assert plain(value) == expected


def test_plain_reads_numpy_and_pandas_scalars() -> None:
    np = pytest.importorskip("numpy")
    pd = pytest.importorskip("pandas")
    assert plain(np.int64(3)) == 3
    assert type(plain(np.int64(3))) is int
    assert plain(np.float64("nan")) is None
    assert plain(np.datetime64("NaT")) is None
    assert plain(pd.Timestamp("2024-01-02 03:04")) == "2024-01-02 03:04:00"


nested = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text()
    | st.decimals(
        allow_nan=False, allow_infinity=False, min_value=-(10**9), max_value=10**9
    )
    | st.dates()
    | st.datetimes()
    | st.timedeltas(),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=5) | st.integers(), inner, max_size=3)
    ),
    max_leaves=10,
)


@given(nested)
def test_plain_output_is_strict_json(value: Any) -> None:
    text = json.dumps(plain(value), allow_nan=False)
    assert plain(json.loads(text)) == json.loads(text)  # plain is idempotent on JSON


def test_records_from_arrow_pandas_and_dicts_agree() -> None:
    pd = pytest.importorskip("pandas")
    table = pa.table(
        {
            "day": [dt.date(2025, 1, 1), None],
            "amount": [Decimal("1.25"), Decimal("2")],
            "share": [0.5, float("nan")],
        }
    )
    expected = [
        {"day": "2025-01-01", "amount": 1.25, "share": 0.5},
        {"day": None, "amount": 2.0, "share": None},
    ]
    assert records(table) == expected
    assert records(table.to_pylist()) == expected
    frame = pd.DataFrame(
        {"day": ["2025-01-01", None], "amount": [1.25, 2.0], "share": [0.5, None]}
    )
    assert records(frame) == expected
    assert records(None) == []


def test_envelope_is_the_one_json_shape() -> None:
    data = envelope(
        "funnel",
        {"as_of": dt.date(2025, 1, 31), "stages": ("a", "b")},
        [{"n": 1}],
        [{"severity": "high", "impact": Decimal("10")}],
        note=float("nan"),
    )
    assert data == {
        "analysis": "funnel",
        "params": {"as_of": "2025-01-31", "stages": ["a", "b"]},
        "rows": [{"n": 1}],
        "findings": [{"severity": "high", "impact": 10.0}],
        "note": None,
    }
    assert envelope("x", {}, [])["findings"] == []


def test_csv_text_for_the_terminal() -> None:
    rows = [
        {"name": "=SUM(A1)", "n": -3, "tags": ["a", "б"], "empty": None},
        {"name": "Иван, мл.", "n": 4, "tags": {"k": 1}, "empty": ""},
    ]
    assert to_csv(rows) == (
        "name,n,tags,empty\n"
        '=SUM(A1),-3,"[""a"", ""б""]",\n'
        '"Иван, мл.",4,"{""k"": 1}",\n'
    )
    assert to_csv([]) == ""
    assert to_csv([], ["a", "b"]) == "a,b\n"


def test_csv_for_spreadsheets_quotes_formulas_only() -> None:
    rows: list[dict[str, Any]] = [
        {"text": "=HYPERLINK(1)", "number": "-12.5", "plus": "+7 999", "at": "@x"},
        {"text": "-", "number": -1.5, "plus": None, "at": "a@b"},
    ]
    text = to_csv(rows, ["text", "number", "plus", "at"], spreadsheet=True)
    assert text == (
        "\ufefftext,number,plus,at\r\n"
        "'=HYPERLINK(1),-12.5,'+7 999,'@x\r\n"
        "'-,-1.5,,a@b\r\n"
    )


cells = st.one_of(
    st.none(), st.integers(), st.floats(allow_nan=False), st.text(max_size=12)
)


@given(st.lists(st.fixed_dictionaries({"a": cells, "b": cells}), max_size=8))
def test_spreadsheet_csv_reads_back_and_starts_no_formula(
    rows: list[dict[str, Any]],
) -> None:
    text = to_csv(rows, ["a", "b"], spreadsheet=True)
    assert text.startswith("\ufeff")
    read = list(csv.reader(io.StringIO(text[1:], newline="")))
    assert read[0] == ["a", "b"]
    assert len(read) == len(rows) + 1
    for row, back in zip(rows, read[1:], strict=True):
        for column, cell in zip(("a", "b"), back, strict=True):
            value = row[column]
            if cell[:1] in ("=", "+", "-", "@"):
                float(cell)  # only numbers may start like a formula
            if value is None:
                assert cell == ""
            elif cell.startswith("'") and not str(value).startswith("'"):
                assert cell[1:] == str(value)
            else:
                assert cell == str(value)


def test_csv_file_of_an_arrow_table_has_the_header_without_rows() -> None:
    table = pa.table({"id": pa.array([], pa.string()), "n": pa.array([], pa.int64())})
    assert csv_file(table) == "\ufeffid,n\r\n".encode()
    table = pa.table({"id": ["x"], "day": [dt.date(2025, 2, 3)]})
    assert csv_file(table).decode("utf-8") == "\ufeffid,day\r\nx,2025-02-03\r\n"


def test_xlsx_file_has_rows_and_findings_sheets() -> None:
    openpyxl = pytest.importorskip("openpyxl")
    table = pa.table(
        {"name": ["=1+1", "b"], "share": [0.25, math.nan], "tags": [["x"], []]}
    )
    finding = {
        "severity": "high",
        "impact": Decimal("1200"),
        "text": {"en": "text", "ru": "текст"},
        "action": {"en": "act", "ru": "сделать"},
    }
    body = xlsx_file(table, sheet="funnel/by:month", findings=[finding], lang="ru")
    book = openpyxl.load_workbook(io.BytesIO(body))
    assert book.sheetnames == ["funnelbymonth", "выводы"]
    rows = [list(r) for r in book["funnelbymonth"].iter_rows(values_only=True)]
    assert rows == [
        ["name", "share", "tags"],
        ["=1+1", 0.25, '["x"]'],
        ["b", None, "[]"],
    ]
    found = [list(r) for r in book["выводы"].iter_rows(values_only=True)]
    assert found == [
        ["severity", "impact", "text", "action"],
        ["high", 1200, "текст", "сделать"],
    ]
    plain_book = openpyxl.load_workbook(
        io.BytesIO(xlsx_file(table, sheet="", lang="en"))
    )
    assert plain_book.sheetnames == ["rows"]
