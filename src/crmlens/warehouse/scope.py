"""Row-level scope: a view of the warehouse holding only one manager's, team's or region's rows.

The scope is applied once, to the base tables, before any analysis runs (DESIGN.md,
"Interfaces"): a manager sees their own clients, deals and leads, a regional head their
region, the head of sales everything. Analyses run unchanged on the scoped view, so no page,
report, export or drill-down can show a row outside it.

Who owns a row:

- ``managers``: the managers of the scope (the manager; the team's or region's managers);
- ``deals``, ``leads``, ``accounts``: ``owner_id`` is one of them;
- ``activities``: ``manager_id`` is one of them;
- ``orders``: ``manager_id`` is one of them, or it is empty and the account is in scope;
- ``contacts``, ``deal_stages``, ``call_reviews``: their parent (account, deal, activity)
  is in scope;
- ``targets``: the scope's own targets and those of the teams and managers inside it;
- ``pipelines``, ``products``, ``campaigns``: reference data, whole;
- system tables: filtered by ``manager_id``/``owner_id`` when they have one; ``quarantine``
  (raw rows of any owner) is empty in a scope; the others are whole.

Rows without an owner belong to the company only. The view is read-only.

Examples
--------
>>> Scope.parse("manager:M05")
Scope(kind='manager', id='M05')
>>> str(Scope.parse("company"))
'company'
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis

from crmlens.errors import InputError, WarehouseError
from crmlens.model import SCOPE_TYPES
from crmlens.warehouse.connect import Warehouse

if TYPE_CHECKING:
    import ibis.expr.types as ir

_BY_OWNER = {"deals": "owner_id", "leads": "owner_id", "accounts": "owner_id"}
_BY_PARENT = {
    "contacts": ("account_id", "accounts", "account_id"),
    "deal_stages": ("deal_id", "deals", "deal_id"),
    "call_reviews": ("activity_id", "activities", "activity_id"),
}
_REFERENCE = frozenset({"pipelines", "products", "campaigns", "imports"})
_HIDDEN = frozenset({"quarantine"})


@dataclass(frozen=True)
class Scope:
    """Whose rows: ``company`` (all), or one ``region``, ``team`` or ``manager`` by id."""

    kind: str
    id: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in SCOPE_TYPES:
            raise InputError(
                f"unknown scope {self.kind!r}",
                reason=f"use one of {', '.join(SCOPE_TYPES)}",
            )
        if self.kind != "company" and not self.id:
            raise InputError(
                f"scope {self.kind} needs an id",
                reason=f"write it as {self.kind}:ID, e.g. manager:M05",
            )

    @classmethod
    def parse(cls, text: str | None) -> Scope:
        """``company``, ``region:Юг``, ``team:Москва-1`` or ``manager:M05``."""
        if not text or text.strip() == "company":
            return cls("company")
        kind, sep, ident = text.partition(":")
        if not sep:
            raise InputError(
                f"cannot read scope {text!r}",
                reason="write KIND:ID, e.g. manager:M05 or region:Юг, or company",
            )
        return cls(kind.strip(), ident.strip())

    @classmethod
    def company(cls) -> Scope:
        """Everything."""
        return cls("company")

    def __str__(self) -> str:
        return self.kind if self.kind == "company" else f"{self.kind}:{self.id}"


def scoped(wh: Warehouse, scope: Scope | None) -> Warehouse:
    """`wh` seen through `scope`: a read-only warehouse holding only the scope's rows.

    A view scoped again keeps the rows in both scopes: a scope never widens a view.
    """
    if scope is None or scope.kind == "company":
        return wh
    return ScopedWarehouse(wh, scope)


class ScopedWarehouse(Warehouse):
    """A read-only view of `base` restricted to `scope` (see the module docstring)."""

    def __init__(self, base: Warehouse, scope: Scope) -> None:
        super().__init__(base.url, base.con, storage=None)
        self.base = base
        self.scope = scope

    def __repr__(self) -> str:
        return (
            f"Warehouse({self.url.raw!r}, backend={self.backend!r}, scope={self.scope})"
        )

    @property
    def version(self) -> str:
        """The base's version: a scope changes no data."""
        return self.base.version

    def import_files(self, paths: Any, **options: Any) -> Any:
        raise WarehouseError(
            f"the {self.scope} view of {self.url.raw} is read-only: import into the "
            "warehouse itself"
        )

    def close(self) -> None:
        """The base owns the backend; closing a view does nothing."""

    def mart(self, name: str, as_of: dt.date) -> ir.Table | None:
        """Never: marts hold every owner's rows, so a scoped view computes from its tables."""
        return None

    def _load_table(self, name: str) -> ir.Table:
        if name.startswith("mart_"):
            raise WarehouseError(
                f"{name} holds every owner's rows: not in a scoped view"
            )
        t = self.base.table(name)
        if name in _REFERENCE:
            return t
        if name in _HIDDEN:
            return t.filter(ibis.literal(False))
        if name == "managers":
            return self._managers()
        if name == "targets":
            return self._targets(t)
        if name == "orders":
            return self._orders(t)
        if name in _BY_PARENT:
            column, parent, key = _BY_PARENT[name]
            return t.filter(t[column].isin(self.table(parent)[key]))
        owner = _BY_OWNER.get(name) or _owner_column(t)
        if owner is None:
            return t
        return t.filter(t[owner].isin(self._manager_ids()))

    def _managers(self) -> ir.Table:
        m = self.base.table("managers")
        column = {"manager": "manager_id", "team": "team", "region": "region"}
        return m.filter(m[column[self.scope.kind]] == self.scope.id)

    def _manager_ids(self) -> ir.Column:
        return self.table("managers").manager_id

    def _orders(self, t: ir.Table) -> ir.Table:
        own = t.manager_id.isin(self._manager_ids())
        of_own_client = t.manager_id.isnull() & t.account_id.isin(
            self.table("accounts").account_id
        )
        return t.filter(own | of_own_client)

    def _targets(self, t: ir.Table) -> ir.Table:
        managers = self.table("managers")
        keep = (t.scope_type == self.scope.kind) & (t.scope_id == self.scope.id)
        keep |= (t.scope_type == "manager") & t.scope_id.isin(managers.manager_id)
        if self.scope.kind == "region":
            keep |= (t.scope_type == "team") & t.scope_id.isin(managers.team)
        return t.filter(keep)


def _owner_column(t: ir.Table) -> str | None:
    for column in ("manager_id", "owner_id"):
        if column in t.columns:
            return column
    return None
