"""Static SVG of the report's Plotly charts, for the PDF (no browser, no kaleido).

WeasyPrint cannot run Plotly's JavaScript, and drawing a chart to an image needs a headless
browser (kaleido), which a report must not depend on. The charts of
:mod:`crmlens.reports.charts` use only bars (horizontal or vertical; grouped, stacked or
overlaid), lines and markers with error bars, reference lines and heatmaps, so this module
draws those from the figure's own data: the same numbers, colours, titles and legends.

>>> import plotly.graph_objects as go
>>> fig = go.Figure(go.Bar(x=["a", "b"], y=[1, 3], name="n"))
>>> svg = figure_svg(fig)
>>> svg.startswith("<svg") and svg.count("<rect") >= 2
True
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

if TYPE_CHECKING:
    import plotly.graph_objects as go

WIDTH = 760
FONT = "DejaVu Sans, Arial, sans-serif"
INK, MUTED, GRID = "#1f2933", "#616e7c", "#e4e7eb"
BLUES = [
    (0.0, (247, 251, 255)),
    (0.35, (158, 202, 225)),
    (0.7, (66, 146, 198)),
    (1.0, (8, 48, 107)),
]
DEFAULT = "#4c78a8"


def figure_svg(fig: go.Figure) -> str:
    """The figure as a standalone ``<svg>`` element."""
    traces = list(fig.data)
    if any(t.type == "heatmap" for t in traces):
        return _heatmap(fig, next(t for t in traces if t.type == "heatmap"))
    return _category_chart(fig, traces)


# --- text and numbers ---------------------------------------------------------------------


def _txt(
    x: float,
    y: float,
    s: str,
    *,
    size: int = 11,
    anchor: str = "start",
    colour: str = INK,
    weight: str = "normal",
    rotate: float | None = None,
) -> str:
    tr = f' transform="rotate({rotate:.0f} {x:.1f} {y:.1f})"' if rotate else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-family="{FONT}" font-size="{size}" '
            f'fill="{colour}" text-anchor="{anchor}" font-weight="{weight}"{tr}>'
            f"{escape(s)}</text>")  # fmt: skip


def _short(s: Any, n: int) -> str:
    text = str(s)
    return text if len(text) <= n else text[: n - 1] + "…"


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _fmt(v: float, percent: bool) -> str:
    if percent:
        return f"{v * 100:.0f}%"
    a = abs(v)
    for unit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= unit:
            q = v / unit
            return (
                f"{q:.0f}{suffix}"
                if abs(q) >= 10 or q == int(q)
                else f"{q:.1f}{suffix}"
            )
    return f"{v:.0f}" if v == int(v) or a >= 10 else f"{v:.2g}"


def _nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks, v = [], start
    while v <= hi + step * 1e-9:
        ticks.append(round(v, 12))
        v += step
    return ticks


def _colour(value: Any, i: int, trace: Any) -> str:
    """A marker colour: the trace's, per point or single, numbers through its colour scale."""
    colour = value
    if isinstance(colour, (list, tuple)):
        colour = colour[i] if i < len(colour) else None
    if isinstance(colour, (int, float)) and not isinstance(colour, bool):
        scale = (
            getattr(trace.marker, "colorscale", None)
            if hasattr(trace, "marker")
            else None
        )
        lo = _num(getattr(trace.marker, "cmin", None)) or 0.0
        hi = _num(getattr(trace.marker, "cmax", None)) or 1.0
        return _scale_colour((float(colour) - lo) / ((hi - lo) or 1.0), scale)
    return str(colour) if colour else DEFAULT


def _hex(c: str) -> tuple[int, int, int]:
    c = c.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def _scale_colour(x: float, scale: Any = None) -> str:
    stops = BLUES
    if (
        scale
        and isinstance(scale, (list, tuple))
        and isinstance(scale[0], (list, tuple))
    ):
        try:
            stops = [(float(p), _hex(str(c))) for p, c in scale]
        except (ValueError, IndexError):
            stops = BLUES
    x = min(max(x, 0.0), 1.0)
    for (p0, c0), (p1, c1) in itertools.pairwise(stops):
        if x <= p1:
            f = 0.0 if p1 == p0 else (x - p0) / (p1 - p0)
            rgb = tuple(round(a + (b - a) * f) for a, b in zip(c0, c1, strict=True))
            return "#{:02x}{:02x}{:02x}".format(*rgb)
    return "#{:02x}{:02x}{:02x}".format(*stops[-1][1])


# --- bars, lines and markers over categories ----------------------------------------------


