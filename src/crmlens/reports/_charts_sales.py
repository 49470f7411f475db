"""Chart builders: the funnel, journeys, plan, forecast and warnings (registered in :mod:`crmlens.reports.charts`)."""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise
from typing import TYPE_CHECKING

from crmlens.reports._chart_kit import (
    BLUE,
    GREY,
    LIGHT_GREY,
    LIGHT_RED,
    LIGHTS,
    MAX_BARS,
    ORANGE,
    Params,
    Rows,
    add_bars,
    add_lines,
    chart,
    hbar_height,
    new_figure,
    num,
    short,
    t,
)
from crmlens.reports.labels import label

if TYPE_CHECKING:
    import plotly.graph_objects as go


# --- funnel and journeys ------------------------------------------------------------------


@chart("funnel")
def _funnel(rows: Rows, lang: str, params: Params) -> go.Figure | None:
    if "pipeline_velocity" in rows[0]:
        return _velocity(rows, lang)
    group = next((c for c in rows[0] if c not in _FUNNEL_COLUMNS), None)
    by_pipeline: dict[str, int] = defaultdict(int)
    for r in rows:
        if r.get("position") == 1:
            by_pipeline[str(r.get("pipeline_id"))] += int(r.get("reached") or 0)
    pipeline = max(by_pipeline, key=lambda p: by_pipeline[p]) if by_pipeline else None
    stage_rows = [
        r for r in rows if pipeline is None or str(r.get("pipeline_id")) == pipeline
    ]
    if group is not None:
        return _funnel_groups(stage_rows, group, lang)
    stage_rows = sorted(
        (r for r in stage_rows if r["position"] > 0), key=lambda r: r["position"]
    )
    if not stage_rows:
        return None
    stages = [short(r["stage"], 32) for r in stage_rows]
    reached = [int(r.get("reached") or 0) for r in stage_rows]
    dropped = [max(a - b, 0) for a, b in pairwise(reached)] + [0]
    conv = [num(r.get("conversion_to_next")) for r in stage_rows]
    fig = new_figure(
        lang,
        t(
            lang,
            "Воронка: сколько сделок дошло до этапа и сколько отсеялось",
            "Funnel: deals that reached each stage and the drop-off",
        ),
        t(lang, "Сделки", "Deals"),
        t(lang, "Этап", "Stage"),
        barmode="stack",
        height=hbar_height(len(stages)),
    )
    add_bars(
        fig,
        stages,
        reached,
        name=t(lang, "Дошли", "Reached"),
        colour=BLUE,
        text=[f"{c * 100:.0f}%" if c is not None else "" for c in conv],
        textposition="inside",
        hovertemplate="%{y}: %{x}<extra></extra>",
    )
    dropped_name = t(lang, "Отсеялись до следующего", "Dropped before the next")
    add_bars(fig, stages, dropped, name=dropped_name, colour=LIGHT_RED)
    fig.update_yaxes(autorange="reversed")
    return fig


_FUNNEL_COLUMNS = {
    "pipeline_id",
    "stage",
    "position",
    "reached",
    "conversion_to_next",
    "conversion_from_start",
    "median_days_in_stage",
    "p90_days_in_stage",
    "open_now",
    "lost_after",
}


def _funnel_groups(rows: Rows, group: str, lang: str) -> go.Figure:
    totals: dict[str, int] = defaultdict(int)
    for r in rows:
        if r.get("position") == 0:
            totals[str(r[group])] += int(r.get("reached") or 0)
    top = (
        sorted(totals, key=lambda g: -totals[g])[:8]
        or sorted({str(r[group]) for r in rows})[:8]
    )
    fig = new_figure(
        lang,
        t(
            lang,
            "Конверсия от начала воронки по группам",
            "Conversion from the start of the funnel by group",
        ),
        t(lang, "Этап", "Stage"),
        label("conversion_from_start", lang),
    )
    add_lines(
        fig,
        [r for r in rows if r["position"] > 0],
        group=group,
        groups=top,
        order="position",
        x=lambda r: short(r["stage"], 24),
        y="conversion_from_start",
    )
    fig.update_yaxes(tickformat=".0%")
    return fig


def _velocity(rows: Rows, lang: str) -> go.Figure:
    fig = new_figure(
        lang,
        t(lang, "Скорость воронки по месяцам", "Pipeline velocity by month"),
        label("month", lang),
        label("pipeline_velocity", lang),
    )
    add_lines(
        fig,
        rows,
        group="pipeline_id",
        groups=sorted({str(r["pipeline_id"]) for r in rows}),
        order="month",
        x=lambda r: r["month"],
        y="pipeline_velocity",
    )
    return fig


