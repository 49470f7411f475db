"""The JSON API: the CLI's analyses, parameters and envelope, under the same scope rules.

Authenticate with ``Authorization: Bearer crl_…`` (``crmlens users token NAME``) or a
session cookie. Filters (``from``, ``to``, ``region``, ``team``, ``manager``, ``source``)
narrow the caller's scope, never widen it.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from crmlens.insights.findings import rank
from crmlens.insights.registry import REGISTRY
from crmlens.insights.tabular import envelope, plain, records
from crmlens.web.access import can_run
from crmlens.web.deps import CurrentUser, FiltersDep, LangDep, StateDep, current_user
from crmlens.web.filters import FILTER_KEYS
from crmlens.web.respcache import cacheable
from crmlens.web.schemas import (
    Analyses,
    AnalysisInfo,
    DrillRows,
    Envelope,
    Error,
    Me,
    ParamInfo,
    Story,
)
from crmlens.web.service import drill_query

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Error} for code in (400, 401, 403, 404, 500)
}
router = APIRouter(
    prefix="/api",
    tags=["api"],
    responses=ERRORS,
    dependencies=[Depends(current_user)],
)


@router.get("/me", response_model=Me)
def me(user: CurrentUser) -> Me:
    """The caller: user name, role and scope."""
    return Me(username=user.username, role=user.role, scope=str(user.scope))


@router.get("/analyses", response_model=Analyses)
def analyses(user: CurrentUser, state: StateDep) -> Analyses:
    """Every analysis the caller's role may run, with its parameters."""
    items = [
        AnalysisInfo(
            name=name,
            summary=a.summary,
            params=[ParamInfo(**s.to_dict()) for s in state.service.specs(name)],
            url=f"/api/analysis/{name}",
        )
        for name, a in sorted(REGISTRY.items())
        if can_run(user, name)
    ]
    return Analyses(analyses=items, filters=list(FILTER_KEYS))


@router.get(
    "/analysis/{name}",
    response_model=Envelope,
    responses={200: {"model": Envelope}},
)
def analysis(
    name: str,
    user: CurrentUser,
    request: Request,
    state: StateDep,
    filters: FiltersDep,
) -> Response:
    """Run analysis `name` with the query's parameters and filters.

    The response is ``{"analysis", "params", "rows", "findings"}``, as from
    ``crmlens NAME --format json``; parameters are those of ``GET /api/analyses``.
    """
    outcome = state.service.run(user, name, request.query_params, filters)

    def body() -> bytes:
        result = outcome.result
        findings = [f.to_dict() for f in rank(result.findings)]
        data = envelope(result.analysis, result.params, records(result.rows), findings)
        return json.dumps(data, ensure_ascii=False).encode()

    payload, _ = state.service.cache.get_or_compute((*outcome.key, "json"), body)
    return cacheable(Response(payload, media_type="application/json"))


@router.get("/story", response_model=Story)
def story(
    user: CurrentUser,
    response: Response,
    state: StateDep,
    lang: LangDep,
    filters: FiltersDep,
    top: int = 5,
) -> Story:
    """The story for the caller's role and scope: a headline and the top items, each
    with its number, comparison, action and the finding behind it (as ``crmlens
    insights --format json``)."""
    told = state.service.story(user, filters, lang=lang, top=max(1, min(top, 20)))
    cacheable(response)
    return Story(**plain(told.to_dict()))


@router.get("/drill/{table}", response_model=DrillRows)
def drill(
    table: str,
    user: CurrentUser,
    request: Request,
    response: Response,
    state: StateDep,
    filters: FiltersDep,
    limit: int = 500,
) -> DrillRows:
    """Base rows of `table` behind a number (equality on its id columns, a period)."""
    q = drill_query(table, request.query_params)
    rows, total = state.service.drill(
        user, q, filters, limit=max(1, min(limit, 10_000))
    )
    cacheable(response)
    return DrillRows(
        table=table,
        params={**dict(q.criteria), **filters.query()},
        total=total,
        rows=records(rows),
    )


schema_router = APIRouter(include_in_schema=False, dependencies=[Depends(current_user)])


@schema_router.get("/openapi.json")
def openapi(user: CurrentUser, request: Request) -> JSONResponse:
    """The OpenAPI schema of this API (signed-in callers only)."""
    return JSONResponse(request.app.openapi())
