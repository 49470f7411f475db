"""The curated dashboard pages: which analyses each shows, with which parameters.

A page is a list of sections; each section is one registered analysis loaded lazily
(htmx) into its own fragment: chart, findings, sortable table, exports. Sections the
user's role may not open are left out. Any other registered analysis still has its own
generic page at ``/analysis/{name}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crmlens.insights.registry import REGISTRY
from crmlens.web.access import can_run
from crmlens.web.users import User


@dataclass(frozen=True)
class Section:
    """One lazily loaded block of a page."""

    analysis: str
    title: str  # a key of the UI catalogue
    params: dict[str, str] = field(default_factory=dict)
    rows: int = 30
    findings: bool = True  # False when an earlier section of the page shows them


PAGE_SECTIONS: dict[str, list[Section]] = {
    "funnel": [
        Section("funnel", "sec_funnel"),
        Section("funnel", "sec_funnel_month", {"by": "month"}, rows=60, findings=False),
        Section("funnel", "sec_funnel_velocity", {"velocity": "true"}, findings=False),
    ],
    "journeys": [
        Section("journeys", "sec_journeys", {"show": "variants"}),
        Section("journeys", "sec_journeys_graph", {"show": "graph"}, findings=False),
    ],
    "managers": [
        Section("managers_kpis", "sec_kpis"),
        Section("managers_compare", "sec_compare"),
        Section("managers_checklist", "sec_checklist"),
        Section("managers_response", "sec_response"),
    ],
    "leads": [
        Section("leads_sources", "sec_sources"),
        Section("leads_score", "sec_scores", rows=50),
        Section("leads_signals", "sec_signals"),
    ],
    "customers": [
        Section("customers_rfm", "sec_rfm"),
        Section("customers_abc", "sec_abc"),
        Section("customers_cohorts", "sec_cohorts", rows=40),
        Section("customers_seasonality", "sec_seasonality"),
        Section("customers_churn", "sec_churn"),
        Section("customers_clv", "sec_clv"),
    ],
    "plan": [
        Section("plan", "sec_plan"),
        Section("forecast", "sec_forecast"),
        Section("warnings", "sec_warnings"),
    ],
    "campaigns": [
        Section("campaigns", "sec_campaigns"),
        Section("leads_sources", "sec_campaign_leads", {"by": "campaign"}),
        Section("customers_factors", "sec_factors"),
    ],
    "quality": [Section("quality", "sec_quality", rows=60)],
}


def plan_level(user: User) -> str:
    """The plan rows a user reads: regions for the company, managers inside a region."""
    return "region" if user.scope.kind == "company" else "manager"


def sections_for(user: User, page: str) -> list[Section]:
    """The sections of `page` that `user` may open (the plan at the user's level)."""
    out = []
    for section in PAGE_SECTIONS.get(page, []):
        if section.analysis not in REGISTRY or not can_run(user, section.analysis):
            continue
        if section.analysis == "plan":
            params = {"scope": plan_level(user)}
            section = Section("plan", section.title, params, section.rows)
        out.append(section)
    return out
