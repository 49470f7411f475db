"""Import: files -> presets -> staged batches -> merged into the warehouse, atomically.

One import is one transaction of the storage: every file is read, staged and merged, the
import log, quarantine and warnings are written, and only then is anything published. A file
that cannot be read aborts the whole import and leaves the warehouse as it was.

Modes: ``upsert`` (default; a row whose key exists is updated when its values differ, so a
re-import changes nothing), ``append`` (a row whose key exists is quarantined) and
``replace`` (the table's rows are replaced by the file's).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from crmlens.errors import InputError
from crmlens.ingest.presets import choose
from crmlens.ingest.readers import (
    SUPPORTED,
    RawFile,
    TypePlanner,
    discard,
    read_file,
    release,
    sha256_of,
)
from crmlens.ingest.sql import ident, lit
from crmlens.ingest.stage import (
    Staged,
    arrow_of,
    create_quarantine,
    drop_staged,
    fast_types,
    fetch_on,
    run_on,
    stage,
)
from crmlens.model import DUCKDB_TYPES, TABLE_NAMES, TABLES
from crmlens.warehouse.marts import build_all as build_marts
from crmlens.warehouse.spelling import spelling_warnings

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from crmlens.warehouse.storage import DuckDBStorage, ParquetStorage, Transaction

Mode = Literal["append", "replace", "upsert"]
_HASHER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crmlens-sha256")
Progress = Callable[[str, int, int], None]
# Files of a directory are imported in this order (referenced tables first).
ORDER = (
    "managers",
    "accounts",
    "contacts",
    "products",
    "campaigns",
    "pipelines",
    "leads",
    "deals",
    "deal_stages",
    "activities",
    "orders",
    "targets",
    "call_reviews",
)


@dataclass
class TableCounts:
    """What one file did to one table."""

    file: str
    table: str
    preset: str
    rows_read: int = 0
    loaded: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    quarantined: int = 0
    derived: bool = False


@dataclass
class ImportReport:
    """Everything an import did: counts per file and table, first errors, warnings."""

    import_id: str
    mode: str
    tables: list[TableCounts] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def loaded(self) -> int:
        """Rows inserted or updated, over all tables."""
        return sum(t.loaded + t.updated + t.unchanged for t in self.tables)

    @property
    def usable(self) -> bool:
        """True when at least one row was loaded (or was already there)."""
        return self.loaded > 0

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {
            "import_id": self.import_id,
            "mode": self.mode,
            "files": self.files,
            "tables": [asdict(t) for t in self.tables],
            "errors": self.errors,
            "warnings": self.warnings,
            "skipped": self.skipped,
        }


def expand(paths: list[Path]) -> list[Path]:
    """Files to import: files as given, directories' supported files in table order."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                (
                    p
                    for p in path.iterdir()
                    if p.is_file() and p.suffix.lower() in SUPPORTED
                ),
                key=_order_key,
            )
            if not found:
                raise InputError("has no CSV, XLSX or Parquet files", file=str(path))
            files += found
        elif not path.exists():
            raise InputError("file not found", file=str(path))
        else:
            files.append(path)
    return files


def _order_key(path: Path) -> tuple[int, str]:
    stem = path.stem.lower()
    return (ORDER.index(stem) if stem in ORDER else len(ORDER), path.name)


