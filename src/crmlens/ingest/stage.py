"""Staging: raw file + preset outputs -> typed, validated, de-duplicated DuckDB tables.

For each output the raw text is typed column by column (see :mod:`normalise`); a row with a
value that cannot be read, or without a required value, goes to quarantine with its
spreadsheet row, column, raw value and reason. Exact duplicate rows are counted and kept
once; rows sharing a key with different values are all quarantined, naming each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from crmlens.errors import InputError
from crmlens.ingest import normalise
from crmlens.ingest.presets.base import Output, col
from crmlens.ingest.sql import ident, lit
from crmlens.model import TABLES, Column, ColumnType

if TYPE_CHECKING:
    import duckdb

    from crmlens.ingest.readers import RawFile


@dataclass
class Staged:
    """A validated batch for one canonical table, held in a temporary DuckDB table."""

    file: str
    table: str
    temp: str
    columns: list[str]
    custom: dict[str, tuple[str, ColumnType]]
    derived: bool
    rows_read: int = 0
    rows: int = 0
    duplicates: int = 0
    quarantine_table: str = ""
    quarantined_rows: int = 0
    headers: dict[str, str] | None = None
    base: str = ""

    @property
    def row_hash(self) -> str:
        """SQL of a hash of every column of a row (to tell equal rows from different)."""
        return "hash(" + ", ".join(ident(c) for c in self.columns) + ")"

    @property
    def key(self) -> tuple[str, ...]:
        """Key columns of the target table."""
        return TABLES[self.table].key


def stage(
    con: duckdb.DuckDBPyConnection,
    raw: RawFile,
    outputs: list[Output],
    prefix: str,
    quarantine: str,
) -> list[Staged]:
    """Type, validate and de-duplicate every output of `raw`."""
    mapped = {_raw_name(e) for o in outputs for e in o.columns.values()}
    custom_source = [c for c in raw.columns if c not in mapped]
    staged = []
    for i, output in enumerate(outputs):
        _check_required(raw, output)
        custom = _custom_columns(con, raw, custom_source) if output.custom else {}
        batch = _type_output(con, raw, output, custom, f"{prefix}_{i}", quarantine)
        _dedupe(con, batch, raw)
        staged.append(batch)
    return staged


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
        for header, ctype in _infer_types(con, sample, custom).items():
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
    """Custom field name -> (raw header, inferred type); types from the whole column."""
    out: dict[str, tuple[str, ColumnType]] = {}
    if not source:
        return out
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
    return {r[0]: r[1] for r in con.execute(f"DESCRIBE {raw.table}").fetchall()}


def _type_output(
    con: duckdb.DuckDBPyConnection,
    raw: RawFile,
    output: Output,
    custom: dict[str, tuple[str, ColumnType]],
    temp: str,
    quarantine: str,
) -> Staged:
    spec = TABLES[output.table]
    src_types = _source_types(con, raw) if raw.typed else {}
    cells: list[
        tuple[str, str, str, str, bool]
    ] = []  # name, raw sql, typed sql, reason, req
    for name, expr in output.columns.items():
        column = spec.column(name)
        src = _expr_type(expr, src_types)
        raw_sql = expr if src == "VARCHAR" else _raw_typed(expr)
        t = normalise.typed(
            raw_sql, column, source_type=src, decimal_comma=raw.decimal_comma
        )
        required = column.required and (not output.derived or name in spec.key)
        cells.append((name, raw_sql, t.value, t.reason, required))
    for name, (header, ctype) in custom.items():
        column = Column(name, ctype)
        src = src_types.get(header, "VARCHAR")
        raw_sql = col(header) if src == "VARCHAR" else ident(header)
        t = normalise.typed(
            raw_sql, column, source_type=src, decimal_comma=raw.decimal_comma
        )
        cells.append((name, raw_sql, t.value, t.reason, False))
    inner = ", ".join(
        [f"{raw_sql} AS {ident('_raw_' + n)}" for n, raw_sql, *_ in cells]
        + [f"{typed} AS {ident(n)}" for n, _, typed, *_ in cells]
    )
    where = f"WHERE {output.where}" if output.where else ""
    bad = " OR ".join(_bad_condition(n, req) for n, _, _, _, req in cells) or "false"
    names = [n for n, *_ in cells]
    # Typed once into a table (a view would type every row again at each of the
    # counting, de-duplicating and merging passes); good rows are a view over it.
    every = f"{temp}_all"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {every} AS SELECT _row, "
        f"{', '.join(ident(n) for n in names)}, ({bad}) AS _bad "
        f"FROM (SELECT _row, {inner} FROM {raw.table} {where})"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {temp} AS "
        f"SELECT * EXCLUDE (_bad) FROM {every} WHERE NOT _bad"
    )
    batch = Staged(raw.name, output.table, temp, names, custom, output.derived)
    batch.base = temp
    batch.quarantine_table = quarantine
    batch.rows_read = _scalar(con, f"SELECT count(*) FROM {every}")
    headers = {n: h for n, e in output.columns.items() if (h := _raw_name(e))}
    headers.update({n: h for n, (h, _) in custom.items()})
    batch.headers = headers
    if not output.derived:
        _collect_bad_values(con, raw, batch, cells, inner, where, headers)
    return batch


def _expr_type(expr: str, src_types: dict[str, str]) -> str:
    name = _raw_name(expr)
    if name is None or name not in src_types:
        return "VARCHAR"
    return src_types[name]


def _raw_typed(expr: str) -> str:
    name = _raw_name(expr)
    return ident(name) if name else expr


def _bad_condition(name: str, required: bool) -> str:
    value, raw = ident(name), ident("_raw_" + name)
    cond = f"({raw} IS NOT NULL AND {value} IS NULL)"
    return f"({value} IS NULL)" if required else cond


QUARANTINE_COLUMNS = (
    "file VARCHAR, row BIGINT, table_name VARCHAR, column_name VARCHAR, "
    "source_column VARCHAR, value VARCHAR, reason VARCHAR, record VARCHAR"
)


def create_quarantine(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """The temporary table that collects quarantined values of one import."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} ({QUARANTINE_COLUMNS})")


