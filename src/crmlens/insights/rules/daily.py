"""The day in the CRM (the daily report): activity, new leads and their answers, overdue tasks.

Three analyses over one day — `as_of` (default: the data's last day): ``daily_activity``,
``daily_leads`` and ``daily_overdue``. They are not in the overview (a day is too short to
rank money by); their findings name who needs to act today.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from crmlens.insights.findings import Finding
from crmlens.insights.params import resolve_as_of
from crmlens.insights.registry import AnalysisResult, register
from crmlens.insights.rules._money import both

if TYPE_CHECKING:
    import pyarrow as pa

    from crmlens.warehouse import Warehouse

_ZERO_COLUMNS = (
    "calls",
    "meetings",
    "visits",
    "emails",
    "tasks_done",
    "activities",
    "client_minutes",
)


def _names(wh: Warehouse) -> dict[str, str]:
    rows = wh.managers.select("manager_id", "name").to_pyarrow().to_pylist()
    return {r["manager_id"]: r["name"] for r in rows}


def _who(names: dict[str, str], manager_id: str | None) -> str:
    if manager_id is None:
        return "—"
    name = names.get(manager_id)
    return f"{name} ({manager_id})" if name else str(manager_id)


def _add_names(rows: pa.Table, names: dict[str, str], column: str) -> pa.Table:
    import pyarrow as pa

    values = [names.get(v) if v else None for v in rows.column(column).to_pylist()]
    at = rows.schema.get_field_index(column) + 1
    return rows.add_column(at, "name", pa.array(values, pa.string()))


@register(
    "daily_activity",
    "The day's activity of each manager: calls, meetings, visits, e-mails, tasks done",
    in_overview=False,
)
def activity(
    wh: Warehouse, *, as_of: str | dt.date | None = None, **_: Any
) -> AnalysisResult:
    """One row per active manager (zeros for those with nothing on the day)."""
    import pyarrow as pa

    from crmlens.analytics.daily import day_activity

    day = resolve_as_of(wh, as_of)
    names = _names(wh)
    got = {
        r["manager_id"]: r
        for r in day_activity(wh.activities, day=day).to_pyarrow().to_pylist()
    }
    active = _active_managers(wh)
    ids = sorted(set(active) | set(got))
    rows: list[dict[str, Any]] = [
        {
            "manager_id": m,
            "name": names.get(m),
            **{c: (got.get(m) or {}).get(c) or 0 for c in _ZERO_COLUMNS},
        }
        for m in ids
    ]
    table = pa.Table.from_pylist(rows, schema=_activity_schema())
    findings = _idle_findings(rows, names, day, set(active))
    return AnalysisResult("daily_activity", {"as_of": day.isoformat()}, table, findings)


def _activity_schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema(
        [("manager_id", pa.string()), ("name", pa.string())]
        + [(c, pa.int64()) for c in _ZERO_COLUMNS[:-1]]
        + [("client_minutes", pa.float64())]
    )


def _active_managers(wh: Warehouse) -> list[str]:
    m = wh.managers
    if "active" in m.columns:
        m = m.filter(m.active.isnull() | m.active)
    return [v for v in m.manager_id.to_pyarrow().to_pylist() if v]


def _idle_findings(
    rows: list[dict[str, Any]], names: dict[str, str], day: dt.date, active: set[str]
) -> list[Finding]:
    """Active managers with no client contact on a day when most colleagues had some."""
    client = {r["manager_id"]: r["calls"] + r["meetings"] + r["visits"] for r in rows}
    working = [m for m in active if client.get(m, 0) > 0]
    idle = sorted(m for m in active if client.get(m, 0) == 0)
    if not idle or len(working) < max(2, len(active) // 2):
        return []  # a weekend or a holiday, or too few managers to compare
    typical = sorted(client[m] for m in working)[len(working) // 2]
    who_ru = ", ".join(_who(names, m) for m in idle)
    return [
        Finding(
            analysis="daily_activity",
            kind="no_client_contact",
            severity="medium",
            subject={
                "type": "manager",
                "id": idle[0] if len(idle) == 1 else None,
                "ids": idle,
            },
            metric="client_activities",
            value=0,
            baseline=typical,
            impact=None,
            period=day.isoformat(),
            text=both(
                f"{day:%d.%m.%Y} без звонков, встреч и выездов: {who_ru}; "
                f"у коллег обычно {typical} в день.",
                f"No calls, meetings or visits on {day.isoformat()}: {who_ru}; "
                f"colleagues typically had {typical}.",
            ),
            action=both(
                "Спросите сегодня, что помешало: отпуск, болезнь, CRM не заполнена "
                "или клиентов не хватает.",
                "Ask today what got in the way: leave, illness, an unfilled CRM or "
                "too few clients.",
            ),
            evidence={"idle": idle, "typical_client_activities": typical},
        )
    ]


@register(
    "daily_leads",
    "Leads of the day and their first answers: in time, late, unanswered",
    in_overview=False,
)
def leads(
    wh: Warehouse,
    *,
    as_of: str | dt.date | None = None,
    sla: str | float = "1h",
    **_: Any,
) -> AnalysisResult:
    """One row per lead created on the day, with its first response."""
    from crmlens.analytics.daily import day_leads
    from crmlens.analytics.managers_activity import first_response
    from crmlens.insights.rules.managers_behaviour import parse_hours

    day = resolve_as_of(wh, as_of)
    sla_hours = parse_hours(sla)
    resp = first_response(wh.leads, wh.activities, as_of=day)
    expr = day_leads(resp, wh.leads, day=day, sla_hours=sla_hours)
    rows = expr.order_by("created_at", "lead_id").to_pyarrow()
    names = _names(wh)
    rows = _add_names(rows, names, "owner_id")
    findings = _unanswered_findings(rows.to_pylist(), names, day, sla_hours)
    params = {"as_of": day.isoformat(), "sla_hours": sla_hours}
    return AnalysisResult("daily_leads", params, rows, findings)


def _unanswered_findings(
    rows: list[dict[str, Any]], names: dict[str, str], day: dt.date, sla_hours: float
) -> list[Finding]:
    from crmlens.insights.i18n import fmt_number

    waiting = [r for r in rows if not r["is_answered"]]
    late = [r for r in rows if r["is_answered"] and not r["is_in_sla"]]
    if not waiting and not late:
        return []
    per: dict[str, int] = {}
    for r in waiting:
        per[r["owner_id"] or "—"] = per.get(r["owner_id"] or "—", 0) + 1
    top = sorted(per.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    who_ru = ", ".join(f"{_who(names, m)} — {n}" for m, n in top)
    sla_ru, sla_en = (
        fmt_number(sla_hours, "ru", 1 if sla_hours % 1 else 0),
        fmt_number(sla_hours, "en", 1 if sla_hours % 1 else 0),
    )
    n = len(rows)
    return [
        Finding(
            analysis="daily_leads",
            kind="leads_waiting",
            severity="high" if waiting else "medium",
            subject={"type": "day", "id": day.isoformat()},
            metric="unanswered_leads",
            value=len(waiting),
            baseline=None,
            impact=None,
            period=day.isoformat(),
            text=both(
                _leads_text(n, waiting, late, day, sla_ru, who_ru, "ru"),
                _leads_text(n, waiting, late, day, sla_en, who_ru, "en"),
            ),
            action=both(
                "Ответьте на ждущие заявки сегодня утром, начиная с самых старых.",
                "Answer the waiting leads this morning, oldest first.",
            ),
            evidence={
                "unanswered": [r["lead_id"] for r in waiting][:50],
                "late": [r["lead_id"] for r in late][:50],
                "sla_hours": sla_hours,
            },
        )
    ]


def _leads_text(
    n: int,
    waiting: list[Any],
    late: list[Any],
    day: dt.date,
    sla: str,
    who: str,
    lang: str,
) -> str:
    """The gist first (the story's title is the first sentence), then the details."""
    from crmlens.insights.i18n import count

    if lang == "ru":
        date = f"{day:%d.%m.%Y}"
        head = (
            f"{count(len(waiting), 'lead', 'ru')} из {n} за {date} ещё без ответа"
            if waiting
            else f"На все {count(n, 'lead', 'ru')} за {date} ответили"
        )
        tail = f"; позже {sla} ч ответили на {len(late)}." if late else "."
        more = f" Больше всего ждут у: {who}." if waiting else ""
        return head + tail + more
    date = day.isoformat()
    head = (
        f"{count(len(waiting), 'lead', 'en')} of {n} on {date} still wait for an answer"
        if waiting
        else f"All {count(n, 'lead', 'en')} on {date} got an answer"
    )
    tail = f"; {len(late)} were answered after {sla} h." if late else "."
    more = f" Most waiting: {who}." if waiting else ""
    return head + tail + more


@register(
    "daily_overdue",
    "Tasks past their due date and not done, most overdue first",
    in_overview=False,
)
def overdue(
    wh: Warehouse, *, as_of: str | dt.date | None = None, **_: Any
) -> AnalysisResult:
    """One row per overdue task at the end of the day."""
    from crmlens.analytics.daily import overdue_task_list

    day = resolve_as_of(wh, as_of)
    rows = overdue_task_list(wh.activities, day=day).to_pyarrow()
    names = _names(wh)
    if "manager_id" in rows.column_names:
        rows = _add_names(rows, names, "manager_id")
    findings = _overdue_findings(rows.to_pylist(), names, day)
    return AnalysisResult("daily_overdue", {"as_of": day.isoformat()}, rows, findings)


def _overdue_findings(
    rows: list[dict[str, Any]], names: dict[str, str], day: dt.date
) -> list[Finding]:
    from crmlens.insights.i18n import count

    if not rows:
        return []
    per: dict[str, int] = {}
    for r in rows:
        m = r.get("manager_id") or "—"
        per[m] = per.get(m, 0) + 1
    top = sorted(per.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    week = sum(1 for r in rows if r["days_overdue"] > 7)
    return [
        Finding(
            analysis="daily_overdue",
            kind="overdue_backlog",
            severity="high" if week else "medium",
            subject={"type": "day", "id": day.isoformat()},
            metric="overdue_tasks",
            value=len(rows),
            baseline=None,
            impact=None,
            period=day.isoformat(),
            text=both(
                f"{count(len(rows), 'task', 'ru')} просрочено на конец {day:%d.%m.%Y}, "
                f"из них дольше недели — {week}. Больше всего: "
                + ", ".join(f"{_who(names, m)} — {n}" for m, n in top)
                + ".",
                f"{count(len(rows), 'task', 'en')} overdue at the end of {day.isoformat()}, "
                f"{week} of them by more than a week. Most: "
                + ", ".join(f"{_who(names, m)} — {n}" for m, n in top)
                + ".",
            ),
            action=both(
                "Разберите просрочку с менеджерами: закройте сделанное, перенесите "
                "нужное с новым сроком, удалите лишнее.",
                "Go through the overdue tasks with the managers: close what is done, "
                "reschedule what is needed, delete the rest.",
            ),
            evidence={"by_manager": dict(top), "over_a_week": week},
        )
    ]