def import_paths(
    storage: DuckDBStorage | ParquetStorage,
    paths: list[Path],
    *,
    table: str | None = None,
    preset: str = "auto",
    mode: Mode = "upsert",
    progress: Progress | None = None,
    fail_after: str | None = None,
) -> ImportReport:
    """Import `paths` into `storage` in one transaction (see module docstring).

    `fail_after` names a table after whose merge an error is raised on purpose: the
    atomicity tests use it to break an import half-way.
    """
    if table is not None and table not in TABLE_NAMES:
        raise InputError(
            f"unknown table {table!r}", reason=f"tables: {', '.join(TABLE_NAMES)}"
        )
    if mode not in ("append", "replace", "upsert"):
        raise InputError(
            f"unknown mode {mode!r}", reason="use append, replace or upsert"
        )
    files = expand(paths)
    report = ImportReport(_new_id(), mode)
    with storage.transaction() as tx:
        create_quarantine(tx.con, "_q")
        replaced: set[str] = set()
        staged_all: list[Staged] = []
        for i, path in enumerate(files):
            if progress:
                progress(path.name, i, len(files))
            staged_all += _import_file(
                tx,
                path,
                i,
                report,
                table=table,
                preset=preset,
                mode=mode,
                replaced=replaced,
                fail_after=fail_after,
            )
        if progress:
            progress("", len(files), len(files))
        _warn_spelling(tx.con, staged_all, report)
        _write_log(tx, report)
        if storage.keeps_marts:
            if progress:
                progress("marts", len(files), len(files))
            build_marts(tx.con, report.import_id)
    return report


def _new_id() -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    return f"{now}-{uuid.uuid4().hex[:6]}"


def _import_file(
    tx: Transaction,
    path: Path,
    index: int,
    report: ImportReport,
    *,
    table: str | None,
    preset: str,
    mode: Mode,
    replaced: set[str],
    fail_after: str | None,
) -> list[Staged]:
    con = tx.con
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    # The file's digest is computed on a thread of its own meanwhile (hashlib lets
    # go of the interpreter): the database leaves a core free while it appends.
    digest = _HASHER.submit(sha256_of, path)
    try:
        raw = read_file(
            con,
            path,
            f"_raw{index}",
            plan=_planner(con, preset, table),
            defer=True,
            digest=False,
        )
    except BaseException:
        digest.cancel()
        raise
    try:
        chosen = choose(preset, raw)
        outputs = chosen.outputs(raw, table=table)
        if not outputs:
            report.skipped.append(
                {
                    "file": path.name,
                    "reason": f"preset {chosen.name} has no table for it",
                }
            )
            return []
        batches = stage(con, raw, outputs, f"_stg{index}", "_q")
        raw.sha256 = digest.result()
        report.files.append(_file_info(raw, chosen.name, started))
        for rejected in raw.rejected:
            _quarantine_rejected(con, raw, rejected, outputs[0].table)
        for batch in batches:
            counts = _merge(tx, batch, mode, replaced)
            counts.preset = chosen.name
            if batch is batches[0]:
                counts.rows_read = raw.rows + len(raw.rejected)
                counts.quarantined += len(raw.rejected)
            report.tables.append(counts)
            drop_staged(con, batch)
            if fail_after == batch.table:
                raise RuntimeError(f"injected failure after merging {batch.table}")
        release(con, raw)
    finally:
        digest.cancel()
        discard(raw)
    return batches


def _planner(
    con: duckdb.DuckDBPyConnection, preset: str, table: str | None
) -> TypePlanner:
    """Native parse types for a CSV, decided on a sample with the preset's mapping."""

    def plan(sample: RawFile) -> dict[str, str]:
        try:
            outputs = choose(preset, sample).outputs(sample, table=table)
        except InputError:
            return {}  # the full read reports the problem
        return fast_types(con, sample, outputs)

    return plan


def _file_info(raw: RawFile, preset: str, started: dt.datetime) -> dict[str, Any]:
    return {
        "file": raw.name,
        "path": str(raw.path),
        "sha256": raw.sha256,
        "preset": preset,
        "encoding": raw.encoding,
        "delimiter": raw.delimiter,
        "decimal_comma": raw.decimal_comma,
        "rows": raw.rows + len(raw.rejected),
        "dropped_empty_columns": raw.dropped_columns,
        "started_at": started.isoformat(),
    }


def _quarantine_rejected(
    con: duckdb.DuckDBPyConnection, raw: RawFile, rejected: dict[str, Any], table: str
) -> None:
    con.execute(
        "INSERT INTO _q VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
        [
            raw.name,
            rejected["row"],
            table,
            None,
            None,
            rejected["value"],
            f"line cannot be split into the header's columns: {rejected['reason']}",
        ],
    )


