"""crmlens: analytics of a B2B sales department's client base.

>>> import crmlens
>>> wh = crmlens.open(":memory:")
>>> sorted(wh.columns("pipelines"))
['is_lost', 'is_won', 'pipeline_id', 'position', 'stage']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["CrmlensError", "InputError", "Warehouse", "__version__", "open"]

if TYPE_CHECKING:
    from crmlens.errors import CrmlensError, InputError
    from crmlens.warehouse import Warehouse


def open(url: Any = None, *, create: bool = True) -> Warehouse:
    """Open the warehouse at `url` (default ``$CRMLENS_WAREHOUSE`` or ``./crmlens.duckdb``).

    A new one is created unless `create` is False (then a missing one is an error).
    """
    from crmlens.warehouse import open_warehouse

    return open_warehouse(url, create=create)


def __getattr__(name: str) -> Any:
    """Import the heavy parts only when they are used (start-up time counts)."""
    if name in ("CrmlensError", "InputError"):
        from crmlens import errors

        return getattr(errors, name)
    if name == "Warehouse":
        from crmlens.warehouse import Warehouse

        return Warehouse
    raise AttributeError(f"module 'crmlens' has no attribute {name!r}")