@chart("journeys")
def _journeys(rows: Rows, lang: str, params: Params) -> go.Figure | None:
    if "variant" not in rows[0]:
        return None
    top = sorted(rows, key=lambda r: -(r.get("deals") or 0))[:MAX_BARS]
    colours = [num(r.get("win_rate")) or 0.0 for r in top]
    fig = new_figure(
        lang,
        t(
            lang,
            "Самые частые пути сделок (цвет — доля выигранных)",
            "Most frequent deal journeys (colour: win rate)",
        ),
        label("deals", lang),
        label("variant", lang),
        height=hbar_height(len(top)),
    )
    add_bars(
        fig,
        [short(r["variant"], 60) for r in top],
        [r.get("deals") for r in top],
        name=label("deals", lang),
        marker={
            "color": colours,
            "colorscale": [[0, LIGHT_RED], [1, "#54a24b"]],
            "cmin": 0,
            "cmax": 1,
            "colorbar": {
                "title": {"text": label("win_rate", lang)},
                "tickformat": ".0%",
            },
        },
        hovertext=[str(r["variant"]) for r in top],
    )
    fig.update_yaxes(autorange="reversed")
    return fig


# --- plan, forecast, warnings -------------------------------------------------------------


@chart("plan")
def _plan(rows: Rows, lang: str, params: Params) -> go.Figure | None:
    import plotly.graph_objects as go

    rows = [r for r in rows if num(r.get("target_amount")) is not None]
    if not rows:
        return None
    rows = sorted(rows, key=lambda r: str(r["scope_id"]))
    names = [short(r["scope_id"], 30) for r in rows]
    fig = new_figure(
        lang,
        t(
            lang,
            "План и факт: факт, прогноз с разбросом P10–P90, план",
            "Plan vs fact: fact, forecast with its P10–P90 range, target",
        ),
        t(lang, "Сумма, ₽", "Amount, RUB"),
        label("scope_id", lang),
        barmode="overlay",
        height=hbar_height(len(rows) * 2),
    )
    fc = [num(r.get("forecast_amount")) or 0.0 for r in rows]
    add_bars(
        fig,
        names,
        fc,
        name=label("forecast_amount", lang),
        colour=[LIGHTS.get(str(r.get("light")), LIGHT_GREY) for r in rows],
        error_x={
            "type": "data",
            "symmetric": False,
            "color": GREY,
            "array": [
                max((num(r.get("forecast_p90")) or f) - f, 0)
                for r, f in zip(rows, fc, strict=True)
            ],
            "arrayminus": [
                max(f - (num(r.get("forecast_p10")) or f), 0)
                for r, f in zip(rows, fc, strict=True)
            ],
        },
    )
    add_bars(
        fig,
        names,
        [num(r.get("fact_amount")) or 0.0 for r in rows],
        name=label("fact_amount", lang),
        colour=BLUE,
        width=0.35,
    )
    fig.add_trace(
        go.Scatter(
            y=names,
            x=[num(r.get("target_amount")) for r in rows],
            mode="markers",
            name=label("target_amount", lang),
            marker={
                "symbol": "line-ns-open",
                "size": 26,
                "color": "#333333",
                "line": {"width": 3},
            },
        )
    )
    fig.update_yaxes(autorange="reversed")
    return fig


@chart("forecast")
def _forecast(rows: Rows, lang: str, params: Params) -> go.Figure:
    totals: dict[str, float] = defaultdict(float)
    for r in rows:
        totals[str(r["level_id"])] += num(r.get("forecast_amount")) or 0.0
    top = sorted(totals, key=lambda k: -totals[k])[:8]
    fig = new_figure(
        lang,
        t(lang, "Прогноз выручки по месяцам", "Revenue forecast by month"),
        label("period", lang),
        t(lang, "Прогноз, ₽", "Forecast, RUB"),
    )
    add_lines(
        fig,
        rows,
        group="level_id",
        groups=top,
        order="period",
        x=lambda r: r["period"],
        y="forecast_amount",
        name=lambda level: short(level, 24),
    )
    fig.update_xaxes(type="category")
    return fig


@chart("warnings")
def _warnings(rows: Rows, lang: str, params: Params) -> go.Figure:
    impact: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    for r in rows:
        impact[str(r["kind"])] += num(r.get("impact")) or 0.0
        count[str(r["kind"])] += 1
    kinds = sorted(impact, key=lambda k: -impact[k])
    fig = new_figure(
        lang,
        t(
            lang,
            "Предупреждения: сколько денег на кону по видам",
            "Warnings: money at stake by kind",
        ),
        t(lang, "На кону, ₽", "At stake, RUB"),
        label("kind", lang),
        height=hbar_height(len(kinds)),
    )
    add_bars(
        fig,
        [_WARNING_KINDS.get(k, (k, k))[0 if lang == "ru" else 1] for k in kinds],
        [impact[k] for k in kinds],
        name=label("impact", lang),
        colour=ORANGE,
        text=[str(count[k]) for k in kinds],
        textposition="outside",
    )
    fig.update_yaxes(autorange="reversed")
    return fig


_WARNING_KINDS = {
    "stage_drop": ("Провал на этапе", "Stage drop"),
    "plan_at_risk": ("План под угрозой", "Plan at risk"),
    "thin_pipeline": ("Мало сделок в работе", "Thin pipeline"),
    "client_silent": ("Клиент замолчал", "Client silent"),
    "silent_client": ("Клиент замолчал", "Client silent"),
    "key_client_silent": ("Ключевой клиент замолчал", "Key client silent"),
    "low_pipeline_coverage": ("Мало сделок под план", "Low pipeline coverage"),
    "slow_response": ("Медленный ответ на заявки", "Slow answers to leads"),
}
