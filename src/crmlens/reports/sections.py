"""What each report holds: its sections per period and role, and how each is shown.

A section is one registered analysis run with the report's `as_of` (and the parameters of
the reader's role from :mod:`crmlens.insights.roles`), shown as its chart, the top rows of a
table and its findings. The daily report has the day's activity, new leads and overdue
tasks; the weekly one the funnel, the plan and warnings; the monthly one everything,
customers and data quality included. A section whose tables are empty is left out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import pyarrow as pa

Period = Literal["day", "week", "month"]
PERIODS: tuple[Period, ...] = ("day", "week", "month")
Summary = Callable[["pa.Table"], "pa.Table"]


@dataclass(frozen=True)
class SectionSpec:
    """One section of a report.

    Attributes
    ----------
    key
        Its id (HTML anchor, XLSX sheet).
    analysis
        The registered analysis it runs.
    title
        RU and EN heading.
    periods
        The reports it is part of.
    needs
        Tables that must have rows for the section to be run.
    params
        Parameters of the analysis (the role's own parameters take precedence).
    columns
        Columns of the top-rows table (None: all).
    sort
        Column the top rows are ordered by, descending unless `ascending`.
    summary
        Rows → the rows shown (e.g. clients → segments); XLSX keeps the full rows.
    keep
        Rows → the rows to show (e.g. failed checks only).
    kinds
        Number formats that the column name alone would get wrong.
    skip_roles
        Roles that do not get the section.
    from_findings
        Show the findings (in the report's language) as the table instead of the rows.
    """

    key: str
    analysis: str
    title: tuple[str, str]
    periods: frozenset[Period]
    needs: tuple[str, ...]
    params: dict[str, Any] = field(default_factory=dict)
    columns: tuple[str, ...] | None = None
    sort: str | None = None
    ascending: bool = False
    top: int = 15
    summary: Summary | None = None
    kinds: dict[str, str] = field(default_factory=dict)
    skip_roles: frozenset[str] = frozenset()
    from_findings: bool = False

    def heading(self, lang: str) -> str:
        """The title in `lang`."""
        return self.title[0] if lang == "ru" else self.title[1]


DAY: frozenset[Period] = frozenset({"day"})
WEEK_MONTH: frozenset[Period] = frozenset({"week", "month"})
MONTH: frozenset[Period] = frozenset({"month"})
_NOT_MARKETING = frozenset({"marketer"})
_NOT_MANAGER = frozenset({"manager"})


def _rfm_segments(rows: pa.Table) -> pa.Table:
    import pyarrow as pa
    import pyarrow.compute as pc

    seg = "segment_ru" if "segment_ru" in rows.column_names else "segment"
    grouped = rows.group_by(
        [seg, "segment_en"] if seg == "segment_ru" else [seg]
    ).aggregate(
        [
            ("account_id", "count"),
            ("monetary", "sum"),
            ("days_since_last_order", "approximate_median"),
        ]
    )
    grouped = grouped.rename_columns(
        [
            {
                "account_id_count": "clients",
                "monetary_sum": "monetary",
                "days_since_last_order_approximate_median": "days_since_last_order",
            }.get(c, c)
            for c in grouped.column_names
        ]
    )
    order = pc.sort_indices(grouped, sort_keys=[("monetary", "descending")])
    return pa.Table.take(grouped, order)


def _cohort_summary(rows: pa.Table) -> pa.Table:
    import pyarrow as pa

    cells: dict[Any, dict[int, float | None]] = {}
    size: dict[Any, int] = {}
    for r in rows.to_pylist():
        cells.setdefault(r["cohort"], {})[int(r["period_index"])] = r["retention_rate"]
        size[r["cohort"]] = r["cohort_size"]
    out = []
    for cohort in sorted(cells, reverse=True)[:12]:
        row: dict[str, Any] = {"cohort": cohort, "cohort_size": size[cohort]}
        for k in (1, 3, 6, 12):
            row[f"retention_m{k}"] = cells[cohort].get(k)
        out.append(row)
    return pa.Table.from_pylist(out)


def _silent_clients(rows: pa.Table) -> pa.Table:
    import pyarrow.compute as pc

    return rows.filter(pc.not_equal(rows["status"], "active"))


def _failed_checks(rows: pa.Table) -> pa.Table:
    import pyarrow.compute as pc

    return rows.filter(pc.greater(rows["failed"], 0))


def _with_target(rows: pa.Table) -> pa.Table:
    import pyarrow.compute as pc

    return rows.filter(pc.is_valid(rows["target_amount"]))


def _last_periods(rows: pa.Table) -> pa.Table:
    return rows.slice(max(rows.num_rows - 12, 0))


SECTIONS: tuple[SectionSpec, ...] = (
    # the day
    SectionSpec(
        "activity", "daily_activity", ("Дела за день", "Activity of the day"), DAY,
        ("activities", "managers"),
        columns=("manager_id", "name", "calls", "meetings", "visits", "emails",
                 "tasks_done", "activities", "client_minutes"),
        sort="activities", top=50, skip_roles=_NOT_MARKETING,
    ),
    SectionSpec(
        "new_leads", "daily_leads",
        ("Новые заявки и первые ответы", "New leads and their first answers"), DAY,
        ("leads",),
        columns=("lead_id", "created_at", "owner_id", "name", "source",
                 "first_response_at", "first_response_hours", "is_in_sla"),
        sort="created_at", ascending=True, top=50,
    ),
    SectionSpec(
        "overdue", "daily_overdue", ("Просроченные задачи", "Overdue tasks"), DAY,
        ("activities",),
        columns=("activity_id", "manager_id", "name", "account_id", "deal_id", "due_at",
                 "days_overdue"),
        sort="due_at", top=25, skip_roles=_NOT_MARKETING,
    ),
    # the week and the month
    SectionSpec(
        "plan", "plan", ("План и факт", "Plan vs fact"), WEEK_MONTH,
        ("targets", "deals"),
        params={"scope": "region"},
        columns=("scope_id", "target_amount", "fact_amount", "forecast_amount",
                 "forecast_p10", "forecast_p90", "reach_probability", "light",
                 "gap_amount", "deals_needed"),
        summary=_with_target,
    ),
    SectionSpec(
        "funnel", "funnel", ("Воронка продаж", "Sales funnel"), WEEK_MONTH,
        ("deals", "deal_stages", "pipelines"),
        columns=("pipeline_id", "stage", "reached", "conversion_to_next",
                 "conversion_from_start", "median_days_in_stage", "open_now",
                 "lost_after"),
        top=30,
    ),
    SectionSpec(
        "warnings", "warnings", ("Предупреждения", "Warnings"), WEEK_MONTH,
        ("deals",),
        sort="impact", top=20, from_findings=True,
    ),
    # the month
    SectionSpec(
        "forecast", "forecast", ("Прогноз выручки", "Revenue forecast"), MONTH,
        ("orders",),
        columns=("level_id", "period", "forecast_amount", "clients_count"),
    ),
    SectionSpec(
        "managers", "managers_kpis", ("Менеджеры: показатели месяца", "Managers: KPIs of the month"),
        MONTH, ("deals", "managers"),
        params={"period": "month"},
        columns=("manager_id", "name", "deals_created", "deals_won", "win_rate", "revenue",
                 "plan_revenue", "plan_fact_rate", "average_check", "median_cycle_days",
                 "calls", "meetings", "overdue_tasks", "median_first_response_hours"),
        sort="revenue", skip_roles=_NOT_MARKETING,
    ),
    SectionSpec(
        "managers_fair", "managers_compare",
        ("Честное сравнение менеджеров", "Fair comparison of managers"), MONTH,
        ("deals", "managers"),
        columns=("manager_id", "name", "deals_closed", "win_rate", "expected_win_rate",
                 "mix_index", "mix_index_low", "mix_index_high", "rank_raw",
                 "rank_adjusted"),
        sort="mix_index", skip_roles=_NOT_MARKETING | _NOT_MANAGER,
    ),
    SectionSpec(
        "rfm", "customers_rfm", ("Клиенты: сегменты RFM", "Clients: RFM segments"), MONTH,
        ("orders",),
        summary=_rfm_segments,
        kinds={"days_since_last_order": "float"},
    ),
    SectionSpec(
        "abc", "customers_abc", ("Клиенты: ABC×XYZ", "Clients: ABC×XYZ"), MONTH,
        ("orders",),
        params={"matrix": True},
        kinds={"value": "money"},
    ),
    SectionSpec(
        "cohorts", "customers_cohorts", ("Клиенты: когорты", "Clients: cohorts"), MONTH,
        ("orders",),
        summary=_cohort_summary,
        kinds={"retention_m1": "percent", "retention_m3": "percent",
               "retention_m6": "percent", "retention_m12": "percent", "value": "percent"},
    ),
    SectionSpec(
        "churn", "customers_churn",
        ("Клиенты, что молчат дольше обычного", "Clients silent longer than usual"), MONTH,
        ("orders",),
        columns=("account_id", "status", "orders_count", "last_order_date",
                 "days_since_last_order", "usual_gap_days", "revenue_at_stake"),
        summary=_silent_clients, sort="revenue_at_stake", top=20,
    ),
    SectionSpec(
        "factors", "customers_factors", ("Почему менялась выручка", "Why revenue moved"),
        MONTH, ("orders", "leads"),
        columns=("period", "leads", "clients", "revenue", "revenue_change", "leads_effect",
                 "conversion_effect", "average_check_effect", "orders_per_client_effect"),
        summary=_last_periods,
    ),
    SectionSpec(
        "campaigns", "campaigns", ("Кампании", "Campaigns"), MONTH,
        ("campaigns", "leads"),
        columns=("campaign_id", "name", "cost_amount", "leads_count", "won_count",
                 "revenue_amount", "cpl_amount", "cac_amount", "romi"),
        sort="romi", skip_roles=_NOT_MANAGER,
    ),
    SectionSpec(
        "sources", "leads_sources", ("Источники заявок", "Lead sources"), MONTH,
        ("leads",),
        columns=("source", "leads", "qualified_rate", "deal_rate", "win_rate",
                 "lead_to_won_rate", "revenue", "cost", "romi"),
        sort="revenue", skip_roles=_NOT_MANAGER,
    ),
    SectionSpec(
        "quality", "quality", ("Качество данных", "Data quality"), MONTH,
        ("deals",),
        columns=("check", "requirement", "table", "column", "failed", "total", "share",
                 "severity"),
        summary=_failed_checks, sort="share", top=20, skip_roles=_NOT_MARKETING,
    ),
)  # fmt: skip


#: How the plan breaks down for a reader of each scope kind.
PLAN_SCOPE = {
    "company": "region",
    "region": "team",
    "team": "manager",
    "manager": "manager",
}
#: The level of the revenue forecast for a reader of each scope kind.
FORECAST_LEVEL = {
    "company": "region",
    "region": "manager",
    "team": "manager",
    "manager": "manager",
}


def sections_for(period: str, role: str) -> list[SectionSpec]:
    """The sections of the `period` report for `role`, in reading order."""
    return [s for s in SECTIONS if period in s.periods and role not in s.skip_roles]
