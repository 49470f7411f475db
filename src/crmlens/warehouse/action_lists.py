"""Stored next-best-action lists (system table ``action_lists``), for the outcome review.

A list is stored with the day it is for; storing the list of a day again for the same
managers replaces it, so a re-run in the morning does not double the review's counts.
Both storages take it in one transaction (DuckDB file, Parquet versions for Spark).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from crmlens.errors import WarehouseError
from crmlens.warehouse.system import SYSTEM_TABLES

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pyarrow as pa

    from crmlens.warehouse.connect import Warehouse

TABLE = "action_lists"
COLUMNS = tuple(part.strip().split(" ")[0] for part in SYSTEM_TABLES[TABLE].split(","))
_TYPES = {"VARCHAR": "string", "DATE": "date32", "TIMESTAMP": "timestamp",
          "BIGINT": "int64", "DOUBLE": "float64"}  # fmt: skip


def _schema() -> pa.Schema:
    import pyarrow as pa

    fields = []
    for part in SYSTEM_TABLES[TABLE].split(","):
        name, sql_type = part.strip().split(" ")
        kind = _TYPES[sql_type]
        typ = pa.timestamp("us") if kind == "timestamp" else pa.type_for_alias(kind)
        fields.append(pa.field(name, typ))
    return pa.schema(fields)


def to_record(item: Mapping[str, Any], created_at: dt.datetime) -> dict[str, Any]:
    """An action item as a row of ``action_lists`` (evidence as JSON text)."""
    row = {c: item.get(c) for c in COLUMNS}
    row["created_at"] = created_at
    row["evidence"] = json.dumps(item.get("evidence") or {}, ensure_ascii=False,
                                 default=str)  # fmt: skip
    return row


def save_action_list(
    wh: Warehouse,
    items: Iterable[Mapping[str, Any]],
    *,
    list_date: dt.date,
    managers: Iterable[str],
) -> int:
    """Store the `items` of `list_date`, replacing that day's lists of `managers`.

    Returns the number of rows stored. Raises WarehouseError on a read-only warehouse.
    """
    import pyarrow as pa

    if wh.storage is None:
        raise WarehouseError(
            f"{wh.url.raw} is read-only: action lists can only be stored in a DuckDB "
            "file or a Spark warehouse"
        )
    now = dt.datetime.now().replace(microsecond=0)
    rows = [to_record(i, now) for i in items]
    table = pa.Table.from_pylist(rows, schema=_schema())
    who = sorted(set(managers))
    cols = ", ".join(f'"{c}"' for c in COLUMNS)
    with wh.storage.transaction() as tx:
        tx.con.register("_crmlens_new_actions", table)
        try:
            if who:
                marks = ", ".join("?" for _ in who)
                tx.con.execute(
                    f"DELETE FROM {TABLE} WHERE list_date = ? AND manager_id IN ({marks})",
                    [list_date, *who],
                )
            tx.con.execute(
                f"INSERT INTO {TABLE} ({cols}) SELECT {cols} FROM _crmlens_new_actions"
            )
        finally:
            tx.con.unregister("_crmlens_new_actions")
        tx.touch(TABLE)
    wh.refresh()
    return len(rows)


def stored_lists(
    wh: Warehouse, *, date_from: dt.date, date_to: dt.date
) -> ir.Table | None:
    """Stored rows with list_date in [`date_from`, `date_to`] (None: table missing)."""
    try:
        t = wh.table(TABLE)
    except Exception:  # a Spark warehouse made before the table existed
        return None
    return t.filter(t.list_date >= date_from, t.list_date <= date_to)
