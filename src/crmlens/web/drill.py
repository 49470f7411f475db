"""Drill-down: from a number to the deals, leads, clients or orders behind it.

``/drill/{table}?owner_id=M05&stage=…&from=…&to=…`` shows the base rows of one table of the
user's scoped (and filtered) warehouse, narrowed by equality on a few columns per table.
Values are Ibis literals, never SQL text. Every result table links its numbers here: a row
with a ``manager_id`` opens that manager's deals, an ``account_id`` the client's orders, a
``source`` its leads, a ``stage`` the deals that reached it, and so on (:func:`link_for`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crmlens.errors import InputError
from crmlens.model import TABLES
from crmlens.web.params import check_text

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pyarrow as pa

    from crmlens.warehouse import Warehouse

#: Columns a drill-down may narrow on, per table (``stage`` on deals: reached the stage).
CRITERIA: dict[str, tuple[str, ...]] = {
    "deals": (
        "deal_id",
        "owner_id",
        "account_id",
        "lead_id",
        "pipeline_id",
        "status",
        "stage",
        "lost_reason",
        "product_id",
    ),
    "leads": (
        "lead_id",
        "owner_id",
        "account_id",
        "source",
        "channel",
        "campaign_id",
        "status",
        "need_type",
    ),
    "accounts": (
        "account_id",
        "owner_id",
        "region",
        "industry",
        "size_segment",
        "source",
        "status",
    ),
    "orders": ("order_id", "account_id", "manager_id", "product_id", "deal_id"),
    "activities": (
        "activity_id",
        "manager_id",
        "type",
        "deal_id",
        "lead_id",
        "account_id",
    ),
    "deal_stages": ("deal_id", "stage"),
}
MAX_ROWS = 100_000


@dataclass(frozen=True)
class DrillQuery:
    """A drill-down request: the table, equality criteria, the period."""

    table: str
    criteria: tuple[tuple[str, str], ...]
    date_from: str | None = None
    date_to: str | None = None

    @classmethod
    def parse(cls, table: str, query: Mapping[str, str]) -> DrillQuery:
        """From a query string; unknown keys are ignored, bad values are a 400."""
        if table not in CRITERIA:
            raise InputError(
                f"no drill-down into {table!r}", reason="use " + ", ".join(CRITERIA)
            )
        criteria = []
        for column in CRITERIA[table]:
            raw = query.get(column)
            if raw:
                criteria.append((column, check_text(column, raw)))
        dates = []
        for key in ("from", "to"):
            raw = query.get(key)
            dates.append(_date(key, raw) if raw else None)
        return cls(table, tuple(criteria), dates[0], dates[1])

    def key(self) -> tuple[Any, ...]:
        """A hashable form for cache keys."""
        return (self.table, self.criteria, self.date_from, self.date_to)


def _date(key: str, raw: str) -> str:
    try:
        return dt.date.fromisoformat(check_text(key, raw)).isoformat()
    except ValueError as e:
        raise InputError(f"{key}={raw!r} is not a date (YYYY-MM-DD)") from e


def drill_expr(wh: Warehouse, q: DrillQuery) -> ir.Table:
    """The rows of `q.table` in `wh` that match `q`, newest first."""
    import ibis

    t = wh.table(q.table)
    for column, value in q.criteria:
        if q.table == "deals" and column == "stage":
            stages = wh.table("deal_stages")
            t = t.filter(t.deal_id.isin(stages.filter(stages.stage == value).deal_id))
        elif column in t.columns:
            t = t.filter(t[column].cast("string") == ibis.literal(value))
    date_column = TABLES[q.table].date_column
    if date_column and date_column in t.columns:
        if q.date_from:
            t = t.filter(
                t[date_column] >= ibis.literal(dt.date.fromisoformat(q.date_from))
            )
        if q.date_to:
            end = dt.date.fromisoformat(q.date_to) + dt.timedelta(days=1)
            t = t.filter(t[date_column] < ibis.literal(end))
        t = t.order_by(ibis.desc(date_column))
    return t


def drill_rows(wh: Warehouse, q: DrillQuery, *, limit: int) -> tuple[pa.Table, int]:
    """Up to `limit` matching rows and how many match in all."""
    expr = drill_expr(wh, q)
    total = int(expr.count().to_pyarrow().as_py())
    return expr.limit(min(limit, MAX_ROWS)).to_pyarrow(), total


#: Which drill-down a column of a result row opens: column -> (table, criterion).
LINKS: dict[str, tuple[str, str]] = {
    "manager_id": ("deals", "owner_id"),
    "owner_id": ("deals", "owner_id"),
    "manager": ("deals", "owner_id"),
    "account_id": ("orders", "account_id"),
    "lead_id": ("leads", "lead_id"),
    "deal_id": ("deal_stages", "deal_id"),
    "source": ("leads", "source"),
    "campaign_id": ("leads", "campaign_id"),
    "channel": ("leads", "channel"),
    "stage": ("deals", "stage"),
    "lost_reason": ("deals", "lost_reason"),
    "product_id": ("orders", "product_id"),
}


def link_for(
    row: Mapping[str, Any], params: Mapping[str, Any]
) -> tuple[str, dict[str, str]] | None:
    """The drill-down (table, query) behind the numbers of `row`, or None."""
    for column, (table, criterion) in LINKS.items():
        value = row.get(column)
        if isinstance(value, str) and value:
            query = {criterion: value}
            if table == "deals" and column == "stage" and row.get("pipeline_id"):
                query["pipeline_id"] = str(row["pipeline_id"])
            return table, query
    scope = params.get("scope") or params.get("level")
    scope_id = row.get("scope_id") or row.get("level_id")
    if (
        scope in ("region", "team", "manager")
        and isinstance(scope_id, str)
        and scope_id
    ):
        return "deals", {scope: scope_id}
    return None
