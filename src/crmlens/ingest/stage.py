"""Staging: raw file + preset outputs -> typed, validated, de-duplicated batches.

For each output the raw text is typed column by column (see :mod:`normalise`); a row with a
value that cannot be read, or without a required value, goes to quarantine with its
spreadsheet row, column, raw value and reason. Exact duplicate rows are counted and kept
once; rows sharing a key with different values are all quarantined, naming each other.

A batch is typed in one pass and held in Arrow, not in a temporary DuckDB table: a
temporary table dropped inside the import's transaction keeps its memory until the
commit, so an import of many large files would hold every one of them at once. The pass
reads a CSV straight from the file when the file feeds one output (:attr:`RawFile.scan`),
so its raw text is never held. Bad rows are rare: the file's raw rows are read only when
there are some (or key conflicts), to quarantine their values and records. Statements
reach the batch through :meth:`Staged.run`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from crmlens.errors import InputError
from crmlens.ingest import normalise
from crmlens.ingest.presets.base import Output, col
from crmlens.ingest.readers import materialise, read_scan
from crmlens.ingest.sql import ident, lit
from crmlens.model import TABLES, Column, ColumnType

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from crmlens.ingest.readers import RawFile


@dataclass
class Staged:
    """A validated batch for one canonical table, held in Arrow (see module docstring).

    `data` has ``_row`` (the spreadsheet row), the typed columns and ``_bad``; SQL run
    with :meth:`run` reads it as `name`, and :attr:`good` selects the rows to load.
    """

    file: str
    table: str
    name: str
    columns: list[str]
    custom: dict[str, tuple[str, ColumnType]]
    derived: bool
    rows_read: int = 0
    rows: int = 0
    duplicates: int = 0
    quarantine_table: str = ""
    quarantined_rows: int = 0
    headers: dict[str, str] | None = None
    data: pa.Table | None = field(default=None, repr=False)

    @property
    def row_hash(self) -> str:
        """SQL of a hash of every column of a row (to tell equal rows from different)."""
        return "hash(" + ", ".join(ident(c) for c in self.columns) + ")"

    @property
    def key(self) -> tuple[str, ...]:
        """Key columns of the target table."""
        return TABLES[self.table].key

    @property
    def good(self) -> str:
        """SQL (after FROM) of the rows to load: ``_row`` and the columns."""
        cols = ", ".join(ident(c) for c in ["_row", *self.columns])
        return f"(SELECT {cols} FROM {self.name} WHERE NOT _bad)"

    def run(
        self, con: duckdb.DuckDBPyConnection, sql: str
    ) -> duckdb.DuckDBPyRelation | None:
        """Run `sql`, in which :attr:`name` is this batch's rows, on `con`.

        A statement that only reads gives a relation to fetch; any other runs now.
        """
        return run_on(con, self.data, self.name, sql)

    def fetch(
        self, con: duckdb.DuckDBPyConnection, sql: str
    ) -> list[tuple[object, ...]]:
        """Rows of a query over this batch (see :meth:`run`)."""
        return fetch_on(con, self.data, self.name, sql)

    def replace(self, con: duckdb.DuckDBPyConnection, sql: str) -> None:
        """Hold the rows of a query over this batch (with the same columns) instead."""
        self.data = arrow_of(self.run(con, sql))


def run_on(
    con: duckdb.DuckDBPyConnection, data: pa.Table | None, name: str, sql: str
) -> duckdb.DuckDBPyRelation | None:
    """Run `sql` on `con`, where `name` reads the Arrow table `data`.

    The name lives for this statement only: a view or a registered object would stay in
    the transaction's catalog, and hold `data`, until the commit.
    """
    assert data is not None, "the batch was released"
    con.complete()
    return con.from_arrow(data).query(name, sql)


def fetch_on(
    con: duckdb.DuckDBPyConnection, data: pa.Table | None, name: str, sql: str
) -> list[tuple[object, ...]]:
    """Rows of a query over `data` (see :func:`run_on`)."""
    rel = run_on(con, data, name, sql)
    return rel.fetchall() if rel is not None else []


def arrow_of(rel: duckdb.DuckDBPyRelation | None) -> pa.Table:
    """The rows of a relation as Arrow, in its order."""
    assert rel is not None
    return rel.to_arrow_table()


def stage(
    con: duckdb.DuckDBPyConnection,
    raw: RawFile,
    outputs: list[Output],
    prefix: str,
    quarantine: str,
) -> list[Staged]:
    """Type, validate and de-duplicate every output of `raw`."""
    for output in outputs:
        _check_required(raw, output)
    mapped = {_raw_name(e) for o in outputs for e in o.columns.values()}
    custom_source = [c for c in raw.columns if c not in mapped]
    if not _fusable(raw, outputs, custom_source):
        materialise(con, raw)
    staged = []
    for i, output in enumerate(outputs):
        custom = _custom_columns(con, raw, custom_source) if output.custom else {}
        batch = _type_output(con, raw, output, custom, f"{prefix}_{i}", quarantine)
        _dedupe(con, batch, raw)
        staged.append(batch)
    return staged


def _fusable(raw: RawFile, outputs: list[Output], custom_source: list[str]) -> bool:
    """True when one pass over the file's scan types it: one plain output of the file,
    whose custom fields have types from the sample (see :func:`_custom_columns`)."""
    if not raw.scan or len(outputs) != 1:
        return False
    output = outputs[0]
    planned = raw.fast_types if raw.typed else {}
    return (
        output.where is None
        and not output.derived
        and not any(raw.table in e for e in output.columns.values())
        and not (
            output.custom
            and any(h not in planned and h not in raw.guesses for h in custom_source)
        )
    )


GUESS_ROWS = 20_000
NATIVE: dict[str, str] = {
    "int": "BIGINT",
    "float": "DOUBLE",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
}


def fast_types(
    con: duckdb.DuckDBPyConnection, sample: RawFile, outputs: list[Output]
) -> dict[str, str]:
    """Raw headers DuckDB can parse natively: on the sample, a plain cast of every value
    equals what the normaliser reads. Headers used in derived expressions stay text."""
    wanted: dict[str, set[ColumnType]] = {}
    text_only: set[str] = set()
    for output in outputs:
        for name, expr in output.columns.items():
            header = _raw_name(expr)
            column = TABLES[output.table].column(name)
            if header is None:
                text_only.update(_headers_in(expr, sample.columns))
            elif column.values or column.type not in NATIVE:
                text_only.add(header)
            else:
                wanted.setdefault(header, set()).add(column.type)
        if output.where:
            text_only.update(_headers_in(output.where, sample.columns))
    mapped = set(wanted) | text_only
    if any(o.custom for o in outputs):
        custom = [c for c in sample.columns if c not in mapped]
        sample.guesses = dict(_infer_types(con, sample, custom))
        for header, ctype in sample.guesses.items():
            if ctype in NATIVE:
                wanted.setdefault(header, set()).add(ctype)
    out = {}
    for header, types in wanted.items():
        if header in text_only or len(types) != 1:
            continue
        ctype = next(iter(types))
        if _plain_cast_agrees(
            con, sample, header, Column(header, ctype), NATIVE[ctype]
        ):
            out[header] = NATIVE[ctype]
    return out


def _headers_in(expr: str, headers: list[str]) -> set[str]:
    return {h for h in headers if ident(h) in expr}


def _plain_cast_agrees(
    con: duckdb.DuckDBPyConnection,
    sample: RawFile,
    header: str,
    column: Column,
    native: str,
) -> bool:
    raw = col(header)
    ours = normalise.typed(
        raw, column, source_type="VARCHAR", decimal_comma=sample.decimal_comma
    )
    row = con.execute(
        f"SELECT count(*) FILTER (WHERE v IS NOT NULL AND (p IS NULL OR p IS DISTINCT FROM o)) "
        f"FROM (SELECT {raw} AS v, try_cast({raw} AS {native}) AS p, {ours.value} AS o "
        f"FROM {sample.table})"
    ).fetchone()
    return row is not None and row[0] == 0


def _raw_name(expr: str) -> str | None:
    match = re.fullmatch(r"NULLIF\(trim\(CAST\(\"(.+)\" AS VARCHAR\)\), ''\)", expr)
    return match.group(1).replace('""', '"') if match else None


def _check_required(raw: RawFile, output: Output) -> None:
    spec = TABLES[output.table]
    needed = spec.key if output.derived else tuple(spec.required)
    missing = [c for c in needed if c not in output.columns]
    if missing:
        raise InputError(
            f"has no column for {', '.join(missing)} of table {output.table}",
            file=raw.name,
            reason=f"found columns: {', '.join(raw.columns) or 'none'}; rename a column "
            "to the canonical name or choose a --preset",
        )


def slug(label: str) -> str:
    """A column name for a custom field: lower-case Latin letters, digits and ``_``."""
    text = label.strip().lower()
    text = "".join(_TRANSLIT.get(ch, ch) for ch in text)
    text = re.sub(r"[^a-z0-9]+", "_", text).strip("_")
    return text if text and not text[0].isdigit() else f"f_{text}"


_TRANSLIT = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        [
            "a",
            "b",
            "v",
            "g",
            "d",
            "e",
            "e",
            "zh",
            "z",
            "i",
            "y",
            "k",
            "l",
            "m",
            "n",
            "o",
            "p",
            "r",
            "s",
            "t",
            "u",
            "f",
            "kh",
            "ts",
            "ch",
            "sh",
            "shch",
            "_",
            "y",
            "_",
            "e",
            "yu",
            "ya",
        ],
        strict=True,
    )
)


def _custom_columns(
    con: duckdb.DuckDBPyConnection, raw: RawFile, source: list[str]
) -> dict[str, tuple[str, ColumnType]]:
    """Custom field name -> (raw header, type).

    A type read natively is certain. Otherwise the type guessed on the sample is
    confirmed by the staging pass, which falls back to text when a value of the whole
    column does not read as that type (see :func:`_confirm_custom`). Without guesses
    (Excel, Parquet), types come from the whole column here.
    """
    out: dict[str, tuple[str, ColumnType]] = {}
    if not source:
        return out
    planned = raw.fast_types if raw.typed else {}
    if all(h in planned or h in raw.guesses for h in source):
        types: dict[str, ColumnType] = {}
        for h in source:
            types[h] = _from_duckdb(planned[h]) if h in planned else raw.guesses[h]
    else:
        types = _infer_types(con, raw, source)
    reserved = {c for t in TABLES.values() for c in t.column_names}
    for header in source:
        name = slug(header)
        while name in out or name in reserved or name.startswith("_"):
            name = f"cf_{name}"
        out[name] = (header, types[header])
    return out


def _infer_types(
    con: duckdb.DuckDBPyConnection, raw: RawFile, source: list[str]
) -> dict[str, ColumnType]:
    types: dict[str, ColumnType] = {}
    if raw.typed:
        described = {
            r[0]: r[1] for r in con.execute(f"DESCRIBE {raw.table}").fetchall()
        }
        types = {
            c: _from_duckdb(described[c]) for c in source if described[c] != "VARCHAR"
        }
        source = [c for c in source if c not in types]
    # One small query per column: a single query with every probe of every column makes
    # DuckDB's optimiser crawl on wide exports (X Education has 35 such columns). Types
    # are guessed on the first rows and then confirmed on the whole column with one probe.
    num = normalise.number("v", decimal_comma=raw.decimal_comma).value
    ts = normalise.timestamp("v").value
    yes = normalise.boolean("v").value
    probe = (
        "SELECT count(v), count(n), count(CASE WHEN n = trunc(n) THEN 1 END), count(t), "
        f"count(b) FROM (SELECT v, {num} AS n, {ts} AS t, {yes} AS b FROM "
        f"(SELECT @COL@ AS v FROM {raw.table} LIMIT {GUESS_ROWS}))"
    )
    confirm = {
        "bool": f"count(CASE WHEN v IS NOT NULL AND {yes} IS NULL THEN 1 END)",
        "int": f"count(CASE WHEN v IS NOT NULL AND ({num} IS NULL OR {num} <> trunc({num})) THEN 1 END)",
        "float": f"count(CASE WHEN v IS NOT NULL AND {num} IS NULL THEN 1 END)",
        "timestamp": f"count(CASE WHEN v IS NOT NULL AND {ts} IS NULL THEN 1 END)",
    }
    for c in source:
        counts = con.execute(probe.replace("@COL@", col(c))).fetchone()
        assert counts is not None
        guess = _guess_type(*counts)
        if guess in confirm and raw.rows > GUESS_ROWS:
            failed = con.execute(
                f"SELECT {confirm[guess]} FROM (SELECT {col(c)} AS v FROM {raw.table})"
            ).fetchone()
            guess = guess if failed and failed[0] == 0 else "string"
        types[c] = guess
    return types


def _guess_type(n: int, numbers: int, whole: int, ts: int, yes: int) -> ColumnType:
    if n == 0:
        return "string"
    if yes == n and numbers < n:
        return "bool"
    if numbers == n:
        return "int" if whole == n else "float"
    if ts == n:
        return "timestamp"
    return "string"


def _from_duckdb(sql_type: str) -> ColumnType:
    if sql_type in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT"):
        return "int"
    if sql_type in ("DOUBLE", "FLOAT") or sql_type.startswith("DECIMAL"):
        return "float"
    if sql_type == "BOOLEAN":
        return "bool"
    if sql_type.startswith("TIMESTAMP"):
        return "timestamp"
    if sql_type == "DATE":
        return "date"
    return "string"


def _source_types(con: duckdb.DuckDBPyConnection, raw: RawFile) -> dict[str, str]:
    """DuckDB type of each raw column (VARCHAR unless read natively)."""
    if raw.scan:
        return {h: raw.fast_types.get(h, "VARCHAR") for h in raw.columns}
    if not raw.typed:
        return {}
    return {r[0]: r[1] for r in con.execute(f"DESCRIBE {raw.table}").fetchall()}


@dataclass
class _Cell:
    """One output column: SQL of its raw value, of its typed value, and its rules."""

    name: str
    raw: str
    typed: str
    reason: str
    required: bool
    #: A value can fail to be read (typed NULL while the raw value is not).
    fallible: bool
    #: Text read as text from one column: it only needs trimming.
    plain: bool = False


def _unsure(raw: RawFile, custom: dict[str, tuple[str, ColumnType]]) -> set[str]:
    """Custom fields whose type the pass confirms: typed, but not read natively."""
    planned = raw.fast_types if raw.typed else {}
    return {n for n, (h, t) in custom.items() if t != "string" and h not in planned}


def _pass_sql(
    con: duckdb.DuckDBPyConnection,
    raw: RawFile,
    output: Output,
    custom: dict[str, tuple[str, ColumnType]],
    untrimmed: set[str],
) -> str:
    """The one query that types an output: typed columns and ``_bad`` (plus
    ``_raw_<name>`` of the custom fields to confirm), over the file's scan or over its
    table (then with ``_row``). Text columns in `untrimmed` are taken as read."""
    cells = _cells(con, raw, output, custom, untrimmed)
    bad = " OR ".join(filter(None, (_bad_condition(c) for c in cells))) or "false"
    unsure = [ident("_raw_" + n) for n in sorted(_unsure(raw, custom))]
    outer = ", ".join([*(ident(c.name) for c in cells), "_bad", *unsure])
    inner = ", ".join(f"{c.raw} AS {ident('_raw_' + c.name)}" for c in cells)
    typed = ", ".join(f"{c.typed} AS {ident(c.name)}" for c in cells)
    row = "" if raw.scan else "_row, "
    where = f" WHERE {output.where}" if output.where else ""
    return (
        f"SELECT {row}{outer} FROM (SELECT *, ({bad}) AS _bad FROM "
        f"(SELECT *, {typed} FROM (SELECT {row}{inner} FROM "
        f"{raw.scan or raw.table}{where})))"
    )


def _type_output(
    con: duckdb.DuckDBPyConnection,
    raw: RawFile,
    output: Output,
    custom: dict[str, tuple[str, ColumnType]],
    temp: str,
    quarantine: str,
) -> Staged:
    headers = {n: h for n, e in output.columns.items() if (h := _raw_name(e))}
    headers.update({n: h for n, (h, _) in custom.items()})
    names = [*output.columns, *custom]
    batch = Staged(raw.name, output.table, temp, names, dict(custom), output.derived)
    batch.quarantine_table = quarantine
    batch.headers = headers
    # Text is trimmed only where it needs it: the pass first takes plain text columns
    # as read, and reads the file again trimming those where a value needs it.
    untrimmed = {c.name for c in _cells(con, raw, output, custom, set()) if c.plain}
    for _ in range(2):
        batch.data = _typed_rows(con, raw, output, custom, untrimmed)
        padded = _padded(con, batch, untrimmed)
        if not padded:
            break
        untrimmed -= padded
    _confirm_custom(con, batch, _unsure(raw, custom))
    counts = batch.fetch(
        con, f"SELECT count(*), count(*) FILTER (WHERE _bad) FROM {temp}"
    )[0]
    n, bad_rows = (int(str(v)) for v in counts)
    batch.rows_read, batch.rows = n, n - bad_rows
    if not output.derived:
        batch.quarantined_rows = bad_rows
        if bad_rows:
            _collect_bad_values(con, raw, batch, output)
    return batch


def _typed_rows(
    con: duckdb.DuckDBPyConnection,
    raw: RawFile,
    output: Output,
    custom: dict[str, tuple[str, ColumnType]],
    untrimmed: set[str],
) -> pa.Table:
    """Run the typing pass (see :func:`_pass_sql`) into Arrow."""
    if raw.scan:
        return read_scan(
            con, raw, lambda now: _pass_sql(con, now, output, custom, untrimmed)
        )
    con.complete()
    return con.sql(_pass_sql(con, raw, output, custom, untrimmed)).to_arrow_table()


def _padded(
    con: duckdb.DuckDBPyConnection, batch: Staged, untrimmed: set[str]
) -> set[str]:
    """Columns taken as read that have a value to trim (or an empty one)."""
    assert batch.data is not None
    return {n for n in untrimmed if any(map(_needs_trim, batch.data.column(n).chunks))}


_EDGES = [ord(ch) for ch in normalise.WHITESPACE if ord(ch) < 128]


def _needs_trim(chunk: pa.Array) -> bool:
    """True when a value of an Arrow text array is empty or starts or ends with
    whitespace: a look at the first and last bytes of each value, which is hundreds of
    times cheaper than asking the database about every value."""
    import numpy as np
    import pyarrow as pa

    if chunk.null_count == len(chunk):
        return False
    if chunk.type not in (pa.string(), pa.large_string()):
        chunk = chunk.cast(pa.large_string())  # e.g. a string view
    width = np.int32 if chunk.type == pa.string() else np.int64
    _, offsets, data = chunk.buffers()
    off = np.frombuffer(offsets, dtype=width)[
        chunk.offset : chunk.offset + len(chunk) + 1
    ]
    starts, ends = off[:-1].astype(np.int64), off[1:].astype(np.int64)
    valid = chunk.is_valid().to_numpy(zero_copy_only=False)
    filled = valid & (ends > starts)
    if (valid & ~filled).any():
        return True  # an empty string
    if data is None:
        return False
    body = np.frombuffer(data, dtype=np.uint8)
    first, last = starts[filled], ends[filled] - 1
    lead, tail = body[first], body[last]
    if np.isin(lead, _EDGES).any() or np.isin(tail, _EDGES).any():
        return True
    # A no-break space is C2 A0 in UTF-8 (A0 alone also ends letters such as "Р").
    if (lead == 0xC2).any() and (body[first[lead == 0xC2] + 1] == 0xA0).any():
        return True
    ends_a0 = last[tail == 0xA0]
    return bool(
        (ends_a0 >= 1).any() and (body[ends_a0[ends_a0 >= 1] - 1] == 0xC2).any()
    )


def _confirm_custom(
    con: duckdb.DuckDBPyConnection, batch: Staged, unsure: set[str]
) -> None:
    """Custom fields typed from a guess: where a value of the column was not read as
    that type, the field is text (its trimmed raw values) instead."""
    if not unsure:
        return
    assert batch.data is not None
    order = sorted(unsure)
    counts = batch.fetch(
        con,
        "SELECT "
        + ", ".join(
            f"count(*) FILTER (WHERE {ident('_raw_' + n)} IS NOT NULL "
            f"AND {ident(n)} IS NULL)"
            for n in order
        )
        + f" FROM {batch.name}",
    )[0]
    data = batch.data
    for name, failed in zip(order, counts, strict=True):
        if failed:
            i = data.schema.get_field_index(name)
            data = data.set_column(i, name, data.column("_raw_" + name))
            header, _ = batch.custom[name]
            batch.custom[name] = (header, "string")
    batch.data = data.drop_columns(["_raw_" + n for n in order])


def _cells(
    con: duckdb.DuckDBPyConnection,
    raw: RawFile,
    output: Output,
    custom: dict[str, tuple[str, ColumnType]],
    untrimmed: set[str],
) -> list[_Cell]:
    """The cells of an output. A plain column's raw value is already trimmed text
    (or the natively read value), and the typed value is derived from it."""
    spec = TABLES[output.table]
    src_types = _source_types(con, raw)
    columns = [
        (name, spec.column(name), expr, False) for name, expr in output.columns.items()
    ]
    columns += [
        (name, Column(name, ctype), col(header), True)
        for name, (header, ctype) in custom.items()
    ]
    cells = []
    for name, column, expr, is_custom in columns:
        header = _raw_name(expr)
        src = src_types.get(header, "VARCHAR") if header is not None else "VARCHAR"
        text = column.type == "string" and not column.values
        plain = text and header is not None and src == "VARCHAR"
        if header is None:
            raw_sql, clean = expr, False
        elif plain and name in untrimmed:
            raw_sql, clean = ident(header), True
        elif src == "VARCHAR":
            raw_sql, clean = normalise.text(ident(header)), True
        else:
            raw_sql, clean = ident(header), False
        t = normalise.typed(
            ident("_raw_" + name),
            column,
            source_type=src,
            decimal_comma=raw.decimal_comma,
            clean=clean,
        )
        required = column.required and (not output.derived or name in spec.key)
        # Text cannot fail: only a required one can be missing.
        fallible = not is_custom and not (text and clean)
        cell = _Cell(name, raw_sql, t.value, t.reason, required, fallible)
        cell.plain = plain
        cells.append(cell)
    return cells


def _bad_condition(cell: _Cell) -> str:
    """SQL of the row being unusable because of this cell ('' when it cannot be)."""
    value, raw = ident(cell.name), ident("_raw_" + cell.name)
    if cell.required:
        return f"({value} IS NULL)"
    return f"({raw} IS NOT NULL AND {value} IS NULL)" if cell.fallible else ""


def _problems(cells: list[_Cell], headers: dict[str, str]) -> str:
    """SQL of the list of a bad row's problems: column, header, raw value, reason."""
    problems = []
    for cell in cells:
        if not (cell.required or cell.fallible):
            continue
        v, r = ident(cell.name), ident("_raw_" + cell.name)
        pack = f"c := {lit(cell.name)}, h := {lit(headers.get(cell.name, cell.name))}"
        branches = ""
        if cell.fallible:
            branches += (
                f"WHEN {r} IS NOT NULL AND {v} IS NULL THEN "
                f"struct_pack({pack}, v := CAST({r} AS VARCHAR), why := {lit(cell.reason)}) "
            )
        if cell.required:
            branches += (
                f"WHEN {v} IS NULL THEN struct_pack({pack}, v := NULL::VARCHAR, "
                "why := 'is empty but required') "
            )
        problems.append(f"CASE {branches}END")
    if not problems:
        return "[]"
    return f"list_filter([{', '.join(problems)}], lambda x: x IS NOT NULL)"