@dataclass
class _Axis:
    lo: float
    hi: float
    start: float
    length: float
    log: bool = False

    def at(self, v: float) -> float:
        if self.log:
            v, lo, hi = (
                math.log10(max(v, 1e-9)),
                math.log10(self.lo),
                math.log10(self.hi),
            )
        else:
            lo, hi = self.lo, self.hi
        return self.start + (v - lo) / ((hi - lo) or 1.0) * self.length


def _horizontal(traces: list[Any]) -> bool:
    first = traces[0]
    if first.type == "bar":
        return first.orientation == "h"
    ys = list(first.y or [])
    return (
        bool(ys)
        and isinstance(ys[0], str)
        and not isinstance((first.x or [None])[0], str)
    )


def _categories(traces: list[Any], horizontal: bool) -> list[str]:
    seen: dict[str, None] = {}
    for t in traces:
        for c in (t.y if horizontal else t.x) or []:
            seen.setdefault(str(c), None)
    return list(seen)


def _values(t: Any, horizontal: bool) -> list[float | None]:
    return [_num(v) for v in ((t.x if horizontal else t.y) or [])]


def _errors(t: Any, n: int) -> tuple[list[float], list[float]]:
    e = getattr(t, "error_x", None)
    if e is None or e.array is None:
        return [0.0] * n, [0.0] * n
    plus = [_num(v) or 0.0 for v in e.array]
    minus = [
        _num(v) or 0.0 for v in (e.arrayminus if e.arrayminus is not None else e.array)
    ]
    return plus, minus


def _value_range(
    fig: go.Figure, traces: list[Any], horizontal: bool, stacked: bool
) -> tuple[float, float]:
    lows, highs = [0.0], [0.0]
    pos: dict[str, float] = {}
    neg: dict[str, float] = {}
    for t in traces:
        vals = _values(t, horizontal)
        cats = [str(c) for c in ((t.y if horizontal else t.x) or [])]
        plus, minus = _errors(t, len(vals))
        for i, v in enumerate(vals):
            if v is None:
                continue
            if stacked and t.type == "bar":
                book = pos if v >= 0 else neg
                book[cats[i]] = book.get(cats[i], 0.0) + v
            else:
                lows.append(v - minus[i])
                highs.append(v + plus[i])
    lows += list(neg.values())
    highs += list(pos.values())
    for shape in fig.layout.shapes or []:
        ref = _num(shape.x0 if horizontal else shape.y0)
        if ref is not None:
            lows.append(ref)
            highs.append(ref)
    axis = fig.layout.xaxis if horizontal else fig.layout.yaxis
    if axis.range is not None:
        lo, hi = (_num(v) for v in axis.range)
        return (lo if lo is not None else min(lows)), (
            hi if hi is not None else max(highs)
        )
    return min(lows), max(highs)


