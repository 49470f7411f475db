"""Exports: an analysis's rows, or a drill-down's base rows, as CSV or XLSX."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from crmlens.insights.findings import rank
from crmlens.web.deps import CurrentUser, FiltersDep, LangDep, StateDep, current_user
from crmlens.web.drill import CRITERIA, MAX_ROWS, DrillQuery
from crmlens.web.export import to_csv, to_xlsx
from crmlens.web.service import NotFound

router = APIRouter(
    prefix="/export",
    tags=["exports"],
    include_in_schema=False,
    dependencies=[Depends(current_user)],
)
Fmt = Literal["csv", "xlsx"]
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _download(body: bytes, fmt: str, stem: str) -> Response:
    name = f"{stem}-{dt.date.today().isoformat()}.{fmt}"
    return Response(
        body,
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/drill/{table}.{fmt}")
def export_drill(
    table: str,
    fmt: Fmt,
    user: CurrentUser,
    request: Request,
    state: StateDep,
    lang: LangDep,
    filters: FiltersDep,
) -> Response:
    """The base rows of a drill-down (up to 100,000)."""
    if table not in CRITERIA:
        raise NotFound(f"no drill-down into {table!r}")
    q = DrillQuery.parse(table, request.query_params)
    rows, _ = state.service.drill(user, q, filters, limit=MAX_ROWS)
    body = to_csv(rows) if fmt == "csv" else to_xlsx(rows, sheet=table, lang=lang)
    return _download(body, fmt, table)


@router.get("/{name}.{fmt}")
def export_analysis(
    name: str,
    fmt: Fmt,
    user: CurrentUser,
    request: Request,
    state: StateDep,
    lang: LangDep,
    filters: FiltersDep,
) -> Response:
    """Every row of an analysis (with its findings in XLSX)."""
    outcome = state.service.run(user, name, request.query_params, filters)
    rows = outcome.result.rows
    if fmt == "csv":
        return _download(to_csv(rows), fmt, name)
    findings = [f.to_dict() for f in rank(outcome.result.findings)]
    return _download(to_xlsx(rows, sheet=name, findings=findings, lang=lang), fmt, name)
