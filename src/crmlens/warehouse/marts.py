"""Marts: facts derived once per import, in the import's own transaction.

A funnel or a journey map re-sorts millions of stage entries on every call; most of that
work does not depend on the question asked (DESIGN.md, "Performance notes"). A mart keeps
it: per-deal facts, stage times, each deal's path. Analyses aggregate a mart when it covers
the date they ask about and compute from the base tables otherwise, so a mart changes speed,
never a number.

The builders belong to the analyses (a layer above this one), so they reach the warehouse as
plugins: entry points of the group ``crmlens.marts``, each a function
``build(table) -> ibis table`` where ``table(name)`` gives a base table of the import's
connection (and any mart built before it in the same import). A mart is stored as
``mart_<name>``; the table ``marts`` records for each its import and ``data_until``, the
latest moment in the data it was derived from (the analyses use it only ``as of`` that
moment or later): of deals and stage entries, or of the tables and columns a builder
names in its ``data_dates`` attribute.

Marts are kept in a DuckDB warehouse. A Spark warehouse computes from the base tables (a
cluster has the power, and its Parquet versions stay as imported); PostgreSQL is read-only.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb
    import ibis.expr.types as ir

GROUP = "crmlens.marts"
PREFIX = "mart_"
META = "marts"
META_DDL = "name VARCHAR, import_id VARCHAR, data_until TIMESTAMP, rows BIGINT"
Builder = Callable[[Callable[[str], "ir.Table"]], "ir.Table"]
#: Dates that bound what a mart knows: the latest of them is its ``data_until``.
DATE_COLUMNS = {
    "deals": ("created_at", "closed_at"),
    "deal_stages": ("entered_at",),
}


@cache
def builders() -> dict[str, Builder]:
    """Mart name -> builder, from the installed entry points."""
    from importlib.metadata import entry_points

    return {ep.name: ep.load() for ep in entry_points(group=GROUP)}


def build_all(con: duckdb.DuckDBPyConnection, import_id: str) -> None:
    """(Re)build every mart inside the open transaction of `con`."""
    from crmlens.warehouse.duckdb_backend import DuckDBBackend

    found = builders()
    con.execute(f'CREATE TABLE IF NOT EXISTS "{META}" ({META_DDL})')
    con.execute(f'DELETE FROM "{META}"')
    if not found:
        return
    backend = DuckDBBackend.from_connection(con)
    built: set[str] = set()

    def table(name: str) -> ir.Table:
        # A builder may read a mart built before it in this import, never an old one.
        if name.startswith(PREFIX) and name[len(PREFIX) :] not in built:
            raise KeyError(f"{name} is not built yet in this import")
        return backend.table(name)

    untils: dict[str, Any] = {}
    for name, build in found.items():
        dates = getattr(build, "data_dates", DATE_COLUMNS)
        if repr(dates) not in untils:
            untils[repr(dates)] = _data_until(con, dates)
        until = untils[repr(dates)]
        con.execute(f'DROP TABLE IF EXISTS "{PREFIX}{name}"')
        backend.create_table(PREFIX + name, build(table))
        built.add(name)
        rows = _scalar(con, f'SELECT count(*) FROM "{PREFIX}{name}"')
        con.execute(
            f'INSERT INTO "{META}" VALUES (?, ?, ?, ?)', [name, import_id, until, rows]
        )


def _data_until(
    con: duckdb.DuckDBPyConnection,
    dates: dict[str, tuple[str, ...]] = DATE_COLUMNS,
) -> Any:
    """The latest moment in the `dates` columns (a builder's ``data_dates``)."""
    parts = [
        f'SELECT max("{c}") AS t FROM "{table}"'
        for table, columns in dates.items()
        for c in columns
    ]
    rows = con.execute(f"SELECT max(t) FROM ({' UNION ALL '.join(parts)})").fetchall()
    return rows[0][0]


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    rows = con.execute(sql).fetchall()
    return int(rows[0][0]) if rows else 0
