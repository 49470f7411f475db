"""The currency findings speak in: the one most deals are in, for the analysis being run.

Findings format money through :func:`crmlens.insights.rules._money.money`, which reads
:data:`CURRENCY`; the registry sets it around each analysis from the warehouse's deals
(:func:`in_data_currency`), so a HubSpot export in dollars reads "$1.2M", not "1,2 млн ₽".
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from crmlens.warehouse import Warehouse

DEFAULT = "RUB"
#: The currency of the analysis running now (RUB outside one).
CURRENCY: contextvars.ContextVar[str] = contextvars.ContextVar(
    "crmlens_currency", default=DEFAULT
)
_KNOWN: dict[tuple[str, str, str], str] = {}
F = TypeVar("F", bound=Callable[..., Any])


def main_currency(wh: Warehouse) -> str:
    """The currency most deals are in (RUB when the deals say none), once per version."""
    key = (type(wh).__name__, str(getattr(wh.url, "raw", wh.url)), _version(wh))
    if key not in _KNOWN:
        _KNOWN[key] = _count_currency(wh)
    return _KNOWN[key]


def _version(wh: Warehouse) -> str:
    try:
        return str(wh.version)
    except Exception:  # a warehouse that cannot tell its version is asked every time
        return f"unversioned-{id(wh)}"


def _count_currency(wh: Warehouse) -> str:
    from ibis import _

    try:
        deals = wh.table("deals")
        if "currency" not in deals.columns:
            return DEFAULT
        rows = (
            deals.filter(deals.currency.notnull())
            .group_by("currency")
            .aggregate(n=_.count())
            .to_pyarrow()
            .to_pylist()
        )
    except Exception:  # a warehouse without deals still speaks roubles
        return DEFAULT
    if not rows:
        return DEFAULT
    best = max(rows, key=lambda r: (r["n"], str(r["currency"])))
    code = str(best["currency"]).strip().upper()
    return code if len(code) == 3 and code.isalpha() else DEFAULT


def in_data_currency(fn: F) -> F:
    """Wrap an analysis `fn(wh, **params)` so its findings use the data's currency."""

    @functools.wraps(fn)
    def run(wh: Warehouse, *args: Any, **params: Any) -> Any:
        token = CURRENCY.set(main_currency(wh))
        try:
            return fn(wh, *args, **params)
        finally:
            CURRENCY.reset(token)

    return run  # type: ignore[return-value]
