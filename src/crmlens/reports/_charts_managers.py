"""Chart builders: managers (registered in :mod:`crmlens.reports.charts`)."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from crmlens.reports._chart_kit import (
    BLUE,
    LIGHT_BLUE,
    LIGHT_GREY,
    MAX_BARS,
    SERIES,
    chart,
    hbar_height,
    interval_chart,
    new_figure,
    num,
    short,
    t,
    who,
)
from crmlens.reports.labels import label

if TYPE_CHECKING:
    import plotly.graph_objects as go


# --- managers -----------------------------------------------------------------------------


@chart("managers_kpis")
def _kpis(rows: list[dict[str, Any]], lang: str, params: dict[str, Any]) -> go.Figure:
    import plotly.graph_objects as go

    rows = sorted(rows, key=lambda r: -(num(r.get("revenue")) or 0.0))[:MAX_BARS]
    names = [who(r) for r in rows]
    fig = new_figure(
        lang,
        t(
            lang,
            "Выручка менеджеров за период и их план",
            "Revenue of each manager in the period and the plan",
        ),
        label("manager", lang),
        t(lang, "Выручка, ₽", "Revenue, RUB"),
        barmode="group",
    )
    if any(num(r.get("plan_revenue")) for r in rows):
        fig.add_trace(
            go.Bar(
                x=names,
                y=[num(r.get("plan_revenue")) for r in rows],
                name=label("plan_revenue", lang),
                marker_color=LIGHT_GREY,
            )
        )
    fig.add_trace(
        go.Bar(
            x=names,
            y=[num(r.get("revenue")) for r in rows],
            name=label("revenue", lang),
            marker_color=BLUE,
            text=[f"{(num(r.get('win_rate')) or 0) * 100:.0f}%" for r in rows],
            textposition="outside",
            hovertemplate="%{x}: %{y:,.0f}<extra></extra>",
        )
    )
    return fig


@chart("managers_compare")
def _compare(
    rows: list[dict[str, Any]], lang: str, params: dict[str, Any]
) -> go.Figure:
    rows = sorted(rows, key=lambda r: r.get("rank_adjusted") or 10**6)
    return interval_chart(
        rows,
        lang,
        names=[who(r) for r in rows],
        value="mix_index",
        low="mix_index_low",
        high="mix_index_high",
        title=t(
            lang,
            "Честное сравнение: факт к ожидаемому при таком составе клиентов "
            "(1 = как компания), с интервалом",
            "Fair comparison: actual vs expected win rate for the manager's mix "
            "(1 = company level), with the interval",
        ),
        axis=label("mix_index", lang),
        y_axis=label("manager", lang),
    )


@chart("managers_checklist")
def _checklist(
    rows: list[dict[str, Any]], lang: str, params: dict[str, Any]
) -> go.Figure | None:
    if "lift" not in rows[0]:
        return None
    rows = sorted(rows, key=lambda r: -(num(r.get("lift")) or 0.0))
    key = "item" if "item" in rows[0] else next(iter(rows[0]))
    return interval_chart(
        rows,
        lang,
        names=[short(r.get(key), 36) for r in rows],
        value="lift",
        low="lift_low",
        high="lift_high",
        title=t(
            lang,
            "Пункты чек-листа звонка: во сколько раз чаще выигрывают, "
            "если пункт выполнен",
            "Call checklist items: how much more often deals "
            "are won when the item was done",
        ),
        axis=label("lift", lang),
        y_axis=label(key, lang),
    )


@chart("leads_signals")
def _signals(
    rows: list[dict[str, Any]], lang: str, params: dict[str, Any]
) -> go.Figure | None:
    ranked = sorted(
        (r for r in rows if (num(r.get("lift")) or 0) > 0),
        key=lambda r: -abs(math.log(num(r.get("lift")) or 1.0)),
    )[:MAX_BARS]
    if not ranked:
        return None
    return interval_chart(
        ranked,
        lang,
        names=[short(f"{r.get('attribute')}: {r.get('value')}", 40) for r in ranked],
        value="lift",
        low="ci_low",
        high="ci_high",
        title=t(
            lang,
            "Признаки заявок: во сколько раз конверсия выше средней",
            "Lead attributes: conversion relative to the average",
        ),
        axis=label("lift", lang),
        y_axis=label("attribute", lang),
    )


@chart("managers_response")
def _response(
    rows: list[dict[str, Any]], lang: str, params: dict[str, Any]
) -> go.Figure | None:
    import plotly.graph_objects as go

    if "median_first_response_hours" not in rows[0]:
        return None
    rows = sorted(rows, key=lambda r: num(r.get("median_first_response_hours")) or 0.0)
    key = "manager_id" if "manager_id" in rows[0] else next(iter(rows[0]))
    names = [who(r) if key == "manager_id" else short(r.get(key)) for r in rows]
    fig = new_figure(
        lang,
        t(
            lang,
            "Скорость первого ответа на заявку (медиана и 90% ответов)",
            "Speed to lead: median and 90th percentile of the first response",
        ),
        t(lang, "Часы", "Hours"),
        label("manager", lang),
        barmode="overlay",
        height=hbar_height(len(rows)),
    )
    fig.add_trace(
        go.Bar(
            y=names,
            x=[num(r.get("p90_first_response_hours")) for r in rows],
            orientation="h",
            name=label("p90_first_response_hours", lang),
            marker_color=LIGHT_BLUE,
        )
    )
    fig.add_trace(
        go.Bar(
            y=names,
            x=[num(r.get("median_first_response_hours")) for r in rows],
            orientation="h",
            name=label("median_first_response_hours", lang),
            marker_color=BLUE,
            width=0.4,
        )
    )
    fig.update_yaxes(autorange="reversed")
    return fig


@chart("managers_activity")
def _activity(
    rows: list[dict[str, Any]], lang: str, params: dict[str, Any]
) -> go.Figure | None:
    import plotly.graph_objects as go

    cols = [
        c
        for c in ("calls_per_won_deal", "meetings_per_won_deal", "visits_per_won_deal")
        if c in rows[0]
    ]
    if not cols:
        return None
    key = "manager_id" if "manager_id" in rows[0] else next(iter(rows[0]))
    names = [who(r) if key == "manager_id" else short(r.get(key)) for r in rows]
    fig = new_figure(
        lang,
        t(
            lang,
            "Сколько дел нужно на одну выигранную сделку",
            "Activities needed per won deal",
        ),
        label("manager", lang),
        t(lang, "На выигранную сделку", "Per won deal"),
        barmode="stack",
    )
    for i, c in enumerate(cols):
        fig.add_trace(
            go.Bar(
                x=names,
                y=[num(r.get(c)) for r in rows],
                name=label(c, lang),
                marker_color=SERIES[i],
            )
        )
    return fig


@chart("managers_losses")
def _losses(
    rows: list[dict[str, Any]], lang: str, params: dict[str, Any]
) -> go.Figure | None:
    import plotly.graph_objects as go

    if "lost_reason" not in rows[0]:
        return None
    group = "name" if "name" in rows[0] else next(iter(rows[0]))
    reasons: dict[str, int] = defaultdict(int)
    for r in rows:
        reasons[str(r["lost_reason"])] += int(r.get("lost_deals") or 0)
    top = sorted(reasons, key=lambda k: -reasons[k])[:7]
    groups = sorted({str(r.get(group)) for r in rows})
    fig = new_figure(
        lang,
        t(lang, "Причины отказов", "Why deals are lost"),
        t(lang, "Проиграно сделок", "Lost deals"),
        label("manager", lang) if group == "name" else label(group, lang),
        barmode="stack",
        height=hbar_height(len(groups)),
    )
    for i, reason in enumerate(top):
        by = {
            str(r.get(group)): r.get("lost_deals")
            for r in rows
            if str(r["lost_reason"]) == reason
        }
        fig.add_trace(
            go.Bar(
                y=groups,
                x=[by.get(g, 0) for g in groups],
                orientation="h",
                name=short(reason, 28),
                marker_color=SERIES[i % len(SERIES)],
            )
        )
    return fig


@chart("managers_credit")
def _credit(
    rows: list[dict[str, Any]], lang: str, params: dict[str, Any]
) -> go.Figure | None:
    import plotly.graph_objects as go

    if "credited_owner" not in rows[0]:
        return None
    other = next(
        (c for c in rows[0] if c.startswith("credited_") and c != "credited_owner"),
        None,
    )
    names = [who(r) for r in rows]
    fig = new_figure(
        lang,
        t(
            lang,
            "Зачёт выручки: только владельцу или всем участникам",
            "Revenue credit: owner only or every participant",
        ),
        label("manager", lang),
        t(lang, "Зачтено, ₽", "Credited, RUB"),
        barmode="group",
    )
    fig.add_trace(
        go.Bar(
            x=names,
            y=[num(r.get("credited_owner")) for r in rows],
            name=label("credited_owner", lang),
            marker_color=LIGHT_GREY,
        )
    )
    if other:
        fig.add_trace(
            go.Bar(
                x=names,
                y=[num(r.get(other)) for r in rows],
                name=label(other, lang),
                marker_color=BLUE,
            )
        )
    return fig