def _ensure_columns(tx: Transaction, batch: Staged) -> None:
    """Add the batch's custom columns to the table (and to custom_columns)."""
    con = tx.con
    existing = {r[0]: r[1] for r in con.execute(f'DESCRIBE "{batch.table}"').fetchall()}
    for name, (label, ctype) in batch.custom.items():
        sql_type = DUCKDB_TYPES[ctype]
        if name not in existing:
            con.execute(
                f'ALTER TABLE "{batch.table}" ADD COLUMN {ident(name)} {sql_type}'
            )
            con.execute(
                "INSERT INTO custom_columns VALUES (?, ?, ?, ?)",
                [batch.table, name, label, ctype],
            )
            tx.touch("custom_columns")
        elif existing[name] != sql_type:
            c = ident(name)
            batch.replace(
                con,
                f"SELECT * REPLACE (CAST({c} AS VARCHAR) AS {c}) FROM {batch.name}",
            )
            con.execute(f'ALTER TABLE "{batch.table}" ALTER {c} TYPE VARCHAR')
            con.execute(
                "UPDATE custom_columns SET type = 'string' WHERE table_name = ? AND column_name = ?",
                [batch.table, name],
            )
            tx.touch("custom_columns")


def _merge(
    tx: Transaction, batch: Staged, mode: Mode, replaced: set[str]
) -> TableCounts:
    con = tx.con
    counts = TableCounts(
        batch.file, batch.table, "", batch.rows_read, derived=batch.derived
    )
    counts.duplicates, counts.quarantined = batch.duplicates, batch.quarantined_rows
    _ensure_columns(tx, batch)
    tx.touch(batch.table)
    target, cols = ident(batch.table), ", ".join(ident(c) for c in batch.columns)
    if mode == "replace" and batch.table not in replaced and not batch.derived:
        con.execute(f"DELETE FROM {target}")
        replaced.add(batch.table)
    if _scalar(con, f"SELECT count(*) FROM {target}") == 0:
        with _appending(con):
            batch.run(
                con, f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {batch.good}"
            )
        counts.loaded = batch.rows
        return counts
    on = " AND ".join(
        f"t.{ident(k)} IS NOT DISTINCT FROM s.{ident(k)}" for k in batch.key
    )
    existing_hash = "hash(" + ", ".join(f"t.{ident(c)}" for c in batch.columns) + ")"
    new_hash = "hash(" + ", ".join(f"s.{ident(c)}" for c in batch.columns) + ")"
    # The batch's rows with, for each, whether its key is in the table and whether the
    # row there is equal: one Arrow table that the statements below read as _m.
    merging = arrow_of(
        batch.run(
            con,
            f"SELECT s.*, f._exists, f._same FROM {batch.good} s JOIN ("
            f"SELECT s._row, bool_or(coalesce(t._present, false)) AS _exists, "
            f"bool_or({existing_hash} = {new_hash}) AS _same "
            f"FROM {batch.good} s LEFT JOIN (SELECT *, true AS _present FROM {target}) t "
            f"ON {on} GROUP BY s._row) f USING (_row)",
        )
    )
    drop_staged(con, batch)  # `merging` holds the rows now: one copy, not two
    exists, same = (
        int(str(v))
        for v in fetch_on(
            con,
            merging,
            "_m",
            "SELECT count(*) FILTER (WHERE _exists), "
            "count(*) FILTER (WHERE _exists AND _same) FROM _m",
        )[0]
    )
    counts.unchanged = same if not batch.derived else exists
    if batch.derived:
        counts.loaded = _insert_new(con, merging, target, cols)
        return counts
    if mode == "append" and exists:
        _quarantine_existing(con, batch, merging)
        counts.quarantined += exists
        counts.unchanged = 0
    elif exists - same:
        sets = ", ".join(
            f"{ident(c)} = s.{ident(c)}" for c in batch.columns if c not in batch.key
        )
        if sets:
            run_on(
                con,
                merging,
                "_m",
                f"UPDATE {target} AS t SET {sets} FROM (SELECT * FROM _m WHERE _exists "
                f"AND NOT coalesce(_same, false)) s WHERE {on}",
            )
        counts.updated = exists - same
    counts.loaded = _insert_new(con, merging, target, cols)
    return counts


