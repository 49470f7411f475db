"""Readers: a CSV, XLSX or Parquet file -> a raw DuckDB table with spreadsheet row numbers.

CSV parsing is DuckDB's (``read_csv``), run with every column as text so that typing is ours
and every bad value can be named; DuckDB's rejects table gives the lines it could not parse.
Encoding is detected with charset-normalizer; the delimiter by counting candidate separators
outside quotes on the first lines (csv.Sniffer guesses letters on short samples, so the
candidate set is fixed to , ; tab |). XLSX is read with python-calamine.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmlens.errors import InputError
from crmlens.ingest.sql import ident as _id
from crmlens.ingest.sql import lit as _lit

if TYPE_CHECKING:
    import duckdb

SAMPLE_BYTES = 1 << 20
SAMPLE_ROWS = 20_000
DELIMITERS = (",", ";", "\t", "|")
SUPPORTED = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls", ".parquet")


@dataclass
class RawFile:
    """A file read into DuckDB: table name, columns, and what went wrong reading it."""

    path: Path
    table: str
    columns: list[str]
    rows: int
    encoding: str | None = None
    delimiter: str | None = None
    decimal_comma: bool = False
    sha256: str = ""
    rejected: list[dict[str, Any]] = field(default_factory=list)
    dropped_columns: list[str] = field(default_factory=list)
    typed: bool = False
    fast_types: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """File name as the user gave it (for messages)."""
        return self.path.name


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def detect_encoding(sample: bytes) -> str:
    """Encoding of a sample: UTF-8 (with or without BOM) when it decodes, else a guess."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    cut = sample.rfind(b"\n") if len(sample) >= SAMPLE_BYTES else len(sample)
    try:
        sample[: cut if cut > 0 else len(sample)].decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(
        sample, cp_isolation=["cp1251", "koi8_r", "cp866", "latin_1", "utf_16"]
    ).best()
    return best.encoding if best is not None else "cp1251"


def detect_delimiter(text: str) -> str:
    """The separator that splits the first lines into the same, largest number of fields."""
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    if not lines:
        return ","
    best, best_score = ",", -1.0
    for delim in DELIMITERS:
        counts = [
            len(row)
            for row in csv.reader(io.StringIO("\n".join(lines)), delimiter=delim)
        ]
        if not counts or max(counts) < 2:
            continue
        header = counts[0]
        agree = sum(1 for c in counts if c == header) / len(counts)
        score = agree * 1000 + header
        if score > best_score:
            best, best_score = delim, score
    return best


def detect_decimal_comma(text: str, delimiter: str) -> bool:
    """True when numbers in the sample are written with a decimal comma (``12,5``)."""
    import re

    if delimiter == ",":
        return False
    comma = len(re.findall(r"(?<![\d.,])-?\d+,\d{1,2}(?![\d,.])", text))
    dot = len(re.findall(r"(?<![\d.,])-?\d+\.\d{1,2}(?![\d,.])", text))
    return comma > dot


@contextmanager
def _utf8_copy(path: Path, encoding: str) -> Iterator[Path]:
    """A temporary UTF-8 copy of a file in another encoding (DuckDB reads UTF-8)."""
    fd, tmp = tempfile.mkstemp(suffix=".csv", prefix="crmlens-")
    try:
        with (
            path.open("r", encoding=encoding, errors="strict", newline="") as src,
            os.fdopen(fd, "w", encoding="utf-8", newline="") as dst,
        ):
            for chunk in iter(lambda: src.read(1 << 20), ""):
                dst.write(chunk)
        yield Path(tmp)
    except UnicodeDecodeError as e:
        raise InputError(
            "cannot be decoded",
            file=path.name,
            reason=f"bytes at position {e.start} are not valid {encoding}; "
            "save the file as UTF-8 or Windows-1251",
        ) from None
    finally:
        Path(tmp).unlink(missing_ok=True)


#: Given a sample of a CSV file read as text, the DuckDB type of each column that can be
#: parsed natively (a plain cast gives the same value as the normaliser on the sample).
TypePlanner = Callable[["RawFile"], dict[str, str]]


def read_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    table: str,
    *,
    plan: TypePlanner | None = None,
) -> RawFile:
    """Read `path` into the temporary DuckDB table `table` (text columns plus ``_row``).

    With `plan`, a CSV is first sampled; columns the planner names are parsed natively by
    DuckDB. If any value of those columns then fails to parse, the whole file is read again
    as text, so that the normaliser can read or name every value.
    """
    if not path.exists():
        raise InputError("file not found", file=str(path))
    if path.is_dir():
        raise InputError(
            "is a directory; give the files or the directory alone", file=str(path)
        )
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise InputError(
            "unsupported file type",
            file=path.name,
            reason=f"expected one of {', '.join(SUPPORTED)}",
        )
    if suffix == ".parquet":
        raw = _read_parquet(con, path, table)
    elif suffix in (".xlsx", ".xlsm", ".xls"):
        raw = _read_excel(con, path, table)
    else:
        raw = _read_csv(con, path, table, plan)
    raw.sha256 = sha256_of(path)
    return raw


