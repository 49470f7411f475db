"""Open a warehouse by URL: a DuckDB file (default), local Spark over Parquet, or Postgres.

``crmlens.open(url)`` returns a :class:`Warehouse` whose tables are Ibis tables, so every
analysis is one Ibis expression whatever the engine:

- ``./crmlens.duckdb``, ``duckdb:///path/file.duckdb`` — the embedded default;
- ``spark://local?path=DIR`` — a local PySpark session over Parquet files in ``DIR``;
- ``postgres://user:pass@host:5432/db?schema=crm`` — read a CRM's own database (read-only).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qs, unquote, urlparse

from crmlens.errors import WarehouseError
from crmlens.model import TABLE_NAMES
from crmlens.warehouse.system import SYSTEM_TABLES

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

    from crmlens.warehouse.load import ImportReport
    from crmlens.warehouse.storage import DuckDBStorage, ParquetStorage

DEFAULT_URL = "./crmlens.duckdb"
Backend = Literal["duckdb", "spark", "postgres"]


@dataclass(frozen=True)
class WarehouseURL:
    """A parsed warehouse URL."""

    backend: Backend
    path: Path | None = None
    options: dict[str, str] | None = None
    raw: str = ""


def parse_url(url: str | os.PathLike[str] | None) -> WarehouseURL:
    """Parse a warehouse URL; None means ``$CRMLENS_WAREHOUSE`` or ``./crmlens.duckdb``."""
    text = (
        str(url)
        if url is not None
        else os.environ.get("CRMLENS_WAREHOUSE", DEFAULT_URL)
    )
    if text.startswith("duckdb://"):
        return WarehouseURL("duckdb", Path(text.removeprefix("duckdb://")), raw=text)
    if text.startswith("spark://"):
        parsed = urlparse(text)
        query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        if parsed.netloc not in ("local", ""):
            raise WarehouseError(
                f"unsupported Spark master {parsed.netloc!r} in {text}: use spark://local?path=DIR"
            )
        if "path" not in query:
            raise WarehouseError(
                f"{text}: give the Parquet directory, e.g. spark://local?path=./wh"
            )
        return WarehouseURL("spark", Path(query["path"]), query, raw=text)
    if text.startswith(("postgres://", "postgresql://")):
        parsed = urlparse(text)
        query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        options = {
            "user": unquote(parsed.username or ""),
            "password": unquote(parsed.password or ""),
            "host": parsed.hostname or "localhost",
            "port": str(parsed.port or 5432),
            "database": parsed.path.lstrip("/"),
            "schema": query.get("schema", "public"),
        }
        return WarehouseURL("postgres", None, options, raw=_hide_password(text))
    if "://" in text:
        raise WarehouseError(
            f"unknown warehouse URL {text!r}: use a file path, duckdb:///file.duckdb, "
            "spark://local?path=DIR or postgres://user:pass@host/db?schema=S"
        )
    return WarehouseURL("duckdb", Path(text), raw=text)


def _hide_password(text: str) -> str:
    parsed = urlparse(text)
    if parsed.password:
        return text.replace(f":{parsed.password}@", ":***@")
    return text


class Warehouse:
    """The canonical CRM model in one backend; tables are Ibis tables.

    Examples
    --------
    >>> import crmlens
    >>> wh = crmlens.open(":memory:")
    >>> wh.deals.count().execute()
    0
    """

    def __init__(
        self,
        url: WarehouseURL,
        ibis_con: BaseBackend,
        storage: DuckDBStorage | ParquetStorage | None = None,
    ) -> None:
        self.url = url
        self.backend: Backend = url.backend
        self.con = ibis_con
        self.storage = storage
        self._tables: dict[str, ir.Table] = {}

    def __repr__(self) -> str:
        return f"Warehouse({self.url.raw!r}, backend={self.backend!r})"

    def __getattr__(self, name: str) -> ir.Table:
        if name in TABLE_NAMES or name in SYSTEM_TABLES:
            return self.table(name)
        raise AttributeError(name)

    def table(self, name: str) -> ir.Table:
        """The Ibis table `name` (a canonical or system table)."""
        if name not in self._tables:
            self._tables[name] = self._load_table(name)
        return self._tables[name]

    def _load_table(self, name: str) -> ir.Table:
        if self.backend == "spark":
            from crmlens.warehouse.storage import ParquetStorage

            assert isinstance(self.storage, ParquetStorage)
            path = self.storage.table_path(name)
            # One Spark session serves every Spark warehouse of the process: the view name
            # carries the warehouse directory and version so warehouses never shadow each other.
            tag = hashlib.sha1(str(path.parent.resolve()).encode()).hexdigest()[:10]
            view = f"crmlens_{tag}_{name}"
            return self.con.read_parquet(str(path), table_name=view)  # type: ignore[attr-defined]
        if self.backend == "postgres":
            schema = (self.url.options or {}).get("schema", "public")
            try:
                return self.con.table(name, database=schema)
            except Exception as e:
                raise WarehouseError(
                    f"table {name} is missing in schema {schema} of {self.url.raw}"
                ) from e
        return self.con.table(name)

    def has(self, name: str) -> bool:
        """True when table `name` exists and has at least one row."""
        try:
            return bool(self.table(name).count().execute() > 0)
        except WarehouseError:
            return False

    def columns(self, name: str) -> list[str]:
        """Column names of table `name`, custom fields included."""
        return list(self.table(name).columns)

    def mart(self, name: str, as_of: dt.date) -> ir.Table | None:
        """Mart `name` when this warehouse keeps it and it covers `as_of`, else None.

        A mart covers `as_of` when the data it was derived from ends by that day (see
        :mod:`crmlens.warehouse.marts`).
        """
        from crmlens.warehouse.marts import META, PREFIX

        con = getattr(self.storage, "con", None)
        if con is None or not getattr(self.storage, "keeps_marts", False):
            return None
        try:
            row = con.execute(
                f'SELECT data_until FROM "{META}" WHERE name = ?', [name]
            ).fetchall()
        except Exception:  # a warehouse made before marts existed
            return None
        if not row:
            return None
        until = row[0][0]
        if until is not None and until.date() > as_of:
            return None
        return self.table(PREFIX + name)

    def refresh(self) -> None:
        """Forget cached table handles (after an import)."""
        self._tables.clear()

    @property
    def version(self) -> str:
        """An id that changes with every import (for caches)."""
        imports = self.table("imports")
        last = imports.aggregate(last=imports.import_id.max()).to_pyarrow()["last"][0]
        return str(last.as_py() or "empty")

    def import_files(self, paths: list[Path], **options: Any) -> ImportReport:
        """Import CSV/XLSX/Parquet files or directories; see :func:`load.import_paths`."""
        from crmlens.warehouse.load import import_paths

        if self.storage is None:
            raise WarehouseError(
                f"{self.url.raw} is read-only: crmlens reads a CRM's database but never "
                "writes to it; import into a DuckDB file or a Spark warehouse instead"
            )
        report = import_paths(self.storage, paths, **options)
        self.refresh()
        return report

    def close(self) -> None:
        """Release the backend."""
        if self.storage is not None:
            self.storage.close()


def open_warehouse(
    url: str | os.PathLike[str] | None = None, *, create: bool = True
) -> Warehouse:
    """Open the warehouse at `url` (see module docstring).

    With ``create=False`` a DuckDB file or Spark directory that does not exist yet is an
    error (a report on a mistyped path would otherwise read a new, empty warehouse).
    """
    parsed = parse_url(url)
    path = parsed.path
    if (
        not create
        and path is not None
        and str(path) != ":memory:"
        and not path.exists()
    ):
        raise WarehouseError(
            f"there is no warehouse at {path}: import data first "
            f"(crmlens import FILES -w {parsed.raw}) or try crmlens demo"
        )
    if parsed.backend == "duckdb":
        return _open_duckdb(parsed)
    if parsed.backend == "spark":
        return _open_spark(parsed)
    return _open_postgres(parsed)


def _open_duckdb(url: WarehouseURL) -> Warehouse:
    from crmlens.warehouse.duckdb_backend import DuckDBBackend
    from crmlens.warehouse.storage import DuckDBStorage

    assert url.path is not None
    path = url.path if str(url.path) != ":memory:" else Path(":memory:")
    storage = DuckDBStorage(path) if str(path) != ":memory:" else _memory_storage()
    return Warehouse(url, DuckDBBackend.from_connection(storage.con), storage)


def _memory_storage() -> DuckDBStorage:
    from crmlens.warehouse.storage import DuckDBStorage

    storage = DuckDBStorage.__new__(DuckDBStorage)
    import duckdb

    from crmlens.warehouse.system import all_ddl

    storage.con = duckdb.connect()
    storage.path = Path(":memory:")
    for name, ddl in all_ddl().items():
        storage.con.execute(f'CREATE TABLE "{name}" ({ddl})')
    return storage


def _open_spark(url: WarehouseURL) -> Warehouse:
    try:
        import ibis
    except ImportError as e:  # pragma: no cover - core dependency
        raise WarehouseError(str(e)) from e
    from crmlens.warehouse.spark import spark_session
    from crmlens.warehouse.storage import ParquetStorage

    assert url.path is not None
    storage = ParquetStorage(url.path)
    return Warehouse(url, ibis.pyspark.connect(spark_session()), storage)


def _open_postgres(url: WarehouseURL) -> Warehouse:
    import ibis

    opts = dict(url.options or {})
    try:
        con = ibis.postgres.connect(
            user=opts["user"] or None,
            password=opts["password"] or None,
            host=opts["host"],
            port=int(opts["port"]),
            database=opts["database"],
        )
    except ModuleNotFoundError as e:
        raise WarehouseError(
            "reading Postgres needs the postgres extra: pip install 'crmlens[postgres]'"
        ) from e
    except Exception as e:
        raise WarehouseError(f"cannot connect to {url.raw}: {e}") from e
    return Warehouse(url, con, None)
