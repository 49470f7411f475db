"""Roles: who reads which analyses, and whether a role needs a scope.

The head of sales sees the company; a regional head a region, a manager their own clients
(``--scope``), a marketer campaigns and sources, the analyst everything including the data's
own quality. ``admin`` reads what the head reads. An analysis a role lists but that is not
registered (an optional extra) is simply absent from its story.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from crmlens.errors import InputError

Role = Literal["head", "regional", "manager", "marketer", "analyst", "admin"]
ScopeKind = Literal["company", "region", "team", "manager"]


@dataclass(frozen=True)
class RoleSpec:
    """A role: its analyses (with parameters) and the scope it needs, if any.

    A *benchmark* analysis compares the scope with the whole company (a manager's answer
    time against the others'): it runs on the whole warehouse and only the findings about
    the scope itself (its own manager, region or team) are kept.
    """

    name: str
    title: dict[str, str]
    analyses: dict[str, dict[str, Any]]
    scope: ScopeKind | None = None
    summary: str = ""
    benchmark: frozenset[str] = field(default=frozenset())


_SALES = {
    "funnel": {},
    "plan": {"scope": "region"},
    "managers_compare": {},
    "managers_response": {},
    "managers_checklist": {},
    "managers_kpis": {},
    "customers_churn": {},
    "customers_rfm": {},
    "customers_factors": {},
    "campaigns": {},
}

ROLES: dict[str, RoleSpec] = {
    "head": RoleSpec(
        "head",
        {"ru": "руководитель отдела продаж", "en": "head of sales"},
        _SALES,
        summary="The company: funnel, plan by region, managers, key clients, campaigns.",
    ),
    "regional": RoleSpec(
        "regional",
        {"ru": "руководитель региона", "en": "regional head"},
        {
            "funnel": {},
            "plan": {"scope": "manager"},
            "warnings": {},
            "managers_compare": {},
            "managers_response": {},
            "managers_checklist": {},
            "managers_kpis": {},
            "customers_churn": {},
            "customers_rfm": {},
        },
        scope="region",
        summary="One region: its plan by manager, warnings, managers, key clients.",
    ),
    "manager": RoleSpec(
        "manager",
        {"ru": "менеджер", "en": "manager"},
        {
            "warnings": {},
            "customers_churn": {},
            "customers_clv": {},
            "customers_seasonality": {},
            "customers_rfm": {},
            "managers_response": {},
            "managers_kpis": {},
        },
        scope="manager",
        summary="Own clients and deals: plan, silent and seasonal clients, answers.",
        benchmark=frozenset({"managers_response", "managers_kpis"}),
    ),
    "marketer": RoleSpec(
        "marketer",
        {"ru": "маркетолог", "en": "marketer"},
        {
            "campaigns": {},
            "leads_sources": {},
            "leads_signals": {},
            "managers_response": {},
            "customers_factors": {},
            "customers_seasonality": {},
        },
        summary="Campaigns and sources: payback, which leads convert, seasons.",
    ),
    "analyst": RoleSpec(
        "analyst",
        {"ru": "аналитик", "en": "analyst"},
        {
            **_SALES,
            "warnings": {},
            "managers_activity": {},
            "managers_losses": {},
            "managers_credit": {},
            "customers_abc": {},
            "customers_clv": {},
            "customers_seasonality": {},
            "leads_sources": {},
            "leads_signals": {},
            "forecast": {},
            "journeys": {},
            "quality": {},
        },
        summary="Everything, with the data's own quality and the process as it runs.",
    ),
}
ROLES["admin"] = RoleSpec(
    "admin",
    {"ru": "администратор", "en": "administrator"},
    ROLES["head"].analyses,
    summary="Reads what the head of sales reads.",
)


def role_spec(role: str) -> RoleSpec:
    """The :class:`RoleSpec` of `role`; an :class:`InputError` naming the roles otherwise."""
    if role not in ROLES:
        raise InputError(
            f"unknown role {role!r}", reason="use " + ", ".join(sorted(ROLES))
        )
    return ROLES[role]


def analyses_for(role: str) -> list[str]:
    """Names of the analyses whose findings `role` gets, in the order they run."""
    return list(role_spec(role).analyses)


def params_for(role: str, analysis: str) -> dict[str, Any]:
    """Parameters `role` runs `analysis` with (a copy)."""
    return dict(role_spec(role).analyses.get(analysis, {}))


def is_benchmark(role: str, analysis: str) -> bool:
    """True when `role` runs `analysis` company-wide and keeps its own findings."""
    return analysis in role_spec(role).benchmark


def scope_required(role: str) -> ScopeKind | None:
    """The scope kind `role` must be given (region, manager) or None."""
    return role_spec(role).scope
