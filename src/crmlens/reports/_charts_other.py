"""Chart builders: leads, campaigns, data quality and the daily report (registered in :mod:`crmlens.reports.charts`)."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from crmlens.reports._chart_kit import (
    BLUE,
    GREY,
    LIGHT_BLUE,
    LIGHT_RED,
    LIGHTS,
    MAX_BARS,
    ORANGE,
    RED,
    SERIES,
    chart,
    hbar_height,
    new_figure,
    num,
    short,
    t,
    who,
)
from crmlens.reports.cells import REQUIREMENT_NAMES
from crmlens.reports.labels import label

if TYPE_CHECKING:
    import plotly.graph_objects as go


# --- leads, campaigns ---------------------------------------------------------------------


@chart("campaigns")
def _campaigns(
    rows: list[dict[str, Any]], lang: str, params: dict[str, Any]
) -> go.Figure | None:
    import plotly.graph_objects as go

    rows = [r for r in rows if num(r.get("romi")) is not None]
    if not rows:
        return None
    rows = sorted(rows, key=lambda r: -(num(r.get("romi")) or 0.0))[:MAX_BARS]
    names = [
        short(r.get("name") or r.get("campaign_id") or r.get(next(iter(r))), 40)
        for r in rows
    ]
    romi = [num(r.get("romi")) or 0.0 for r in rows]
    fig = new_figure(
        lang,
        t(
            lang,
            "Окупаемость кампаний (ROMI): выручка минус затраты к затратам",
            "Campaign payback (ROMI): revenue minus cost over cost",
        ),
        label("romi", lang),
        label("campaign_id", lang),
        height=hbar_height(len(rows)),
    )
    fig.add_trace(
        go.Bar(
            y=names,
            x=romi,
            orientation="h",
            name="ROMI",
            marker_color=["#54a24b" if v >= 0 else RED for v in romi],
            text=[f"{v * 100:.0f}%" for v in romi],
            textposition="outside",
        )
    )
    fig.add_vline(x=0, line_color=GREY)
    fig.update_xaxes(tickformat=".0%")
    fig.update_yaxes(autorange="reversed")
    return fig


@chart("leads_sources")
def _sources(
    rows: list[dict[str, Any]], lang: str, params: dict[str, Any]
) -> go.Figure | None:
    import plotly.graph_objects as go

    key = next(
        (c for c in ("source", "channel", "campaign_id", "campaign") if c in rows[0]),
        None,
    )
    if key is None or "lead_to_won_rate" not in rows[0]:
        return None
    rows = sorted(rows, key=lambda r: -(num(r.get("lead_to_won_rate")) or 0.0))[
        :MAX_BARS
    ]
    fig = new_figure(
        lang,
        t(
            lang,
            "Источники заявок: доля заявок, ставших продажей (число заявок у столбца)",
            "Lead sources: share of leads that became a sale (leads at the bar)",
        ),
        label("lead_to_won_rate", lang),
        label(key, lang),
        height=hbar_height(len(rows)),
    )
    fig.add_trace(
        go.Bar(
            y=[short(r.get(key), 36) for r in rows],
            x=[num(r.get("lead_to_won_rate")) for r in rows],
            orientation="h",
            marker_color=BLUE,
            text=[str(r.get("leads")) for r in rows],
            textposition="outside",
            name=label("lead_to_won_rate", lang),
        )
    )
    fig.update_xaxes(tickformat=".0%")
    fig.update_yaxes(autorange="reversed")
    return fig


# --- data quality, tables -----------------------------------------------------------------


@chart("quality")
def _quality(
    rows: list[dict[str, Any]], lang: str, params: dict[str, Any]
) -> go.Figure | None:
    import plotly.graph_objects as go

    if "score" in rows[0]:
        key = "manager_id" if "manager_id" in rows[0] else next(iter(rows[0]))
        rows = sorted(rows, key=lambda r: num(r.get("score")) or 0.0)
        names = [who(r) if key == "manager_id" else short(r.get(key)) for r in rows]
        scores = [num(r.get("score")) for r in rows]
        title = t(
            lang,
            "Качество данных по менеджерам, 0–100",
            "Data quality by manager, 0–100",
        )
        axis = label("manager", lang)
    else:
        req = (params.get("scores") or {}).get("requirement") or {}
        if not req:
            return None
        names = [
            REQUIREMENT_NAMES.get(k, (k, k))[0 if lang == "ru" else 1].capitalize()
            for k in req
        ]
        scores = [num(v) for v in req.values()]
        order = sorted(range(len(names)), key=lambda i: scores[i] or 0.0)
        names, scores = [names[i] for i in order], [scores[i] for i in order]
        title = t(
            lang,
            "Качество данных по требованиям, 0–100",
            "Data quality by requirement, 0–100",
        )
        axis = label("requirement", lang)
    fig = new_figure(
        lang, title, label("score", lang), axis, height=hbar_height(len(names))
    )
    fig.add_trace(
        go.Bar(
            y=names,
            x=scores,
            orientation="h",
            name=label("score", lang),
            marker_color=[
                LIGHTS["green"]
                if (s or 0) >= 95
                else LIGHTS["yellow"]
                if (s or 0) >= 85
                else LIGHTS["red"]
                for s in scores
            ],
            text=[f"{s:.1f}" if s is not None else "" for s in scores],
            textposition="inside",
        )
    )
    fig.update_xaxes(range=[0, 100])
    return fig


# --- the daily report ---------------------------------------------------------------------


@chart("daily_activity")
def _daily_activity(
    rows: list[dict[str, Any]], lang: str, params: dict[str, Any]
) -> go.Figure | None:
    import plotly.graph_objects as go

    cols = [
        c
        for c in ("calls", "meetings", "visits", "emails", "tasks_done")
        if c in rows[0]
    ]
    rows = [r for r in rows if r.get("manager_id") is not None]
    if not cols or not rows:
        return None
    names = [who(r) for r in rows]
    fig = new_figure(
        lang,
        t(lang, "Дела менеджеров за день", "Activities of each manager in the day"),
        label("manager", lang),
        label("activities", lang),
        barmode="stack",
    )
    for i, c in enumerate(cols):
        fig.add_trace(
            go.Bar(
                x=names,
                y=[r.get(c) or 0 for r in rows],
                name=label(c, lang),
                marker_color=SERIES[i % len(SERIES)],
            )
        )
    return fig


@chart("daily_leads")
def _daily_leads(
    rows: list[dict[str, Any]], lang: str, params: dict[str, Any]
) -> go.Figure:
    import plotly.graph_objects as go

    groups = ("in_sla", "late", "unanswered")
    per: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(groups, 0))
    for r in rows:
        answered, in_sla = r.get("is_answered"), r.get("is_in_sla")
        g = "unanswered" if not answered else "in_sla" if in_sla else "late"
        per[str(r.get("source") or "—")][g] += 1
    sources = sorted(per, key=lambda s: -sum(per[s].values()))
    names = {
        "in_sla": t(lang, "Ответили вовремя", "Answered in time"),
        "late": t(lang, "Ответили поздно", "Answered late"),
        "unanswered": t(lang, "Без ответа", "Unanswered"),
    }
    colours = {"in_sla": "#8fd19e", "late": "#ffe08a", "unanswered": "#f5a3a3"}
    fig = new_figure(
        lang,
        t(
            lang,
            "Новые заявки за день и первые ответы по источникам",
            "New leads of the day and their first answers, by source",
        ),
        label("leads", lang),
        label("source", lang),
        barmode="stack",
        height=hbar_height(len(sources)),
    )
    for g in groups:
        fig.add_trace(
            go.Bar(
                y=sources,
                x=[per[s][g] for s in sources],
                orientation="h",
                name=names[g],
                marker_color=colours[g],
            )
        )
    fig.update_yaxes(autorange="reversed")
    return fig


@chart("daily_overdue")
def _overdue(
    rows: list[dict[str, Any]], lang: str, params: dict[str, Any]
) -> go.Figure:
    import plotly.graph_objects as go

    buckets = [(1, "1"), (3, "2–3"), (7, "4–7"), (30, "8–30"), (10**9, ">30")]
    per: dict[str, dict[str, int]] = defaultdict(lambda: {b: 0 for _, b in buckets})
    for r in rows:
        days = int(r.get("days_overdue") or 0)
        name = who(r)
        per[name][next(b for limit, b in buckets if days <= limit)] += 1
    names = sorted(per, key=lambda n: -sum(per[n].values()))
    fig = new_figure(
        lang,
        t(
            lang,
            "Просроченные задачи по менеджерам и дням просрочки",
            "Overdue tasks by manager and days overdue",
        ),
        label("overdue_tasks", lang),
        label("manager", lang),
        barmode="stack",
        height=hbar_height(len(names)),
    )
    scale = ["#ffe08a", "#f9c57a", ORANGE, LIGHT_RED, RED]
    for (_, b), colour in zip(buckets, scale, strict=True):
        fig.add_trace(
            go.Bar(
                y=names,
                x=[per[n][b] for n in names],
                orientation="h",
                name=t(lang, f"{b} дн.", f"{b} d"),
                marker_color=colour,
            )
        )
    fig.update_yaxes(autorange="reversed")
    return fig


@chart("tables")
def _tables(rows: list[dict[str, Any]], lang: str, params: dict[str, Any]) -> go.Figure:
    import plotly.graph_objects as go

    fig = new_figure(
        lang,
        t(lang, "Строк в таблицах", "Rows per table"),
        label("row_count", lang),
        label("table_name", lang),
        height=hbar_height(len(rows)),
    )
    fig.add_trace(
        go.Bar(
            y=[r["table_name"] for r in rows],
            x=[r["row_count"] for r in rows],
            orientation="h",
            marker_color=LIGHT_BLUE,
            name=label("row_count", lang),
        )
    )
    fig.update_xaxes(type="log")
    return fig
