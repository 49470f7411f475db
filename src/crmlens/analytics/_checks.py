"""Shared checks of analytics inputs, with plain messages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from crmlens.errors import SchemaError

if TYPE_CHECKING:
    import ibis.expr.types as ir


def require_columns(table: ir.Table, name: str, columns: Iterable[str]) -> None:
    """Raise SchemaError naming every missing column and the columns that were found."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise SchemaError(
            f"table {name} lacks column(s) {', '.join(missing)}; "
            f"found: {', '.join(table.columns)}"
        )