def _insert_new(
    con: duckdb.DuckDBPyConnection, merging: pa.Table, target: str, cols: str
) -> int:
    new = fetch_on(con, merging, "_m", "SELECT count(*) FROM _m WHERE NOT _exists")
    n = int(str(new[0][0]))
    if n:
        with _appending(con):
            run_on(
                con,
                merging,
                "_m",
                f"INSERT INTO {target} ({cols}) SELECT {cols} FROM _m WHERE NOT _exists",
            )
    return n


@contextmanager
def _appending(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Append rows in their order, on one thread, without DuckDB's ordered insert.

    An ordered insert (``preserve_insertion_order``) of rows held in Arrow leaves row
    groups that the commit's checkpoint rewrites, which costs as much again as the
    insert; one thread keeps the order without it (measured: an insert and its commit
    take about 60 % of the ordered insert's time, and the table keeps the file's order).
    """
    old = con.execute(
        "SELECT current_setting('threads'), current_setting('preserve_insertion_order')"
    ).fetchall()[0]
    con.execute("SET threads = 1")
    con.execute("SET preserve_insertion_order = false")
    try:
        yield
    finally:
        con.execute(f"SET threads = {int(str(old[0]))}")
        con.execute(f"SET preserve_insertion_order = {str(old[1]).lower()}")


def _quarantine_existing(
    con: duckdb.DuckDBPyConnection, batch: Staged, merging: pa.Table
) -> None:
    key = ",".join(batch.key)
    run_on(
        con,
        merging,
        "_m",
        f"INSERT INTO _q SELECT {lit(batch.file)}, s._row, {lit(batch.table)}, {lit(key)}, "
        f"{lit(key)}, NULL, 'key already in the warehouse (import with --mode upsert to "
        f"update it)', NULL FROM _m s WHERE s._exists",
    )


def _warn_spelling(
    con: duckdb.DuckDBPyConnection, staged: list[Staged], report: ImportReport
) -> None:
    for warning in spelling_warnings(con, staged):
        report.warnings.append(warning)


def _write_log(tx: Transaction, report: ImportReport) -> None:
    con = tx.con
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    info = {f["file"]: f for f in report.files}
    for t in report.tables:
        f = info.get(t.file, {})
        con.execute(
            "INSERT INTO imports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                report.import_id,
                t.file,
                f.get("sha256"),
                t.preset,
                t.table,
                report.mode,
                dt.datetime.fromisoformat(f["started_at"]) if f else now,
                now,
                t.rows_read,
                t.loaded,
                t.updated,
                t.unchanged,
                t.duplicates,
                t.quarantined,
                "ok",
            ],
        )
    con.execute(
        f"INSERT INTO quarantine SELECT {lit(report.import_id)}, file, row, table_name, "
        "column_name, source_column, value, reason, record FROM _q"
    )
    for w in report.warnings:
        con.execute(
            "INSERT INTO import_warnings VALUES (?, ?, ?, ?, ?, ?)",
            [
                report.import_id,
                w.get("file"),
                w["table"],
                w["column"],
                w["kind"],
                w["message"],
            ],
        )
    report.errors = [
        dict(zip(("file", "row", "table", "column", "value", "reason"), r, strict=True))
        for r in con.execute(
            "SELECT file, row, table_name, coalesce(source_column, column_name), value, reason "
            "FROM _q ORDER BY file, row LIMIT 20"
        ).fetchall()
    ]
    for name in ("imports", "quarantine", "import_warnings"):
        tx.touch(name)


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row else 0


__all__ = ["ORDER", "TABLES", "ImportReport", "TableCounts", "expand", "import_paths"]