def _read_csv(
    con: duckdb.DuckDBPyConnection, path: Path, table: str, plan: TypePlanner | None
) -> RawFile:
    with path.open("rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    if not sample.strip():
        raise InputError("is empty", file=path.name, reason="no header and no rows")
    if b"\x00" in sample[:4096] and not sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(
            "is not a text file", file=path.name, reason="it has NUL bytes"
        )
    encoding = detect_encoding(sample)
    text = sample.decode(encoding, errors="replace")
    delimiter = detect_delimiter(text)
    decimal_comma = detect_decimal_comma(text, delimiter)
    if encoding in ("utf-8", "ascii"):
        raw = _csv_planned(con, path, path, table, delimiter, decimal_comma, plan)
    else:
        with _utf8_copy(path, encoding) as copy:
            raw = _csv_planned(con, path, copy, table, delimiter, decimal_comma, plan)
    raw.encoding, raw.delimiter, raw.decimal_comma = encoding, delimiter, decimal_comma
    return raw


def _csv_planned(
    con: duckdb.DuckDBPyConnection,
    shown: Path,
    path: Path,
    table: str,
    delimiter: str,
    decimal_comma: bool,
    plan: TypePlanner | None,
) -> RawFile:
    """Sample, plan native types, read; fall back to text when a planned value fails."""
    if plan is not None:
        sample = _csv_into(
            con, shown, path, f"{table}_sample", delimiter, limit=SAMPLE_ROWS
        )
        sample.decimal_comma = decimal_comma
        headers = sample.columns + sample.dropped_columns
        types = plan(sample) if sample.rows else {}
        release(con, sample)
        if types:
            columns = {h: types.get(h, "VARCHAR") for h in headers}
            raw = _csv_into(con, shown, path, table, delimiter, columns=columns)
            if raw is not None:
                raw.typed, raw.fast_types = True, types
                return raw
    text = _csv_into(con, shown, path, table, delimiter)
    assert text is not None
    return text


def _csv_into(
    con: duckdb.DuckDBPyConnection,
    shown: Path,
    path: Path,
    table: str,
    delimiter: str,
    *,
    limit: int | None = None,
    columns: dict[str, str] | None = None,
) -> Any:
    import duckdb

    rejects, scan = f"{table}_rej", f"{table}_rejscan"
    if columns:
        spec = ", ".join(f"{_lit(h)}: {_lit(t)}" for h, t in columns.items())
        typing = f"columns={{{spec}}}"
    else:
        typing = "all_varchar=true"
    options = (
        f"delim={_lit(delimiter)}, header=true, {typing}, quote='\"', "
        "escape='\"', strict_mode=true, null_padding=false, store_rejects=true, "
        f"rejects_table={_lit(rejects)}, rejects_scan={_lit(scan)}, "
        "max_line_size=10000000, sample_size=-1, encoding='utf-8'"
    )
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table}_src AS "
            f"SELECT * FROM read_csv({_lit(str(path))}, {options})"
            + (f" LIMIT {limit}" if limit else "")
        )
        if columns and _has_cast_errors(con, rejects):
            con.execute(f"DROP TABLE {table}_src")
            con.execute(f"DROP TABLE IF EXISTS {rejects}")
            return None
        rejected = _rejected_lines(con, rejects)
    except duckdb.Error as e:
        raise InputError(
            "cannot be read as CSV", file=shown.name, reason=_first_line(str(e))
        ) from None
    names = [r[0] for r in con.execute(f"DESCRIBE {table}_src").fetchall()]
    _number_rows(con, table, rejected)
    raw = RawFile(shown, table, names, _count(con, table), rejected=rejected)
    _drop_empty_columns(con, raw)
    if raw.dropped_columns:
        keep = ", ".join(["_row", *(_id(c) for c in raw.columns)])
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {table}_v AS SELECT {keep} FROM {table}"
        )
        raw.table = f"{table}_v"
    return raw


def _has_cast_errors(con: duckdb.DuckDBPyConnection, rejects: str) -> bool:
    row = con.execute(
        f"SELECT count(*) FROM {rejects} WHERE error_type = 'CAST'"
    ).fetchone()
    return bool(row and row[0])


def _rejected_lines(
    con: duckdb.DuckDBPyConnection, rejects: str
) -> list[dict[str, Any]]:
    rows = con.execute(
        f"SELECT line, column_name, error_type, csv_line, error_message "
        f"FROM {rejects} ORDER BY line"
    ).fetchall()
    con.execute(f"DROP TABLE IF EXISTS {rejects}")
    seen: dict[int, dict[str, Any]] = {}
    for line, column, kind, text, message in rows:
        seen.setdefault(
            int(line),
            {
                "row": int(line),
                "column": column,
                "kind": str(kind),
                "value": (text or "").strip("\r\n"),
                "reason": _first_line(str(message)),
            },
        )
    return list(seen.values())


