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
    import pyarrow as pa

    from crmlens.model import ColumnType

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
    #: A CSV not read yet: the ``read_csv(…)`` a staging pass scans (natively typed
    #: where planned); empty once the rows are held in `table` (:func:`materialise`).
    scan: str = ""
    #: Types guessed on the sample for the columns no output maps (custom fields).
    guesses: dict[str, ColumnType] = field(default_factory=dict)
    source: CsvSource | None = None

    @property
    def name(self) -> str:
        """File name as the user gave it (for messages)."""
        return self.path.name

    @property
    def rejects(self) -> str:
        """Temporary table where DuckDB lists the lines of this file it cannot parse."""
        return f"{self.table.removesuffix('_v')}_rej"


@dataclass
class CsvSource:
    """How to read a CSV again: the UTF-8 file, its delimiter and its header's columns."""

    path: Path
    delimiter: str
    headers: list[str]
    #: A temporary UTF-8 copy of a file in another encoding, deleted by :func:`release`.
    copy: Path | None = None


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
def _utf8_copy(path: Path, encoding: str, *, keep: bool = False) -> Iterator[Path]:
    """A temporary UTF-8 copy of a file in another encoding (DuckDB reads UTF-8).

    With `keep`, the copy outlives the block unless it fails: a file read later (see
    :attr:`RawFile.scan`) deletes it in :func:`release`.
    """
    fd, tmp = tempfile.mkstemp(suffix=".csv", prefix="crmlens-")
    done = False
    try:
        with (
            path.open("r", encoding=encoding, errors="strict", newline="") as src,
            os.fdopen(fd, "w", encoding="utf-8", newline="") as dst,
        ):
            for chunk in iter(lambda: src.read(1 << 20), ""):
                dst.write(chunk)
        yield Path(tmp)
        done = True
    except UnicodeDecodeError as e:
        raise InputError(
            "cannot be decoded",
            file=path.name,
            reason=f"bytes at position {e.start} are not valid {encoding}; "
            "save the file as UTF-8 or Windows-1251",
        ) from None
    finally:
        if not (keep and done):
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
    defer: bool = False,
    digest: bool = True,
) -> RawFile:
    """Read `path` into the temporary DuckDB table `table` (text columns plus ``_row``).

    With `plan`, a CSV is first sampled; columns the planner names are parsed natively by
    DuckDB. If any value of those columns then fails to parse, the whole file is read again
    as text, so that the normaliser can read or name every value.

    With `defer`, a CSV is only sampled: the result has :attr:`RawFile.scan`, which a
    staging pass reads once with :func:`read_scan` (typing as it reads, no copy of the
    raw text); :func:`materialise` reads it into `table` when a caller needs the rows.
    Without `digest`, :attr:`RawFile.sha256` is left for the caller to fill.
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
        raw = _read_csv(con, path, table, plan, defer)
    if digest:
        raw.sha256 = sha256_of(path)
    return raw


def _read_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    table: str,
    plan: TypePlanner | None,
    defer: bool,
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
        raw = _csv_planned(
            con, path, path, table, delimiter, decimal_comma, plan, defer=defer
        )
    else:
        with _utf8_copy(path, encoding, keep=defer) as copy:
            raw = _csv_planned(
                con, path, copy, table, delimiter, decimal_comma, plan, defer=defer
            )
            if raw.source is not None and raw.scan:
                raw.source.copy = copy
            elif defer:
                copy.unlink(missing_ok=True)
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
    *,
    defer: bool = False,
) -> RawFile:
    """Sample, plan native types, read; fall back to text when a planned value fails."""
    sample = _csv_into(
        con, shown, path, f"{table}_sample", delimiter, limit=SAMPLE_ROWS
    )
    sample.decimal_comma = decimal_comma
    assert sample.source is not None
    source = sample.source
    headers = source.headers
    types = plan(sample) if plan is not None and sample.rows else {}
    release(con, sample)
    if defer and not any(_unnamed(h) for h in headers):
        raw = RawFile(shown, table, list(headers), 0, source=source)
        raw.typed, raw.fast_types = bool(types), types
        raw.guesses = dict(sample.guesses)
        raw.scan = _scan_sql(raw)
        return raw
    if types:
        columns = {h: types.get(h, "VARCHAR") for h in headers}
        typed = _csv_into(con, shown, path, table, delimiter, columns=columns)
        if typed is not None:
            typed.typed, typed.fast_types = True, types
            return typed
    text = _csv_into(
        con, shown, path, table, delimiter, columns=dict.fromkeys(headers, "VARCHAR")
    )
    assert text is not None
    return text


def _unnamed(header: str) -> bool:
    """A header DuckDB made up for a column without a name."""
    return (header.startswith("column") and header[6:].isdigit()) or not header.strip()


def _read_options(delimiter: str, rejects: str, columns: dict[str, str] | None) -> str:
    """Options of ``read_csv``: strict, rejected lines listed, every value as given.

    With `columns` (every header and its type), nothing is detected: the file is cut
    at `delimiter` and each value cast as a plain ``CAST`` would, which is what the type
    planner checked on the sample (a sniffed date format would not be).
    """
    if columns:
        spec = ", ".join(f"{_lit(h)}: {_lit(t)}" for h, t in columns.items())
        typing = f"columns={{{spec}}}, auto_detect=false"
    else:
        typing = "all_varchar=true"
    return (
        f"delim={_lit(delimiter)}, header=true, {typing}, quote='\"', "
        "escape='\"', strict_mode=true, null_padding=false, store_rejects=true, "
        f"rejects_table={_lit(rejects)}, rejects_scan={_lit(rejects + 'scan')}, "
        "max_line_size=10000000, encoding='utf-8'"
    )


def _scan_sql(raw: RawFile) -> str:
    """``read_csv(…)`` of a deferred file with its planned types (text elsewhere)."""
    assert raw.source is not None
    columns = {h: raw.fast_types.get(h, "VARCHAR") for h in raw.source.headers}
    options = _read_options(raw.source.delimiter, raw.rejects, columns)
    return f"read_csv({_lit(str(raw.source.path))}, {options})"


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

    rejects = f"{table}_rej"
    options = _read_options(delimiter, rejects, columns)
    typed = columns is not None and any(t != "VARCHAR" for t in columns.values())
    try:
        con.execute(f"DROP TABLE IF EXISTS {rejects}")
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table}_src AS "
            f"SELECT * FROM read_csv({_lit(str(path))}, {options})"
            + (f" LIMIT {limit}" if limit else "")
        )
        if typed and _has_cast_errors(con, rejects):
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
    raw.source = CsvSource(path, delimiter, list(names))
    _drop_empty_columns(con, raw)
    if raw.dropped_columns:
        keep = ", ".join(["_row", *(_id(c) for c in raw.columns)])
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {table}_v AS SELECT {keep} FROM {table}"
        )
        raw.table = f"{table}_v"
    return raw


def read_scan(
    con: duckdb.DuckDBPyConnection, raw: RawFile, query: Callable[[RawFile], str]
) -> pa.Table:
    """Run ``query(raw)``, a SELECT over :attr:`RawFile.scan`, into Arrow with ``_row``.

    The rows come in file order; ``_row`` is the spreadsheet row of each, counting the
    lines DuckDB rejected (they fill :attr:`RawFile.rejected`). When a value of a natively
    typed column fails to parse, the file is scanned again as text (``query`` is asked
    again, for the text columns). Held in Arrow, not in a temporary table: a table
    dropped inside the import's transaction keeps its memory until the commit.
    """
    import duckdb

    for _ in range(2):
        try:
            con.execute(f"DROP TABLE IF EXISTS {raw.rejects}")
            con.complete()
            rows = con.sql(query(raw)).to_arrow_table()
            if raw.typed and _has_cast_errors(con, raw.rejects):
                con.execute(f"DROP TABLE IF EXISTS {raw.rejects}")
                _as_text(raw)
                continue
            raw.rejected = _rejected_lines(con, raw.rejects)
        except duckdb.Error as e:
            raise InputError(
                "cannot be read as CSV", file=raw.name, reason=_first_line(str(e))
            ) from None
        raw.rows = rows.num_rows
        return rows.add_column(0, "_row", row_numbers(rows.num_rows, raw.rejected))
    raise AssertionError("a text scan has no cast errors")


def _as_text(raw: RawFile) -> None:
    """Read a deferred file as text from now on (a planned type failed somewhere)."""
    raw.typed, raw.fast_types = False, {}
    raw.scan = _scan_sql(raw)


def row_numbers(n: int, rejected: list[dict[str, Any]]) -> pa.Array:
    """Spreadsheet rows of `n` parsed records (header = 1), skipping rejected lines."""
    import numpy as np
    import pyarrow as pa

    rows = np.arange(2, n + 2, dtype=np.int64)
    if rejected:
        # Record k moves down one row for each rejected line r_i (i-th, 0-based) with
        # r_i - 2 - i <= k; see _number_rows.
        shifts = np.array([r["row"] - 2 - i for i, r in enumerate(rejected)], np.int64)
        rows += np.searchsorted(shifts, rows - 2, side="right")
    return pa.array(rows)


def materialise(con: duckdb.DuckDBPyConnection, raw: RawFile) -> None:
    """Read a deferred CSV into its temporary table (rows with ``_row``), if not yet."""
    if not raw.scan:
        return
    assert raw.source is not None
    source = raw.source
    columns = {h: raw.fast_types.get(h, "VARCHAR") for h in source.headers}
    held = _csv_into(
        con, raw.path, source.path, raw.table, source.delimiter, columns=columns
    )
    if held is None:
        _as_text(raw)
        held = _csv_into(
            con,
            raw.path,
            source.path,
            raw.table,
            source.delimiter,
            columns=dict.fromkeys(source.headers, "VARCHAR"),
        )
    raw.rows, raw.rejected, raw.scan = held.rows, held.rejected, ""


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
    discard(raw)
    base = raw.table.removesuffix("_v")
    names = (f"{base}_v", base, f"{base}_src")
    for kind, name in con.execute(
        "SELECT 'VIEW', view_name FROM duckdb_views() WHERE temporary AND view_name IN (?, ?, ?) "
        "UNION ALL SELECT 'TABLE', table_name FROM duckdb_tables() "
        "WHERE temporary AND table_name IN (?, ?, ?)",
        [*names, *names],
    ).fetchall():
        con.execute(f"DROP {kind} IF EXISTS {name}")


def discard(raw: RawFile) -> None:
    """Delete the temporary UTF-8 copy of a file, if it has one."""
    if raw.source is not None and raw.source.copy is not None:
        raw.source.copy.unlink(missing_ok=True)
        raw.source.copy = None
