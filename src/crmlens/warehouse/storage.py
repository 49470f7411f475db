"""Where the tables live, and the transaction an import runs in.

Both storages hand an import a DuckDB connection in which every table of the warehouse is a
real table, and make the import all-or-nothing:

- :class:`DuckDBStorage` is the warehouse file itself, in one DuckDB transaction (an error,
  Ctrl-C or a killed process leaves the file as it was: DuckDB commits through its WAL).
- :class:`ParquetStorage` (the Spark warehouse) keeps one Parquet file per table in a
  version directory; an import works on an in-memory copy and publishes a new version by
  renaming one pointer file, so readers never see half an import. A table the
  transaction creates (a dedup merge map) is published with it; one it drops is left out.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from crmlens.errors import WarehouseError
from crmlens.ingest.sql import lit
from crmlens.warehouse.system import all_ddl

if TYPE_CHECKING:
    import duckdb


class Transaction:
    """An open import: a DuckDB connection and the tables it changed."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.changed: set[str] = set()

    def touch(self, table: str) -> None:
        """Mark `table` as written by this import."""
        self.changed.add(table)


class DuckDBStorage:
    """The warehouse is one DuckDB file."""

    #: An import rebuilds the marts in its transaction (see :mod:`crmlens.warehouse.marts`).
    keeps_marts = True

    def __init__(self, path: Path) -> None:
        import duckdb

        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(path))
        except duckdb.Error as e:
            raise WarehouseError(f"cannot open the warehouse {path}: {e}") from e
        self.path = path
        # One catalog read, then only the missing tables: a statement per table costs
        # about 60 ms on every open of an existing warehouse.
        present = {
            row[0]
            for row in self.con.execute(
                "SELECT table_name FROM duckdb_tables() "
                "WHERE database_name = current_database() AND schema_name = 'main'"
            ).fetchall()
        }
        for name, ddl in all_ddl().items():
            if name not in present:
                self.con.execute(f'CREATE TABLE IF NOT EXISTS "{name}" ({ddl})')

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One DuckDB transaction; rolled back on any exception or interrupt."""
        self.con.execute("BEGIN TRANSACTION")
        tx = Transaction(self.con)
        try:
            yield tx
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def close(self) -> None:
        """Close the file."""
        self.con.close()


class ParquetStorage:
    """The warehouse is a directory of Parquet files, one version directory per import."""

    #: Spark computes from the base tables; its versions hold only what was imported.
    keeps_marts = False

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        if not (root / "CURRENT").exists():
            self._publish(self._write_all(_empty_tables(), "v000000"))

    @property
    def current(self) -> Path:
        """The directory of the published version."""
        return self.root / (self.root / "CURRENT").read_text().strip()

    def table_path(self, table: str) -> Path:
        """The Parquet file of `table` in the published version."""
        return self.current / f"{table}.parquet"

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Work on an in-memory copy; publish a new version only when all went well."""
        import duckdb

        con = duckdb.connect()
        tables = all_ddl()
        for extra in sorted(self.current.glob("*.parquet")):
            tables.setdefault(
                extra.stem, ""
            )  # a table of its own, e.g. a dedup merge map
        for name, ddl in tables.items():
            path = self.table_path(name)
            if not path.exists():  # a system table added after this warehouse was made
                con.execute(f'CREATE TABLE "{name}" ({ddl})')
                continue
            con.execute(
                f'CREATE TABLE "{name}" AS SELECT * FROM read_parquet({lit(str(path))})'
            )
        tx = Transaction(con)
        try:
            yield tx
            version = self._next_version()
            self._publish(self._write_changed(con, tx.changed, version))
        finally:
            con.close()

    def _next_version(self) -> str:
        number = int(self.current.name[1:]) + 1
        return f"v{number:06d}"

    def _write_changed(
        self, con: duckdb.DuckDBPyConnection, changed: set[str], version: str
    ) -> Path:
        target = self.root / f".{version}.tmp"
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir()
        try:
            for name in _tables_of(con):
                out = target / f"{name}.parquet"
                if name in changed or not self.table_path(name).exists():
                    con.execute(
                        f'COPY "{name}" TO {lit(str(out))} (FORMAT parquet, COMPRESSION zstd)'
                    )
                else:
                    os.link(self.table_path(name), out)
            final = self.root / version
            target.rename(final)
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            raise
        return final

    def _write_all(self, con: duckdb.DuckDBPyConnection, version: str) -> Path:
        final = self.root / version
        final.mkdir(exist_ok=True)
        for name in all_ddl():
            con.execute(
                f'COPY "{name}" TO {lit(str(final / (name + ".parquet")))} (FORMAT parquet)'
            )
        return final

    def _publish(self, version_dir: Path) -> None:
        pointer = self.root / "CURRENT.tmp"
        pointer.write_text(version_dir.name)
        os.replace(pointer, self.root / "CURRENT")
        self._prune(keep=version_dir.name)

    def _prune(self, keep: str) -> None:
        for old in self.root.glob("v*"):
            if old.is_dir() and old.name < keep and old.name != keep:
                older = sorted(p.name for p in self.root.glob("v*") if p.is_dir())
                if older.index(old.name) < len(older) - 2:
                    shutil.rmtree(old, ignore_errors=True)

    def close(self) -> None:
        """Nothing stays open between imports."""


def _tables_of(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The tables a transaction leaves: a table it created (a dedup merge map) is
    published with the rest, a table it dropped is left out of the new version."""
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY table_name"
    ).fetchall()
    return [str(r[0]) for r in rows]


def _empty_tables() -> duckdb.DuckDBPyConnection:
    import duckdb

    con = duckdb.connect()
    for name, ddl in all_ddl().items():
        con.execute(f'CREATE TABLE "{name}" ({ddl})')
    return con
