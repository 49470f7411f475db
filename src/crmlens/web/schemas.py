"""Response models of the JSON API (they make the OpenAPI schema)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Envelope(BaseModel):
    """The result of one analysis: the same envelope as ``crmlens … --format json``."""

    analysis: str
    params: dict[str, Any]
    rows: list[dict[str, Any]]
    findings: list[dict[str, Any]] = Field(
        description="Findings ranked by money at stake (crmlens finding schema)."
    )


class ParamInfo(BaseModel):
    """One parameter an analysis takes from the query string."""

    name: str
    kind: str = Field(
        description="date, int, float, bool, choice, text, floats or texts"
    )
    default: Any = None
    choices: list[str] = []


class AnalysisInfo(BaseModel):
    """A registered analysis the caller may run."""

    name: str
    summary: str
    params: list[ParamInfo]
    url: str


class Analyses(BaseModel):
    """The analyses the caller's role may run, and the filters every one takes."""

    analyses: list[AnalysisInfo]
    filters: list[str]


class Story(BaseModel):
    """The story for the caller's role and scope (``crmlens insights --format json``)."""

    headline: str
    lang: str
    role: str
    scope: str | None
    as_of: str
    currency: str
    items: list[dict[str, Any]] = Field(
        description="title, number, comparison, text, action, severity, stake, "
        "evidence {analysis, command, link} and the finding behind the item."
    )
    skipped: list[dict[str, Any]] = Field(description="Analyses that could not run.")
    seconds: dict[str, float]


class DrillRows(BaseModel):
    """Base rows behind a number, in the caller's scope."""

    table: str
    params: dict[str, Any]
    total: int
    rows: list[dict[str, Any]]


class Me(BaseModel):
    """Who the caller is."""

    username: str
    role: str
    scope: str


class Error(BaseModel):
    """The one error shape of the API."""

    ok: bool = False
    error: str
    errors: list[str]
    status: int
