"""What each role may open: analyses, pages and drill-down tables.

Rows are limited by the scope (:mod:`crmlens.warehouse.scope`), applied once to the base
tables; this module limits *which* analyses a role opens. The marketer reads campaigns,
leads and sources but no money per manager, so every manager-level analysis, the plan and
forecast by manager, the warnings (money per owner) and deal drill-downs are closed to
them. Analyses added to the registry later are open to every other role without changes
here; a marketer gets only the ones listed.
"""

from __future__ import annotations

from crmlens.warehouse.scope import Scope
from crmlens.web.users import User

#: Analyses a marketer may open (no money per manager).
MARKETER_ANALYSES = frozenset(
    {
        "campaigns",
        "leads_sources",
        "leads_signals",
        "leads_score",
        "leads_rules",
        "managers_response",
        "customers_factors",
        "customers_seasonality",
        "customers_cohorts",
        "tables",
    }
)
#: Analyses the web never runs (they write to the warehouse when asked to).
HIDDEN = frozenset({"dedup"})
#: Base tables a drill-down may show, per role (the rest: all of DRILL_TABLES).
DRILL_TABLES = ("deals", "leads", "accounts", "orders", "activities", "deal_stages")
MARKETER_DRILL = ("leads",)
#: Pages of the app in menu order, and the analyses each needs at least one of.
PAGES: dict[str, frozenset[str]] = {
    "overview": frozenset(),
    "funnel": frozenset({"funnel"}),
    "journeys": frozenset({"journeys"}),
    "managers": frozenset({"managers_kpis", "managers_compare"}),
    "leads": frozenset({"leads_sources", "leads_signals", "leads_score"}),
    "customers": frozenset({"customers_rfm", "customers_abc", "customers_cohorts"}),
    "plan": frozenset({"plan", "forecast"}),
    "campaigns": frozenset({"campaigns"}),
    "quality": frozenset({"quality"}),
}


def can_run(user: User, analysis: str) -> bool:
    """True when `user`'s role may open `analysis`."""
    if analysis in HIDDEN:
        return False
    if user.role == "marketer":
        return analysis in MARKETER_ANALYSES
    return True


def can_drill(user: User, table: str) -> bool:
    """True when `user` may see the base rows of `table`."""
    allowed = MARKETER_DRILL if user.role == "marketer" else DRILL_TABLES
    return table in allowed


def pages_for(user: User) -> list[str]:
    """The pages in `user`'s menu."""
    return [
        page
        for page, needs in PAGES.items()
        if not needs or any(can_run(user, name) for name in needs)
    ]


def story_role(user: User) -> tuple[str, Scope | None]:
    """The role of :mod:`crmlens.insights.roles` whose story `user` reads, and its scope.

    A team lead reads the head's story of their team (their view is the team already).
    """
    if user.role == "teamlead":
        return "head", None
    if user.scope.kind == "company":
        return user.role, None
    return user.role, user.scope
