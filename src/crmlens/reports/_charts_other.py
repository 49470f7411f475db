"""Chart builders: leads, campaigns, data quality and the daily report (registered in :mod:`crmlens.reports.charts`)."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from crmlens.reports._chart_kit import (
    BLUE,
    GREY,
    LIGHT_BLUE,
    LIGHT_RED,
    LIGHTS,
    MAX_BARS,
    ORANGE,
    RED,
    Params,
    Rows,
    add_bars,
    add_column_bars,
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
def _campaigns(rows: Rows, lang: str, params: Params) -> go.Figure | None:
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
    add_bars(
        fig,
        names,
        romi,
        name="ROMI",
        colour=["#54a24b" if v >= 0 else RED for v in romi],
        text=[f"{v * 100:.0f}%" for v in romi],
        textposition="outside",
    )
    fig.add_vline(x=0, line_color=GREY)
    fig.update_xaxes(tickformat=".0%")
    fig.update_yaxes(autorange="reversed")
    return fig


@chart("leads_sources")
def _sources(rows: Rows, lang: str, params: Params) -> go.Figure | None:
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
    add_bars(
        fig,
        [short(r.get(key), 36) for r in rows],
        [num(r.get("lead_to_won_rate")) for r in rows],
        name=label("lead_to_won_rate", lang),
        colour=BLUE,
        text=[str(r.get("leads")) for r in rows],
        textposition="outside",
    )
    fig.update_xaxes(tickformat=".0%")
    fig.update_yaxes(autorange="reversed")
    return fig


# --- data quality, tables -----------------------------------------------------------------


@chart("quality")
def _quality(rows: Rows, lang: str, params: Params) -> go.Figure | None:
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
    add_bars(
        fig,
        names,
        scores,
        name=label("score", lang),
        colour=[
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
    fig.update_xaxes(range=[0, 100])
    return fig


# --- the daily report ---------------------------------------------------------------------


@chart("daily_activity")
def _daily_activity(rows: Rows, lang: str, params: Params) -> go.Figure | None:
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
    add_column_bars(fig, names, rows, cols, lang, value=lambda v: v or 0)
    return fig


@chart("daily_leads")
def _daily_leads(rows: Rows, lang: str, params: Params) -> go.Figure:
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
        values = [per[s][g] for s in sources]
        add_bars(fig, sources, values, name=names[g], colour=colours[g])
    fig.update_yaxes(autorange="reversed")
    return fig


@chart("daily_overdue")
def _overdue(rows: Rows, lang: str, params: Params) -> go.Figure:
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
        values = [per[n][b] for n in names]
        add_bars(fig, names, values, name=t(lang, f"{b} дн.", f"{b} d"), colour=colour)
    fig.update_yaxes(autorange="reversed")
    return fig


@chart("tables")
def _tables(rows: Rows, lang: str, params: Params) -> go.Figure:
    fig = new_figure(
        lang,
        t(lang, "Строк в таблицах", "Rows per table"),
        label("row_count", lang),
        label("table_name", lang),
        height=hbar_height(len(rows)),
    )
    add_bars(
        fig,
        [r["table_name"] for r in rows],
        [r["row_count"] for r in rows],
        name=label("row_count", lang),
        colour=LIGHT_BLUE,
    )
    fig.update_xaxes(type="log")
    return fig
