"""Chart builders: clients (RFM, ABC×XYZ, cohorts, churn, factors, CLV) (registered in :mod:`crmlens.reports.charts`)."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from crmlens.reports._chart_kit import (
    BLUE,
    GREY,
    LIGHT_GREY,
    LIGHT_RED,
    MAX_BARS,
    ORANGE,
    RED,
    TEAL,
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
)
from crmlens.reports.labels import label

if TYPE_CHECKING:
    import plotly.graph_objects as go


# --- customers ----------------------------------------------------------------------------


@chart("customers_rfm")
def _rfm(rows: Rows, lang: str, params: Params) -> go.Figure | None:
    if "segment" not in rows[0]:
        return None
    seg_col = (
        "segment_ru"
        if lang == "ru" and "segment_ru" in rows[0]
        else ("segment_en" if "segment_en" in rows[0] else "segment")
    )
    clients: dict[str, int] = defaultdict(int)
    money: dict[str, float] = defaultdict(float)
    for r in rows:
        clients[str(r[seg_col])] += 1
        money[str(r[seg_col])] += num(r.get("monetary")) or 0.0
    segs = sorted(clients, key=lambda s: -money[s])
    fig = new_figure(
        lang,
        t(
            lang,
            "Сегменты RFM: клиенты и их выручка за год",
            "RFM segments: clients and their revenue in the window",
        ),
        t(lang, "Выручка за год, ₽", "Revenue in the window, RUB"),
        label("segment", lang),
        height=hbar_height(len(segs)),
    )
    add_bars(
        fig,
        segs,
        [money[s] for s in segs],
        name=label("monetary", lang),
        colour=TEAL,
        text=[f"{clients[s]}" for s in segs],
        textposition="outside",
        hovertemplate="%{y}: %{x:,.0f}<extra></extra>",
    )
    fig.update_yaxes(autorange="reversed")
    return fig


@chart("customers_abc", "customers_xyz")
def _abc(rows: Rows, lang: str, params: Params) -> go.Figure | None:
    import plotly.graph_objects as go

    if "abc" not in rows[0] or "xyz" not in rows[0]:
        return None
    share: dict[tuple[str, str], float] = defaultdict(float)
    items: dict[tuple[str, str], int] = defaultdict(int)
    if "value_share" in rows[0]:  # the matrix already
        for r in rows:
            share[(r["abc"], r["xyz"])] += num(r.get("value_share")) or 0.0
            items[(r["abc"], r["xyz"])] += int(r.get("items") or 0)
    else:
        for r in rows:
            share[(r["abc"], r["xyz"])] += num(r.get("share")) or 0.0
            items[(r["abc"], r["xyz"])] += 1
    abc, xyz = ["A", "B", "C"], ["X", "Y", "Z"]
    z = [[share.get((a, x), 0.0) for x in xyz] for a in abc]
    text = [
        [f"{share.get((a, x), 0.0) * 100:.1f}%<br>{items.get((a, x), 0)}" for x in xyz]
        for a in abc
    ]
    fig = new_figure(
        lang,
        t(
            lang,
            "Матрица ABC×XYZ: доля выручки и число клиентов",
            "ABC×XYZ matrix: share of revenue and number of items",
        ),
        t(lang, "XYZ — стабильность покупок", "XYZ — stability of purchases"),
        t(lang, "ABC — вклад в выручку", "ABC — contribution to revenue"),
        height=360,
    )
    fig.add_trace(
        go.Heatmap(
            z=z,
            x=xyz,
            y=abc,
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0,
            zmax=max(max(row) for row in z) or 1,
            showscale=False,
            hovertemplate="%{y}%{x}: %{z:.1%}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    return fig


@chart("customers_cohorts")
def _cohorts(rows: Rows, lang: str, params: Params) -> go.Figure:
    import plotly.graph_objects as go

    metric = params.get("metric", "clients")
    col = "retention_rate" if metric == "clients" else "value"
    cohorts = sorted({r["cohort"] for r in rows})[-18:]
    periods = sorted({int(r["period_index"]) for r in rows if r["cohort"] in cohorts})[
        :19
    ]
    cell = {(r["cohort"], int(r["period_index"])): num(r.get(col)) for r in rows}
    z = [[cell.get((c, p)) for p in periods] for c in cohorts]
    is_share = col == "retention_rate"
    fig = new_figure(
        lang,
        t(
            lang,
            "Когорты по месяцу первого заказа: доля клиентов, заказавших снова",
            "Cohorts by month of first order: share of clients who ordered again",
        )
        if is_share
        else t(
            lang,
            "Когорты по месяцу первого заказа: выручка",
            "Cohorts by month of first order: revenue",
        ),
        label("period_index", lang),
        label("cohort", lang),
        height=max(320, 60 + 22 * len(cohorts)),
    )
    fig.add_trace(
        go.Heatmap(
            z=z,
            x=[str(p) for p in periods],
            y=[str(c)[:7] for c in cohorts],
            colorscale="Blues",
            zmin=0,
            zmax=1 if is_share else None,
            colorbar={"tickformat": ".0%" if is_share else ",.0f"},
            hovertemplate="%{y} +%{x}: %{z:.0%}<extra></extra>"
            if is_share
            else "%{y} +%{x}: %{z:,.0f}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category")
    return fig


@chart("customers_churn")
def _churn(rows: Rows, lang: str, params: Params) -> go.Figure | None:
    clients: dict[str, int] = defaultdict(int)
    stake: dict[str, float] = defaultdict(float)
    for r in rows:
        if r.get("status") != "active":
            clients[str(r.get("status"))] += 1
            stake[str(r.get("status"))] += num(r.get("revenue_at_stake")) or 0.0
    if not clients:
        return None
    order: list[str] = [s for s in _CHURN if s in clients]
    order += sorted(s for s in clients if s not in order)
    fig = new_figure(
        lang,
        t(
            lang,
            "Клиенты, что молчат дольше обычного: выручка под угрозой "
            "(число клиентов над столбцом)",
            "Clients silent longer than usual: revenue at stake "
            "(clients above the bar)",
        ),
        label("status", lang),
        label("revenue_at_stake", lang),
    )
    add_bars(
        fig,
        [_CHURN.get(s, (s, s))[0 if lang == "ru" else 1] for s in order],
        [stake[s] for s in order],
        name=label("revenue_at_stake", lang),
        colour=[_CHURN_COLOURS.get(s, GREY) for s in order],
        horizontal=False,
        text=[str(clients[s]) for s in order],
        textposition="outside",
    )
    return fig


_CHURN = {
    "active": ("Активные", "Active"),
    "late": ("Задерживаются", "Late"),
    "at_risk": ("Под угрозой", "At risk"),
    "silent": ("Молчат", "Silent"),
    "lost": ("Ушли", "Lost"),
}
_CHURN_COLOURS = {
    "active": "#8fd19e",
    "late": "#ffe08a",
    "at_risk": ORANGE,
    "silent": LIGHT_RED,
    "lost": RED,
}


@chart("customers_factors")
def _factors(rows: Rows, lang: str, params: Params) -> go.Figure | None:
    import plotly.graph_objects as go

    parts = [
        c
        for c in (
            "leads_effect",
            "conversion_effect",
            "average_check_effect",
            "orders_per_client_effect",
        )
        if c in rows[0]
    ]
    rows = [r for r in rows if num(r.get("revenue_change")) is not None][-12:]
    if not parts or not rows:
        return None
    x = [str(r["period"]) for r in rows]
    fig = new_figure(
        lang,
        t(
            lang,
            "Почему менялась выручка: вклад заявок, конверсии, чека и повторных заказов",
            "Why revenue moved: leads, conversion, check and orders per client",
        ),
        label("period", lang),
        t(lang, "Изменение выручки, ₽", "Revenue change, RUB"),
        barmode="relative",
    )
    add_column_bars(fig, x, rows, parts, lang)
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[num(r.get("revenue_change")) for r in rows],
            mode="lines+markers",
            name=label("revenue_change", lang),
            line_color="#333333",
        )
    )
    return fig


@chart("customers_seasonality")
def _seasonality(rows: Rows, lang: str, params: Params) -> go.Figure | None:
    seasonal = [r for r in rows if r.get("is_seasonal")]
    if not seasonal:
        return None
    per: dict[int, int] = defaultdict(int)
    for r in seasonal:
        per[int(r["peak_month"])] += 1
    months = list(range(1, 13))
    fig = new_figure(
        lang,
        t(lang, "Сезонные клиенты по месяцу пика", "Seasonal clients by peak month"),
        label("peak_month", lang),
        label("clients", lang),
    )
    add_bars(
        fig,
        [str(m) for m in months],
        [per.get(m, 0) for m in months],
        name=label("clients", lang),
        colour=TEAL,
        horizontal=False,
    )
    return fig


@chart("customers_clv")
def _clv(rows: Rows, lang: str, params: Params) -> go.Figure | None:
    if "expected_value" not in rows[0]:
        return None
    top = sorted(rows, key=lambda r: -(num(r.get("expected_value")) or 0.0))[:MAX_BARS]
    names = [short(r.get("name") or r.get("account_id"), 32) for r in top]
    fig = new_figure(
        lang,
        t(
            lang,
            "Самые ценные клиенты на будущее: маржа до сих пор и ожидаемая",
            "Most valuable clients ahead: margin so far and expected",
        ),
        t(lang, "Маржа, ₽", "Margin, RUB"),
        label("account_id", lang),
        barmode="group",
        height=hbar_height(len(top) * 2),
    )
    for column, colour in (("historical_value", LIGHT_GREY), ("expected_value", BLUE)):
        values = [num(r.get(column)) for r in top]
        add_bars(fig, names, values, name=label(column, lang), colour=colour)
    fig.update_yaxes(autorange="reversed")
    return fig


@chart("customers_clusters")
def _clusters(rows: Rows, lang: str, params: Params) -> go.Figure | None:
    if "clients" not in rows[0]:
        return None
    desc = "description_ru" if lang == "ru" else "description_en"
    names = [f"{r['cluster']}: {short(r.get(desc), 50)}" for r in rows]
    fig = new_figure(
        lang,
        t(lang, "Группы клиентов", "Client clusters"),
        label("clients", lang),
        label("cluster", lang),
        height=hbar_height(len(rows)),
    )
    clients = [r.get("clients") for r in rows]
    add_bars(fig, names, clients, name=label("clients", lang), colour=TEAL)
    return fig