QUARANTINE_COLUMNS = (
    "file VARCHAR, row BIGINT, table_name VARCHAR, column_name VARCHAR, "
    "source_column VARCHAR, value VARCHAR, reason VARCHAR, record VARCHAR"
)


def create_quarantine(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """The temporary table that collects quarantined values of one import."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} ({QUARANTINE_COLUMNS})")


def _collect_bad_values(
    con: duckdb.DuckDBPyConnection, raw: RawFile, batch: Staged, output: Output
) -> None:
    """Quarantine every problem of every bad row, with its raw record.

    Bad rows are rare: their raw values are read again, from the file's rows (which a
    file scanned once is read into now), for those rows only.
    """
    materialise(con, raw)
    cells = _cells(con, raw, output, batch.custom, set())
    inner = ", ".join(f"{c.raw} AS {ident('_raw_' + c.name)}" for c in cells)
    typed = ", ".join(f"{c.typed} AS {ident(c.name)}" for c in cells)
    problems = _problems(cells, batch.headers or {})
    where = f" AND ({output.where})" if output.where else ""
    bad = arrow_of(batch.run(con, f"SELECT _row FROM {batch.name} WHERE _bad"))
    run_on(
        con,
        bad,
        "_bad_rows",
        f"INSERT INTO {batch.quarantine_table} SELECT {lit(raw.name)}, q._row, "
        f"{lit(batch.table)}, q.p.c, q.p.h, q.p.v, q.p.why, CAST(to_json(r) AS VARCHAR) "
        f"FROM (SELECT _row, unnest({problems}) AS p FROM (SELECT *, {typed} FROM "
        f"(SELECT _row, {inner} FROM {raw.table} WHERE _row IN "
        f"(SELECT _row FROM _bad_rows){where}))) q JOIN {raw.table} r ON r._row = q._row",
    )


def _dedupe(con: duckdb.DuckDBPyConnection, batch: Staged, raw: RawFile) -> None:
    keys = ", ".join(ident(k) for k in batch.key)
    if batch.rows == batch.rows_read and _increasing(batch):
        return  # no bad row, and keys rise row after row: no two are equal
    n, distinct = (
        int(str(v))
        for v in batch.fetch(
            con, f"SELECT count(*), count(DISTINCT ({keys})) FROM {batch.good}"
        )[0]
    )
    batch.rows = n
    if n == distinct:
        return
    conflict_rows = 0
    keep = ""
    if not batch.derived:
        conflicting = (
            f"SELECT ({keys}) FROM {batch.good} GROUP BY ALL "
            f"HAVING count(DISTINCT {batch.row_hash}) > 1"
        )
        conflict_rows = int(
            str(
                batch.fetch(
                    con,
                    f"SELECT count(*) FROM {batch.good} WHERE ({keys}) IN ({conflicting})",
                )[0][0]
            )
        )
        if conflict_rows:
            materialise(con, raw)  # the conflicting rows' records
            _quarantine_conflicts(con, batch, raw, keys)
            batch.quarantined_rows += conflict_rows
            keep = f"AND ({keys}) NOT IN ({conflicting})"
    batch.replace(
        con,
        f"SELECT * FROM {batch.name} WHERE NOT _bad {keep} "
        f"QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY _row) = 1",
    )
    batch.rows = int(str(batch.fetch(con, f"SELECT count(*) FROM {batch.name}")[0][0]))
    if not batch.derived:
        batch.duplicates = n - conflict_rows - batch.rows


def _increasing(batch: Staged) -> bool:
    """True when the key rises strictly from each row to the next, in file order.

    Exports are often sorted by their key; then this look at neighbouring rows (a
    fraction of a second for ten million) proves every key distinct, where counting
    distinct keys hashes them all. Other files are counted.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    assert batch.data is not None
    n = batch.data.num_rows
    if n < 2:
        return True
    rising = equal = None
    for key in batch.key:
        column = batch.data.column(key)
        if column.null_count:
            return False
        before, after = column.slice(0, n - 1), column.slice(1)
        try:
            lt, eq = pc.less(before, after), pc.equal(before, after)
        except pa.ArrowNotImplementedError:  # a type Arrow cannot order
            return False
        if rising is None or equal is None:
            rising, equal = lt, eq
        else:
            rising, equal = pc.or_(rising, pc.and_(equal, lt)), pc.and_(equal, eq)
    assert rising is not None
    return bool(pc.all(rising).as_py())