def _number_rows(
    con: duckdb.DuckDBPyConnection, table: str, rejected: list[dict[str, Any]]
) -> None:
    """Give each parsed record its spreadsheet row (header = 1), skipping rejected lines."""
    # Row k (0-based, file order = rowid) sits at line k + 2 plus the number of rejected
    # lines before it: with rejected lines r_0 < r_1 < ..., row k moves down by one for each
    # i with r_i - 2 - i <= k.
    # rowids of a table are contiguous in insertion order but need not start at 0 (temp
    # and transaction-local tables start high), hence the subtraction.
    first = con.execute(f"SELECT min(rowid) FROM {table}_src").fetchone()
    base = f"(rowid - {int(first[0]) if first and first[0] is not None else 0})"
    shifts = [r["row"] - 2 - i for i, r in enumerate(rejected)]
    if shifts:
        values = ", ".join(f"({s})" for s in shifts)
        offset = f"(SELECT count(*) FROM (VALUES {values}) s(t) WHERE s.t <= {base})"
    else:
        offset = "0"
    # A view, not a copy: the parsed text is held once.
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {table} AS "
        f"SELECT CAST({base} + 2 + {offset} AS BIGINT) AS _row, * FROM {table}_src"
    )


def _drop_empty_columns(con: duckdb.DuckDBPyConnection, raw: RawFile) -> None:
    """Forget unnamed columns with no value (a trailing delimiter on every line)."""
    for col in list(raw.columns):
        unnamed = (col.startswith("column") and col[6:].isdigit()) or not col.strip()
        if not unnamed:
            continue
        filled = con.execute(
            f"SELECT count({_id(col)}) FROM {raw.table} WHERE trim({_id(col)}) <> ''"
        ).fetchone()
        if filled is not None and filled[0] == 0:
            raw.columns.remove(col)
            raw.dropped_columns.append(col)


def _read_parquet(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> RawFile:
    import duckdb

    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT "
            f"CAST(file_row_number + 2 AS BIGINT) AS _row, * EXCLUDE (file_row_number) "
            f"FROM read_parquet({_lit(str(path))}, file_row_number=true)"
        )
    except duckdb.Error as e:
        raise InputError(
            "cannot be read as Parquet", file=path.name, reason=_first_line(str(e))
        ) from None
    columns = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()][1:]
    return RawFile(path, table, columns, _count(con, table), typed=True)


def _read_excel(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> RawFile:
    import pyarrow as pa
    from python_calamine import CalamineWorkbook

    try:
        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=False)
    except Exception as e:  # calamine raises its own error types for broken files
        raise InputError(
            "cannot be read as an Excel workbook",
            file=path.name,
            reason=_first_line(str(e)),
        ) from None
    start = next((i for i, r in enumerate(rows) if any(_cell(v) for v in r)), None)
    if start is None:
        raise InputError(
            "is empty", file=path.name, reason="the first sheet has no rows"
        )
    header = _unique_headers(
        [_cell(v) or f"column{i}" for i, v in enumerate(rows[start])]
    )
    body = rows[start + 1 :]
    data: dict[str, list[Any]] = {"_row": [start + 2 + i for i in range(len(body))]}
    for j, name in enumerate(header):
        data[name] = [_cell(r[j]) if j < len(r) else None for r in body]
    arrow = pa.table(data)
    con.register(f"{table}_arrow", arrow)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM {table}_arrow "
        "WHERE " + " OR ".join(f"{_id(h)} IS NOT NULL" for h in header)
    )
    con.unregister(f"{table}_arrow")
    raw = RawFile(path, table, header, _count(con, table))
    _drop_empty_columns(con, raw)
    if raw.dropped_columns:
        keep = ", ".join(["_row", *(_id(c) for c in raw.columns)])
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {table}_v AS SELECT {keep} FROM {table}"
        )
        raw.table = f"{table}_v"
    return raw


def _cell(value: Any) -> str | None:
    """Text of an Excel cell: ISO for dates, no trailing .0 for whole numbers."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, float):
        return (
            str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
        )
    return str(value).strip() or None


def _unique_headers(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        n = seen.get(name, 0)
        seen[name] = n + 1
        out.append(name if n == 0 else f"{name}_{n}")
    return out


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unknown error"


def release(con: duckdb.DuckDBPyConnection, raw: RawFile) -> None:
    """Drop the temporary tables and views of a read file (frees its memory)."""
    base = raw.table.removesuffix("_v")
    names = (f"{base}_v", base, f"{base}_src")
    for kind, name in con.execute(
        "SELECT 'VIEW', view_name FROM duckdb_views() WHERE temporary AND view_name IN (?, ?, ?) "
        "UNION ALL SELECT 'TABLE', table_name FROM duckdb_tables() "
        "WHERE temporary AND table_name IN (?, ?, ?)",
        [*names, *names],
    ).fetchall():
        con.execute(f"DROP {kind} IF EXISTS {name}")