def _category_chart(fig: go.Figure, traces: list[Any]) -> str:
    horizontal = _horizontal(traces)
    cats = _categories(traces, horizontal)
    if not cats:
        return ""
    mode = fig.layout.barmode or "group"
    stacked = mode in ("stack", "relative")
    value_axis = fig.layout.xaxis if horizontal else fig.layout.yaxis
    percent = "%" in str(value_axis.tickformat or "")
    log = value_axis.type == "log"
    lo, hi = _value_range(fig, traces, horizontal, stacked)
    if log:
        positive = [v for t in traces for v in _values(t, horizontal) if v and v > 0]
        lo, hi = (min(positive) / 2, max(positive) * 2) if positive else (1.0, 10.0)
        ticks = [
            10.0**k
            for k in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
        ]
    else:
        ticks = _nice_ticks(lo, hi)
        lo, hi = min(lo, ticks[0]), max(hi, ticks[-1])
    named = [t for t in traces if t.name]
    legend_h = 22 * math.ceil(len(named) / 4) if len(named) > 1 else 0
    head = _head(fig)
    top = head + 16 + legend_h
    parts: list[str] = []
    if horizontal:
        label_w = min(300, 12 + 6.2 * max(len(_short(c, 42)) for c in cats))
        band = 24.0 if len(cats) > 6 else 34.0
        left = 26 + label_w
        plot_h = band * len(cats)
        height = top + plot_h + 56
        axis = _Axis(lo, hi, left, WIDTH - left - 40, log)
        reverse = fig.layout.yaxis.autorange != "reversed"
        order = list(reversed(cats)) if reverse else cats
        centre = {c: top + band * (i + 0.5) for i, c in enumerate(order)}
        for v in ticks:
            x = axis.at(v)
            parts.append(
                f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" stroke="{GRID}"/>'
            )
            parts.append(
                _txt(
                    x,
                    top + plot_h + 14,
                    _fmt(v, percent),
                    size=10,
                    anchor="middle",
                    colour=MUTED,
                )
            )
        for c in cats:
            parts.append(
                _txt(left - 6, centre[c] + 4, _short(c, 42), size=10, anchor="end")
            )
    else:
        label_w = 0.0
        left = 70.0
        rotate = len(cats) > 6 and max(len(c) for c in cats) > 6
        bottom = 90 if rotate else 40
        plot_h = max(200, int((fig.layout.height or 380) * 0.7))
        height = top + plot_h + bottom + 20
        axis = _Axis(lo, hi, top + plot_h, -plot_h, log)
        band = (WIDTH - left - 20) / len(cats)
        centre = {c: left + band * (i + 0.5) for i, c in enumerate(cats)}
        for v in ticks:
            y = axis.at(v)
            parts.append(
                f'<line x1="{left}" y1="{y:.1f}" x2="{WIDTH - 20}" y2="{y:.1f}" stroke="{GRID}"/>'
            )
            parts.append(
                _txt(
                    left - 6,
                    y + 4,
                    _fmt(v, percent),
                    size=10,
                    anchor="end",
                    colour=MUTED,
                )
            )
        step = max(1, math.ceil(len(cats) / 18))
        for i, c in enumerate(cats):
            if i % step:
                continue
            x, y = centre[c], top + plot_h + 14
            if rotate:
                parts.append(
                    _txt(x, y, _short(c, 18), size=10, anchor="end", rotate=-35)
                )
            else:
                parts.append(_txt(x, y, _short(c, 12), size=10, anchor="middle"))
    parts += _draw_traces(traces, horizontal, mode, axis, centre, band, percent)
    parts += _draw_shapes(fig, horizontal, axis, top, plot_h, left)
    parts += _legend(named, head + 18, left if horizontal else 70)
    parts += _titles(
        fig, height, top, plot_h, left if horizontal else 70, horizontal, label_w
    )
    return _svg(height, parts)


def _draw_traces(
    traces: list[Any],
    horizontal: bool,
    mode: str,
    axis: _Axis,
    centre: dict[str, float],
    band: float,
    percent: bool,
) -> list[str]:
    parts: list[str] = []
    bars = [t for t in traces if t.type == "bar"]
    pos: dict[str, float] = {}
    neg: dict[str, float] = {}
    for t in traces:
        vals = _values(t, horizontal)
        cats = [str(c) for c in ((t.y if horizontal else t.x) or [])]
        colours = t.marker.color if t.marker is not None else None
        if t.type == "bar":
            k = bars.index(t)
            if mode == "group" and len(bars) > 1:
                thick = band * 0.8 / len(bars)
                offset = -band * 0.4 + thick * (k + 0.5)
            else:
                thick = band * 0.7 * (float(t.width) if t.width else 1.0)
                offset = 0.0
            texts = list(t.text) if isinstance(t.text, (list, tuple)) else []
            for i, v in enumerate(vals):
                if v is None or cats[i] not in centre:
                    continue
                base = 0.0
                if mode in ("stack", "relative"):
                    book = pos if v >= 0 else neg
                    base = book.get(cats[i], 0.0)
                    book[cats[i]] = base + v
                a, b = (
                    axis.at(base if not axis.log else max(base, axis.lo)),
                    axis.at(base + v),
                )
                c = centre[cats[i]] + offset
                colour = _colour(colours, i, t)
                if horizontal:
                    x0, w = min(a, b), abs(b - a)
                    parts.append(
                        f'<rect x="{x0:.1f}" y="{c - thick / 2:.1f}" width="{w:.1f}" height="{thick:.1f}" fill="{colour}"/>'
                    )
                else:
                    y0, h = min(a, b), abs(b - a)
                    parts.append(
                        f'<rect x="{c - thick / 2:.1f}" y="{y0:.1f}" width="{thick:.1f}" height="{h:.1f}" fill="{colour}"/>'
                    )
                if i < len(texts) and texts[i]:
                    parts.append(
                        _bar_text(str(texts[i]), horizontal, a, b, c, t.textposition)
                    )
            parts += _error_bars(t, vals, cats, horizontal, axis, centre, offset)
        else:
            parts += _scatter(t, vals, cats, horizontal, axis, centre)
    return parts


def _bar_text(
    s: str, horizontal: bool, a: float, b: float, c: float, where: Any
) -> str:
    inside = where == "inside"
    if horizontal:
        x = b - 4 if inside else b + 4
        return _txt(x, c + 4, s, size=10, anchor="end" if inside else "start",
                    colour="#ffffff" if inside else INK)  # fmt: skip
    y = b + 12 if inside else b - 4
    return _txt(c, y, s, size=10, anchor="middle", colour="#ffffff" if inside else INK)


