"""Table overview: rows and date range of every canonical table (``crmlens tables``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

from crmlens.model import TABLES

if TYPE_CHECKING:
    import ibis.expr.types as ir


def table_overview(tables: dict[str, ir.Table]) -> ir.Table:
    """One row per canonical table: ``table_name, row_count, first_at, last_at``.

    Parameters
    ----------
    tables
        Canonical table name -> Ibis table (all from one backend).

    Returns
    -------
    ir.Table
        ``table_name`` (string), ``row_count`` (int64), ``first_at`` and ``last_at``
        (timestamps of the table's dating column; null for undated tables).

    Examples
    --------
    >>> import crmlens
    >>> wh = crmlens.open(":memory:")
    >>> t = table_overview({"deals": wh.deals}).execute()
    >>> t[["table_name", "row_count"]].to_dict("records")
    [{'table_name': 'deals', 'row_count': 0}]
    """
    parts = []
    for name, table in tables.items():
        date_col = TABLES[name].date_column
        if date_col is not None:
            when = table[date_col].cast("timestamp")
            first, last = when.min(), when.max()
        else:
            first = last = ibis.null().cast("timestamp")
        parts.append(
            table.aggregate(
                row_count=table.count().cast("int64"),
                first_at=first,
                last_at=last,
            ).mutate(table_name=ibis.literal(name))
        )
    union = ibis.union(*parts) if len(parts) > 1 else parts[0]
    return union.select("table_name", "row_count", "first_at", "last_at").order_by(
        "table_name"
    )
