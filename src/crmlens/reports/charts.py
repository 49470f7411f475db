"""One Plotly chart per analysis result, with Russian or English titles (reports and web).

:func:`figure_for` is the one entry point: it takes an analysis name, its result rows (Arrow)
and the language, and returns a :class:`plotly.graph_objects.Figure`, or ``None`` when the
analysis has no chart or the rows are empty. The HTML report and the web app embed the same
figures; the PDF draws them as SVG (:mod:`crmlens.reports.svg`).

Charts use few trace types (bars, lines with markers, heatmaps) and light colours, so that
they print well and the SVG renderer of the PDF can draw every one of them.

>>> import pyarrow as pa
>>> rows = pa.table({"source": ["Сайт", "Звонок"], "leads": [30, 10],
...                  "lead_to_won_rate": [0.1, 0.3]})
>>> fig = figure_for("leads_sources", rows, lang="en")
>>> fig.layout.xaxis.title.text, fig.layout.yaxis.title.text
('Lead to won', 'Source')
>>> figure_for("dedup", rows, lang="en") is None
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crmlens.reports._chart_kit import BUILDERS, style

if TYPE_CHECKING:
    import plotly.graph_objects as go
    import pyarrow as pa


def figure_for(
    analysis: str, rows: pa.Table, *, lang: str, params: dict[str, Any] | None = None
) -> go.Figure | None:
    """The chart of `analysis` for `rows` in `lang` (``ru``/``en``); None when it has none.

    Parameters
    ----------
    analysis
        A registered analysis name (``funnel``, ``plan``, ``managers_compare``, …).
    rows
        Its result rows, as returned by ``crmlens.insights.registry.run(...).rows``.
    lang
        Language of titles, axes and legends.
    params
        The result's params (used where they change the rows' meaning, e.g. the cohort
        metric or the quality scores).
    """
    _load_builders()
    builder = BUILDERS.get(analysis)
    if builder is None or rows is None or rows.num_rows == 0:
        return None
    fig = builder(rows.to_pylist(), lang, dict(params or {}))
    if fig is None:
        return None
    style(fig)
    return fig


def has_chart(analysis: str) -> bool:
    """True when :func:`figure_for` draws `analysis` (given rows)."""
    _load_builders()
    return analysis in BUILDERS


def _load_builders() -> None:
    from crmlens.reports import (  # noqa: F401  (each registers its builders on import)
        _charts_clients,
        _charts_managers,
        _charts_other,
        _charts_sales,
    )