def _error_bars(
    t: Any,
    vals: list[float | None],
    cats: list[str],
    horizontal: bool,
    axis: _Axis,
    centre: dict[str, float],
    offset: float,
) -> list[str]:
    if not horizontal or getattr(t, "error_x", None) is None or t.error_x.array is None:
        return []
    plus, minus = _errors(t, len(vals))
    out = []
    for i, v in enumerate(vals):
        if v is None or cats[i] not in centre:
            continue
        c = centre[cats[i]] + offset
        x0, x1 = axis.at(v - minus[i]), axis.at(v + plus[i])
        out.append(
            f'<line x1="{x0:.1f}" y1="{c:.1f}" x2="{x1:.1f}" y2="{c:.1f}" stroke="#7f7f7f" stroke-width="1.2"/>'
        )
        for x in (x0, x1):
            out.append(
                f'<line x1="{x:.1f}" y1="{c - 4:.1f}" x2="{x:.1f}" y2="{c + 4:.1f}" stroke="#7f7f7f" stroke-width="1.2"/>'
            )
    return out


def _scatter(
    t: Any,
    vals: list[float | None],
    cats: list[str],
    horizontal: bool,
    axis: _Axis,
    centre: dict[str, float],
) -> list[str]:
    parts: list[str] = []
    pts = []
    for i, v in enumerate(vals):
        if v is None or cats[i] not in centre:
            continue
        x, y = (
            (axis.at(v), centre[cats[i]])
            if horizontal
            else (centre[cats[i]], axis.at(v))
        )
        pts.append((i, x, y))
    mode = t.mode or "markers"
    line_colour = (t.line.color if t.line is not None else None) or DEFAULT
    if "lines" in mode and len(pts) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for _, x, y in pts)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{line_colour}" stroke-width="2"/>'
        )
    parts += _error_bars(t, vals, cats, horizontal, axis, centre, 0.0)
    if "markers" in mode:
        colours = t.marker.color if t.marker is not None else None
        size = (_num(t.marker.size) if t.marker is not None else None) or 7
        symbol = str(t.marker.symbol or "") if t.marker is not None else ""
        for i, x, y in pts:
            colour = _colour(colours if colours is not None else line_colour, i, t)
            if symbol.startswith("line-ns"):
                h = size / 2
                parts.append(
                    f'<line x1="{x:.1f}" y1="{y - h:.1f}" x2="{x:.1f}" y2="{y + h:.1f}" stroke="{colour}" stroke-width="3"/>'
                )
            else:
                parts.append(
                    f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{max(size / 2.2, 2.5):.1f}" fill="{colour}"/>'
                )
    return parts


def _draw_shapes(
    fig: go.Figure,
    horizontal: bool,
    axis: _Axis,
    top: float,
    plot_h: float,
    left: float,
) -> list[str]:
    out = []
    for shape in fig.layout.shapes or []:
        ref = _num(shape.x0 if horizontal else shape.y0)
        if ref is None:
            continue
        dash = ' stroke-dasharray="5,4"' if (shape.line and shape.line.dash) else ""
        p = axis.at(ref)
        if horizontal:
            out.append(
                f'<line x1="{p:.1f}" y1="{top}" x2="{p:.1f}" y2="{top + plot_h}" stroke="#7f7f7f"{dash}/>'
            )
        else:
            out.append(
                f'<line x1="{left}" y1="{p:.1f}" x2="{WIDTH - 20}" y2="{p:.1f}" stroke="#7f7f7f"{dash}/>'
            )
    return out


def _legend(named: list[Any], y: float, left: float) -> list[str]:
    if len(named) < 2:
        return []
    out = []
    x, row = left, 0
    for t in named:
        colour = t.marker.color if t.marker is not None else None
        if isinstance(colour, (list, tuple)):
            colour = colour[0] if colour and isinstance(colour[0], str) else None
        if not isinstance(colour, str) and t.type != "bar" and t.line is not None:
            colour = t.line.color
        if not isinstance(colour, str):
            colour = DEFAULT
        w = 26 + 6.2 * len(_short(t.name, 30))
        if x + w > WIDTH - 10:
            x, row = left, row + 1
        yy = y + 22 * row
        out.append(
            f'<rect x="{x:.1f}" y="{yy - 9:.1f}" width="12" height="12" fill="{colour}"/>'
        )
        out.append(_txt(x + 16, yy + 1, _short(t.name, 30), size=10))
        x += w
    return out


