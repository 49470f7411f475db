"""Shared plumbing of the seller analyses: inputs, names of managers, scope filters."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crmlens.insights.params import parse_date, resolve_as_of

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pyarrow as pa

    from crmlens.warehouse import Warehouse


@dataclass(frozen=True)
class Inputs:
    """Resolved parameters and the canonical tables of a seller analysis."""

    as_of: dt.date
    date_from: dt.date | None
    deals: ir.Table
    names: dict[str, str]
    team_of: dict[str, str | None]
    region_of: dict[str, str | None]
    keep: frozenset[str] | None
    inactive: frozenset[str] = frozenset()

    def name(self, manager_id: str | None) -> str:
        """'Name (M05)' or the id when the manager is unknown."""
        if manager_id is None:
            return "—"
        label = self.names.get(manager_id)
        return f"{label} ({manager_id})" if label else str(manager_id)

    def params(self, **extra: Any) -> dict[str, Any]:
        """Parameters echoed in the result envelope."""
        return {
            "as_of": self.as_of.isoformat(),
            "date_from": self.date_from.isoformat() if self.date_from else None,
            **extra,
        }


def inputs(
    wh: Warehouse,
    *,
    as_of: str | dt.date | None,
    date_from: str | dt.date | None = None,
    team: str | None = None,
    region: str | None = None,
) -> Inputs:
    """Resolve dates, map deal owners given by name to ids, read the managers' names."""
    from crmlens.analytics.managers import resolve_owners

    day = resolve_as_of(wh, as_of)
    start = parse_date(date_from, name="--from")
    columns = ["manager_id", "name", "team", "region"]
    if "active" in wh.managers.columns:
        columns.append("active")
    rows = wh.managers.select(*columns).to_pyarrow().to_pylist()
    keep = None
    if team or region:
        keep = frozenset(
            r["manager_id"]
            for r in rows
            if (not team or r["team"] == team) and (not region or r["region"] == region)
        )
    return Inputs(
        as_of=day,
        date_from=start,
        deals=resolve_owners(wh.deals, wh.managers),
        names={r["manager_id"]: r["name"] for r in rows},
        team_of={r["manager_id"]: r["team"] for r in rows},
        region_of={r["manager_id"]: r["region"] for r in rows},
        keep=keep,
        inactive=frozenset(r["manager_id"] for r in rows if r.get("active") is False),
    )


def with_names(rows: pa.Table, inp: Inputs, column: str = "manager_id") -> pa.Table:
    """`rows` with a `name` column after `column`, and only managers in scope."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if inp.keep is not None:
        rows = rows.filter(pc.is_in(rows[column], value_set=pa.array(sorted(inp.keep))))
    names = [inp.names.get(v) for v in rows[column].to_pylist()]
    at = rows.column_names.index(column) + 1
    return rows.add_column(at, "name", pa.array(names, pa.string()))


def records(rows: pa.Table) -> list[dict[str, Any]]:
    """Rows as dicts with NaN turned into None."""
    out = rows.to_pylist()
    for r in out:
        for k, v in r.items():
            if isinstance(v, float) and math.isnan(v):
                r[k] = None
    return out


def won_average(deals: ir.Table, *, as_of: dt.date) -> float:
    """Average amount of won deals closed by `as_of` (0 when there are none)."""
    from crmlens.analytics.managers import closed_deals

    won = closed_deals(deals, as_of=as_of).filter(lambda t: t.is_won == 1)
    value = won.aggregate(m=won.amount.mean()).to_pyarrow()["m"][0].as_py()
    return float(value or 0.0)


def company_win_rate(deals: ir.Table, *, as_of: dt.date) -> float:
    """Won / closed over all deals closed by `as_of` (0 when none closed)."""
    from crmlens.analytics.managers import closed_deals

    closed = closed_deals(deals, as_of=as_of)
    value = closed.aggregate(m=closed.is_won.mean()).to_pyarrow()["m"][0].as_py()
    return float(value or 0.0)


def round_row(row: dict[str, Any], digits: int = 4) -> dict[str, Any]:
    """A row for evidence: floats rounded."""
    return {k: round(v, digits) if isinstance(v, float) else v for k, v in row.items()}
