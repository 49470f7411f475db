"""The shared kit of the chart builders: palette, registry, small helpers."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from crmlens.reports.labels import label

if TYPE_CHECKING:
    import plotly.graph_objects as go

Builder = Callable[[list[dict[str, Any]], str, dict[str, Any]], "go.Figure | None"]

#: The palette: calm, light colours that print well; lights for plan vs fact.
BLUE, LIGHT_BLUE, GREY, LIGHT_GREY = "#4c78a8", "#a6c8e8", "#7f7f7f", "#d9d9d9"
RED, LIGHT_RED, ORANGE, TEAL = "#d6604d", "#f4b6a8", "#f2a541", "#72b7b2"
LIGHTS = {"green": "#8fd19e", "yellow": "#ffe08a", "red": "#f5a3a3", "none": LIGHT_GREY}
SERIES = [BLUE, ORANGE, TEAL, RED, "#9d755d", "#b279a2", "#54a24b", "#e45756"]
MAX_BARS = 15
BUILDERS: dict[str, Builder] = {}


def chart(*names: str) -> Callable[[Builder], Builder]:
    """Decorator: register a builder for the analyses `names`."""

    def wrap(fn: Builder) -> Builder:
        for n in names:
            BUILDERS[n] = fn
        return fn

    return wrap


def t(lang: str, ru: str, en: str) -> str:
    return ru if lang == "ru" else en


def num(v: Any) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def short(text: Any, width: int = 40) -> str:
    s = "—" if text is None else str(text)
    return s if len(s) <= width else s[: width - 1] + "…"


def who(row: dict[str, Any]) -> str:
    """A manager as people read it: the name, else the id."""
    name = row.get("name") or row.get("manager_name")
    ident = row.get("manager_id") or row.get("manager")
    return str(name or ident or "—")


def new_figure(lang: str, title: str, x: str, y: str, **layout: Any) -> go.Figure:
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.update_layout(title={"text": title}, xaxis_title=x, yaxis_title=y, **layout)
    return fig


def style(fig: go.Figure) -> None:
    fig.update_layout(
        template="plotly_white",
        font={"family": "DejaVu Sans, Arial, sans-serif", "size": 12},
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        height=fig.layout.height or 380,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
        title_font={"size": 14},
    )
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)


def hbar_height(n: int) -> int:
    return max(280, min(720, 120 + 26 * n))


def interval_chart(
    rows: list[dict[str, Any]],
    lang: str,
    *,
    names: list[str],
    value: str,
    low: str,
    high: str,
    title: str,
    axis: str,
    y_axis: str,
    reference: float = 1.0,
) -> go.Figure:
    import plotly.graph_objects as go

    vals = [num(r.get(value)) for r in rows]
    fig = new_figure(lang, title, axis, y_axis, height=hbar_height(len(rows)))
    fig.add_trace(
        go.Scatter(
            y=names,
            x=vals,
            mode="markers",
            name=label(value, lang),
            marker={
                "size": 11,
                "color": [BLUE if (v or 0) >= reference else RED for v in vals],
            },
            error_x={
                "type": "data",
                "symmetric": False,
                "color": GREY,
                "array": [
                    max((num(r.get(high)) or v or 0) - (v or 0), 0)
                    for r, v in zip(rows, vals, strict=True)
                ],
                "arrayminus": [
                    max((v or 0) - (num(r.get(low)) or v or 0), 0)
                    for r, v in zip(rows, vals, strict=True)
                ],
            },
        )
    )
    fig.add_vline(x=reference, line_dash="dash", line_color=GREY)
    fig.update_yaxes(autorange="reversed")
    return fig