def _titles(
    fig: go.Figure,
    height: float,
    top: float,
    plot_h: float,
    left: float,
    horizontal: bool,
    label_w: float,
) -> list[str]:
    out = [
        _txt(8, 18 + 17 * i, line, size=13, weight="bold")
        for i, line in enumerate(_title_lines(fig))
    ]
    xt = fig.layout.xaxis.title.text if fig.layout.xaxis.title else None
    yt = fig.layout.yaxis.title.text if fig.layout.yaxis.title else None
    if xt:
        out.append(
            _txt(
                (left + WIDTH) / 2,
                height - 8,
                xt,
                size=11,
                anchor="middle",
                colour=MUTED,
            )
        )
    if yt:
        out.append(_txt(14, top + plot_h / 2, _short(yt, 40), size=11, anchor="middle",
                        colour=MUTED, rotate=-90))  # fmt: skip
    return out


def _title_lines(fig: go.Figure, width: int = 92) -> list[str]:
    """The chart's title in lines of at most `width` characters (two at most)."""
    title = fig.layout.title.text if fig.layout.title else None
    if not title:
        return []
    lines: list[str] = []
    line = ""
    for word in str(title).split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return lines if len(lines) <= 2 else [lines[0], _short(" ".join(lines[1:]), width)]


def _head(fig: go.Figure) -> float:
    """Height of the title block."""
    return 8.0 + 17 * len(_title_lines(fig))


def _svg(height: float, parts: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" '
            f'width="{WIDTH}" height="{height:.0f}">' + "".join(parts) + "</svg>")  # fmt: skip


# --- heatmaps -----------------------------------------------------------------------------


def _heatmap(fig: go.Figure, t: Any) -> str:
    z = [list(row) for row in (t.z or [])]
    xs = [str(v) for v in (t.x or range(len(z[0]) if z else 0))]
    ys = [str(v) for v in (t.y or range(len(z)))]
    if not z or not xs:
        return ""
    values = [v for row in z for v in row if _num(v) is not None]
    lo = _num(t.zmin) if t.zmin is not None else min(values, default=0.0)
    hi = _num(t.zmax) if t.zmax is not None else max(values, default=1.0)
    lo, hi = lo or 0.0, hi if hi is not None else 1.0
    texts = t.text if t.text is not None else None
    percent = "%" in str(getattr(t.colorbar, "tickformat", "") or "")
    label_w = 12 + 6.2 * max(len(y) for y in ys)
    left, top = 30 + label_w, _head(fig) + 16
    cell_w = (WIDTH - left - 20) / len(xs)
    cell_h = max(16.0, min(60.0, 300 / len(ys)))
    parts: list[str] = []
    order = ys if fig.layout.yaxis.autorange == "reversed" else list(reversed(ys))
    for r, y_label in enumerate(order):
        i = ys.index(y_label)
        yy = top + r * cell_h
        parts.append(
            _txt(left - 6, yy + cell_h / 2 + 4, y_label, size=10, anchor="end")
        )
        for j in range(len(xs)):
            v = _num(z[i][j]) if j < len(z[i]) else None
            if v is None:
                continue
            share = (v - lo) / ((hi - lo) or 1.0)
            colour = _scale_colour(share)
            parts.append(
                f'<rect x="{left + j * cell_w:.1f}" y="{yy:.1f}" width="{cell_w - 1:.1f}" height="{cell_h - 1:.1f}" fill="{colour}"/>'
            )
            cell_text = _cell_text(texts, i, j, v, percent, cell_w)
            dark = share > 0.55
            for k, line in enumerate(cell_text):
                parts.append(_txt(left + (j + 0.5) * cell_w, yy + cell_h / 2 + 4 + (k - (len(cell_text) - 1) / 2) * 12,
                                  line, size=9, anchor="middle", colour="#ffffff" if dark else INK))  # fmt: skip
    bottom = top + len(ys) * cell_h
    step = max(1, math.ceil(len(xs) / 24))
    for j, x_label in enumerate(xs):
        if j % step == 0:
            parts.append(
                _txt(
                    left + (j + 0.5) * cell_w,
                    bottom + 14,
                    _short(x_label, 10),
                    size=10,
                    anchor="middle",
                )
            )
    height = bottom + 44
    parts += _titles(fig, height, top, len(ys) * cell_h, left, False, label_w)
    return _svg(height, parts)


def _cell_text(
    texts: Any, i: int, j: int, v: float, percent: bool, width: float
) -> list[str]:
    if texts is not None:
        try:
            raw = str(texts[i][j])
        except (IndexError, TypeError):
            raw = ""
        return [s for s in raw.split("<br>") if s]
    if width < 26:
        return []
    return [_fmt(v, percent)]