def _collect_bad_values(
    con: duckdb.DuckDBPyConnection,
    raw: RawFile,
    batch: Staged,
    cells: list[tuple[str, str, str, str, bool]],
    inner: str,
    where: str,
    headers: dict[str, str],
) -> None:
    problems = []
    for name, _, _, reason, required in cells:
        v, r = ident(name), ident("_raw_" + name)
        pack = f"c := {lit(name)}, h := {lit(headers.get(name, name))}"
        problems.append(
            f"CASE WHEN {r} IS NOT NULL AND {v} IS NULL THEN "
            f"struct_pack({pack}, v := CAST({r} AS VARCHAR), why := {lit(reason)}) "
            + (
                f"WHEN {v} IS NULL THEN struct_pack({pack}, v := NULL::VARCHAR, "
                "why := 'is empty but required') "
                if required
                else ""
            )
            + "END"
        )
    bad_rows = f"SELECT _row FROM {batch.base}_all WHERE _bad"
    batch.quarantined_rows = _scalar(con, f"SELECT count(*) FROM ({bad_rows})")
    if not batch.quarantined_rows:
        return
    con.execute(
        f"INSERT INTO {batch.quarantine_table} SELECT {lit(raw.name)}, r._row, "
        f"{lit(batch.table)}, p.c, p.h, p.v, p.why, CAST(to_json(r) AS VARCHAR) "
        f"FROM (SELECT _row, unnest(list_filter([{', '.join(problems)}], "
        f"lambda x: x IS NOT NULL)) AS p FROM (SELECT _row, {inner} FROM {raw.table} {where}) "
        f"WHERE _row IN ({bad_rows})) q JOIN {raw.table} r ON r._row = q._row"
    )


def _dedupe(con: duckdb.DuckDBPyConnection, batch: Staged, raw: RawFile) -> None:
    keys = ", ".join(ident(k) for k in batch.key)
    n, distinct = con.execute(
        f"SELECT count(*), count(DISTINCT ({keys})) FROM {batch.temp}"
    ).fetchone() or (0, 0)
    batch.rows = n
    if n == distinct:
        return
    conflict_rows = 0
    keep = ""
    if not batch.derived:
        conflicting = (
            f"SELECT ({keys}) FROM {batch.temp} GROUP BY ALL "
            f"HAVING count(DISTINCT {batch.row_hash}) > 1"
        )
        conflict_rows = _scalar(
            con, f"SELECT count(*) FROM {batch.temp} WHERE ({keys}) IN ({conflicting})"
        )
        if conflict_rows:
            _quarantine_conflicts(con, batch, raw, keys)
            batch.quarantined_rows += conflict_rows
            keep = f"WHERE ({keys}) NOT IN ({conflicting})"
    unique = f"{batch.base}_d"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {unique} AS SELECT * FROM {batch.temp} {keep} "
        f"QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY _row) = 1"
    )
    batch.temp = unique
    batch.rows = _scalar(con, f"SELECT count(*) FROM {batch.temp}")
    if not batch.derived:
        batch.duplicates = n - conflict_rows - batch.rows


def drop_staged(con: duckdb.DuckDBPyConnection, batch: Staged) -> None:
    """Drop the temporary tables and views of a batch."""
    names = [f"{batch.base}_c", f"{batch.base}_d", batch.base, f"{batch.base}_all"]
    found = con.execute(
        "SELECT 'VIEW', view_name FROM duckdb_views() WHERE temporary "
        "AND list_contains(?, view_name) UNION ALL SELECT 'TABLE', table_name "
        "FROM duckdb_tables() WHERE temporary AND list_contains(?, table_name)",
        [names, names],
    ).fetchall()
    order = {name: i for i, name in enumerate(names)}
    for kind, name in sorted(found, key=lambda f: order[f[1]]):
        con.execute(f"DROP {kind} IF EXISTS {name}")


def _quarantine_conflicts(
    con: duckdb.DuckDBPyConnection, batch: Staged, raw: RawFile, keys: str
) -> None:
    key_text = " || ', ' || ".join(
        f"{lit(k + '=')} || coalesce(CAST({ident(k)} AS VARCHAR), '')"
        for k in batch.key
    )
    column = ",".join(batch.key)
    header = ",".join((batch.headers or {}).get(k, k) for k in batch.key)
    con.execute(
        f"INSERT INTO {batch.quarantine_table} SELECT {lit(raw.name)}, c._row, "
        f"{lit(batch.table)}, {lit(column)}, {lit(header)}, c.k, "
        f"'same key as row ' || array_to_string(list_filter(c.rows, lambda x: x <> c._row), ', ') "
        f"|| ' but different values', CAST(to_json(r) AS VARCHAR) FROM "
        f"(SELECT _row, {key_text} AS k, list(_row) OVER (PARTITION BY {keys}) AS rows, "
        f"count(DISTINCT {batch.row_hash}) OVER (PARTITION BY {keys}) AS variants "
        f"FROM {batch.temp} WHERE ({keys}) IN (SELECT ({keys}) FROM {batch.temp} "
        f"GROUP BY ALL HAVING count(DISTINCT {batch.row_hash}) > 1)) c "
        f"JOIN {raw.table} r ON r._row = c._row WHERE c.variants > 1"
    )


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row else 0
