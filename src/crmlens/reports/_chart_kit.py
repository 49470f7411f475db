"""The shared kit of the chart builders: palette, registry, figures and their traces."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from crmlens.reports.labels import label

if TYPE_CHECKING:
    import plotly.graph_objects as go

#: What a builder gets: the result rows, the language and the result's params.
Rows = list[dict[str, Any]]
Params = dict[str, Any]
Builder = Callable[[Rows, str, Params], "go.Figure | None"]

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


def add_bars(
    fig: go.Figure,
    names: Sequence[Any],
    values: Sequence[Any],
    *,
    name: str,
    colour: Any = None,
    horizontal: bool = True,
    **trace: Any,
) -> None:
    """Add a bar trace: a bar of `values` per one of `names`, across when `horizontal`.

    `colour` is one colour or one per bar; `trace` are further ``go.Bar`` properties.
    """
    import plotly.graph_objects as go

    if colour is not None:
        trace["marker_color"] = colour
    if horizontal:
        fig.add_trace(go.Bar(y=names, x=values, orientation="h", name=name, **trace))
    else:
        fig.add_trace(go.Bar(x=names, y=values, name=name, **trace))


def add_column_bars(
    fig: go.Figure,
    names: Sequence[Any],
    rows: Rows,
    columns: Iterable[str],
    lang: str,
    *,
    value: Callable[[Any], Any] = num,
) -> None:
    """Add one upright bar trace per column of `rows` (one bar per row), in SERIES colours."""
    for i, c in enumerate(columns):
        values = [value(r.get(c)) for r in rows]
        add_bars(
            fig,
            names,
            values,
            name=label(c, lang),
            colour=SERIES[i % len(SERIES)],
            horizontal=False,
        )


def add_lines(
    fig: go.Figure,
    rows: Rows,
    *,
    group: str,
    groups: Iterable[str],
    order: str,
    x: Callable[[dict[str, Any]], Any],
    y: str,
    name: Callable[[str], str] = str,
) -> None:
    """Add a line with markers per one of `groups`, in SERIES colours.

    A group's line is its rows (``str(row[group])`` is the group) sorted by `order`:
    ``x(row)`` against the `y` column; the line is called ``name(group)``.
    """
    import plotly.graph_objects as go

    for i, g in enumerate(groups):
        part = sorted((r for r in rows if str(r[group]) == g), key=lambda r: r[order])
        fig.add_trace(
            go.Scatter(
                x=[x(r) for r in part],
                y=[num(r.get(y)) for r in part],
                mode="lines+markers",
                name=name(g),
                line_color=SERIES[i % len(SERIES)],
            )
        )


def interval_chart(
    rows: Rows,
    lang: str,
    *,
    names: list[str],
    value: str,
    bounds: tuple[str, str],
    title: str,
    y_axis: str,
    reference: float = 1.0,
) -> go.Figure:
    """Dots of `value` per row with their interval (`bounds`: low and high columns)."""
    import plotly.graph_objects as go

    low, high = bounds
    vals = [num(r.get(value)) for r in rows]
    fig = new_figure(
        lang, title, label(value, lang), y_axis, height=hbar_height(len(rows))
    )
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
