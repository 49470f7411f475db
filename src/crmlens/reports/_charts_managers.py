"""Chart builders: managers (registered in :mod:`crmlens.reports.charts`)."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import TYPE_CHECKING

from crmlens.reports._chart_kit import (
    BLUE,
    LIGHT_BLUE,
    LIGHT_GREY,
    MAX_BARS,
    SERIES,
    Params,
    Rows,
    add_bars,
    add_column_bars,
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
def _kpis(rows: Rows, lang: str, params: Params) -> go.Figure:
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
    plan = [num(r.get("plan_revenue")) for r in rows]
    if any(plan):
        add_bars(
            fig,
            names,
            plan,
            name=label("plan_revenue", lang),
            colour=LIGHT_GREY,
            horizontal=False,
        )
    add_bars(
        fig,
        names,
        [num(r.get("revenue")) for r in rows],
        name=label("revenue", lang),
        colour=BLUE,
        horizontal=False,
        text=[f"{(num(r.get('win_rate')) or 0) * 100:.0f}%" for r in rows],
        textposition="outside",
        hovertemplate="%{x}: %{y:,.0f}<extra></extra>",
    )
    return fig


@chart("managers_compare")
def _compare(rows: Rows, lang: str, params: Params) -> go.Figure:
    rows = sorted(rows, key=lambda r: r.get("rank_adjusted") or 10**6)
    return interval_chart(
        rows,
        lang,
        names=[who(r) for r in rows],
        value="mix_index",
        bounds=("mix_index_low", "mix_index_high"),
        title=t(
            lang,
            "Честное сравнение: факт к ожидаемому при таком составе клиентов "
            "(1 = как компания), с интервалом",
            "Fair comparison: actual vs expected win rate for the manager's mix "
            "(1 = company level), with the interval",
        ),
        y_axis=label("manager", lang),
    )


@chart("managers_checklist")
def _checklist(rows: Rows, lang: str, params: Params) -> go.Figure | None:
    if "lift" not in rows[0]:
        return None
    rows = sorted(rows, key=lambda r: -(num(r.get("lift")) or 0.0))
    key = "item" if "item" in rows[0] else next(iter(rows[0]))
    return interval_chart(
        rows,
        lang,
        names=[short(r.get(key), 36) for r in rows],
        value="lift",
        bounds=("lift_low", "lift_high"),
        title=t(
            lang,
            "Пункты чек-листа звонка: во сколько раз чаще выигрывают, "
            "если пункт выполнен",
            "Call checklist items: how much more often deals "
            "are won when the item was done",
        ),
        y_axis=label(key, lang),
    )


@chart("leads_signals")
def _signals(rows: Rows, lang: str, params: Params) -> go.Figure | None:
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
        bounds=("ci_low", "ci_high"),
        title=t(
            lang,
            "Признаки заявок: во сколько раз конверсия выше средней",
            "Lead attributes: conversion relative to the average",
        ),
        y_axis=label("attribute", lang),
    )


@chart("managers_response")
def _response(rows: Rows, lang: str, params: Params) -> go.Figure | None:
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
    p90, median = "p90_first_response_hours", "median_first_response_hours"
    values = [num(r.get(p90)) for r in rows]
    add_bars(fig, names, values, name=label(p90, lang), colour=LIGHT_BLUE)
    values = [num(r.get(median)) for r in rows]
    add_bars(fig, names, values, name=label(median, lang), colour=BLUE, width=0.4)
    fig.update_yaxes(autorange="reversed")
    return fig


@chart("managers_activity")
def _activity(rows: Rows, lang: str, params: Params) -> go.Figure | None:
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
    add_column_bars(fig, names, rows, cols, lang)
    return fig


@chart("managers_losses")
def _losses(rows: Rows, lang: str, params: Params) -> go.Figure | None:
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
        values = [by.get(g, 0) for g in groups]
        colour = SERIES[i % len(SERIES)]
        add_bars(fig, groups, values, name=short(reason, 28), colour=colour)
    return fig


@chart("managers_credit")
def _credit(rows: Rows, lang: str, params: Params) -> go.Figure | None:
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
    for column, colour in (("credited_owner", LIGHT_GREY), (other, BLUE)):
        if column:
            values = [num(r.get(column)) for r in rows]
            add_bars(
                fig,
                names,
                values,
                name=label(column, lang),
                colour=colour,
                horizontal=False,
            )
    return fig
