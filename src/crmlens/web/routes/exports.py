"""Exports: an analysis's rows, or a drill-down's base rows, as CSV or XLSX."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from crmlens.insights.findings import rank
from crmlens.insights.tabular import csv_file, xlsx_file
from crmlens.web.deps import ViewDep, current_user
from crmlens.web.drill import MAX_ROWS
from crmlens.web.service import drill_query

if TYPE_CHECKING:
    import pyarrow as pa

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


def _download(
    rows: pa.Table,
    fmt: str,
    stem: str,
    *,
    lang: str,
    findings: Sequence[dict[str, Any]] = (),
) -> Response:
    """`rows` as the file `stem-DATE.fmt` (XLSX: `findings` on a second sheet)."""
    if fmt == "csv":
        body = csv_file(rows)
    else:
        body = xlsx_file(rows, sheet=stem, findings=findings, lang=lang)
    name = f"{stem}-{dt.date.today().isoformat()}.{fmt}"
    return Response(
        body,
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/drill/{table}.{fmt}")
def export_drill(table: str, fmt: Fmt, view: ViewDep) -> Response:
    """The base rows of a drill-down (up to 100,000)."""
    q = drill_query(table, view.query)
    rows, _ = view.service.drill(view.user, q, view.filters, limit=MAX_ROWS)
    return _download(rows, fmt, table, lang=view.lang)


@router.get("/{name}.{fmt}")
def export_analysis(name: str, fmt: Fmt, view: ViewDep) -> Response:
    """Every row of an analysis (with its findings in XLSX)."""
    result = view.service.run(view.user, name, view.query, view.filters).result
    findings = [f.to_dict() for f in rank(result.findings)] if fmt == "xlsx" else []
    return _download(result.rows, fmt, name, lang=view.lang, findings=findings)
