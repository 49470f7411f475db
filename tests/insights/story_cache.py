"""One run of a role's analyses on the demo per warehouse, role and scope, for every test
module of the story (the analyses take seconds; the words are told many times)."""

from __future__ import annotations

from typing import Any

from crmlens.insights.narrative import Collected, collect
from crmlens.warehouse.scope import Scope

AS_OF = "2025-12-15"
_COLLECTED: dict[tuple[str, str, str | None], Collected] = {}


def collected(
    wh: Any, role: str = "head", scope: Scope | str | None = None
) -> Collected:
    """What `role`'s analyses find on `wh` as of :data:`AS_OF`, computed once."""
    if isinstance(scope, str):
        scope = Scope.parse(scope)
    key = (str(wh.url.raw), role, str(scope) if scope else None)
    if key not in _COLLECTED:
        _COLLECTED[key] = collect(wh, role=role, scope=scope, as_of=AS_OF)
    return _COLLECTED[key]
