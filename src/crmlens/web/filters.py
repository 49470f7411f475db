"""The filters every page shares — period, region, team, manager, source — kept in the URL.

A filter narrows the warehouse *before* an analysis runs, like the user's scope does, and
never widens it: region, team and manager are one more :class:`ScopedWarehouse` over the
user's scoped view (the two intersect: a manager filtering another region sees nothing),
and source keeps the leads of that source, their deals, the clients who came from it and
what hangs off those. The period becomes the analyses' own ``as_of`` / ``date_from``
parameters, since most of them need history before the period (RFM, cohorts, churn).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from crmlens.errors import InputError
from crmlens.warehouse import Warehouse
from crmlens.warehouse.scope import Scope, ScopedWarehouse
from crmlens.web.params import check_text

if TYPE_CHECKING:
    import ibis.expr.types as ir

#: Query names of the filters (``from``/``to`` are the period).
FILTER_KEYS = ("from", "to", "region", "team", "manager", "source")
#: Analysis parameters the period fills when the page did not set them.
PERIOD_PARAMS = {"as_of": "to", "date_from": "from", "start": "from", "end": "to"}


@dataclass(frozen=True)
class Filters:
    """The filters of one request."""

    date_from: str | None = None
    date_to: str | None = None
    region: str | None = None
    team: str | None = None
    manager: str | None = None
    source: str | None = None

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> Filters:
        """Filters from a query string (InputError on a bad date or character)."""
        values: dict[str, str | None] = {}
        for key, attr in zip(FILTER_KEYS, (f.name for f in fields(cls)), strict=True):
            raw = query.get(key)
            if raw is None or not raw.strip():
                values[attr] = None
                continue
            text = check_text(key, raw)
            if key in ("from", "to"):
                text = _date(key, text)
            values[attr] = text
        start, end = values["date_from"], values["date_to"]
        if start and end and start > end:
            raise InputError(
                f"the period starts ({values['date_from']}) after it ends "
                f"({values['date_to']})"
            )
        return cls(**values)

    def query(self) -> dict[str, str]:
        """The filters as query parameters (only those set)."""
        values = (getattr(self, f.name) for f in fields(self))
        return {k: v for k, v in zip(FILTER_KEYS, values, strict=True) if v}

    def key(self) -> tuple[tuple[str, str], ...]:
        """A hashable form for cache keys."""
        return tuple(sorted(self.query().items()))

    def scopes(self) -> list[Scope]:
        """The region, team and manager filters as scopes."""
        out = []
        for kind in ("region", "team", "manager"):
            value = getattr(self, kind)
            if value:
                out.append(Scope(kind, value))
        return out

    def period_params(
        self, accepted: set[str], given: Mapping[str, Any]
    ) -> dict[str, Any]:
        """``as_of``/``date_from``/``start``/``end`` from the period, where not given."""
        out: dict[str, Any] = {}
        for param, key in PERIOD_PARAMS.items():
            value = self.date_from if key == "from" else self.date_to
            if value and param in accepted and param not in given:
                out[param] = value
        return out


def _date(key: str, text: str) -> str:
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError as e:
        raise InputError(f"{key}={text!r} is not a date (YYYY-MM-DD)") from e


def narrow(wh: Warehouse, filters: Filters) -> Warehouse:
    """`wh` (already in the user's scope) narrowed by `filters`; never wider than `wh`."""
    for scope in filters.scopes():
        wh = ScopedWarehouse(wh, scope)
    if filters.source:
        wh = SourceView(wh, filters.source)
    return wh


class SourceView(ScopedWarehouse):
    """`base` keeping only what came from one lead source (see the module docstring)."""

    def __init__(self, base: Warehouse, source: str) -> None:
        super().__init__(base, Scope.company())
        self.source = source

    def __repr__(self) -> str:
        return f"Warehouse({self.url.raw!r}, backend={self.backend!r}, source={self.source!r})"

    def _load_table(self, name: str) -> ir.Table:
        t = self.base.table(name)
        if name == "leads":
            return t.filter(t.source == self.source)
        if name == "deals":
            return t.filter(t.lead_id.isin(self.table("leads").lead_id))
        if name == "accounts":
            return t.filter(t.source == self.source)
        if name in ("deal_stages",):
            return t.filter(t.deal_id.isin(self.table("deals").deal_id))
        if name in ("orders", "contacts"):
            return t.filter(t.account_id.isin(self.table("accounts").account_id))
        if name == "activities":
            return t.filter(
                t.lead_id.isin(self.table("leads").lead_id)
                | t.deal_id.isin(self.table("deals").deal_id)
                | (
                    t.lead_id.isnull()
                    & t.deal_id.isnull()
                    & t.account_id.isin(self.table("accounts").account_id)
                )
            )
        if name == "call_reviews":
            return t.filter(t.activity_id.isin(self.table("activities").activity_id))
        return t