def drop_staged(con: duckdb.DuckDBPyConnection, batch: Staged) -> None:
    """Release a batch's rows (the memory is free at once: they are not in DuckDB)."""
    batch.data = None


def _quarantine_conflicts(
    con: duckdb.DuckDBPyConnection, batch: Staged, raw: RawFile, keys: str
) -> None:
    key_text = " || ', ' || ".join(
        f"{lit(k + '=')} || coalesce(CAST({ident(k)} AS VARCHAR), '')"
        for k in batch.key
    )
    column = ",".join(batch.key)
    header = ",".join((batch.headers or {}).get(k, k) for k in batch.key)
    good = batch.good
    batch.run(
        con,
        f"INSERT INTO {batch.quarantine_table} SELECT {lit(raw.name)}, c._row, "
        f"{lit(batch.table)}, {lit(column)}, {lit(header)}, c.k, "
        f"'same key as row ' || array_to_string(list_filter(c.rows, lambda x: x <> c._row), ', ') "
        f"|| ' but different values', CAST(to_json(r) AS VARCHAR) FROM "
        f"(SELECT _row, {key_text} AS k, list(_row) OVER (PARTITION BY {keys}) AS rows, "
        f"count(DISTINCT {batch.row_hash}) OVER (PARTITION BY {keys}) AS variants "
        f"FROM {good} WHERE ({keys}) IN (SELECT ({keys}) FROM {good} "
        f"GROUP BY ALL HAVING count(DISTINCT {batch.row_hash}) > 1)) c "
        f"JOIN {raw.table} r ON r._row = c._row WHERE c.variants > 1",
    )
