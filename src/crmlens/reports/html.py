"""The HTML report: one self-contained file, the story first, charts drawn by Plotly offline.

The Plotly JavaScript is read from the installed ``plotly`` package and inlined once, so the
file opens offline and on any machine; nothing is fetched from a CDN. The same template,
with the charts as static SVG instead of scripts (:mod:`crmlens.reports.svg`), is the
source of the PDF.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmlens.reports.cells import css_class, fmt_cell, fmt_text
from crmlens.reports.labels import label

if TYPE_CHECKING:
    from crmlens.reports.build import Report, Section

TEMPLATES = Path(__file__).parent / "templates"
#: Findings shown under each section (all of them are on the XLSX findings sheet).
SECTION_FINDINGS = 3

WORDS = {
    "story": ("Главное", "The story"),
    "action": ("Что сделать", "Action"),
    "evidence": ("Данные", "Evidence"),
    "contents": ("Разделы", "Sections"),
    "skipped": ("Не вошло в отчёт", "Not in this report"),
    "shown": ("Показаны первые {n} строк из {total}", "The first {n} of {total} rows"),
    "no_rows": ("Строк нет", "No rows"),
    "generated": ("Сформирован", "Generated"),
    "as_of": ("Данные на", "Data as of"),
    "no_chart_print": ("", ""),
    "findings": ("Выводы", "Findings"),
    "none": ("Существенных проблем не найдено.", "No significant problems found."),
    "section_link": ("к разделу", "to the section"),
}


def words(lang: str) -> dict[str, str]:
    """The template's fixed words in `lang`."""
    i = 0 if lang == "ru" else 1
    return {k: v[i] for k, v in WORDS.items()}


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """The Plotly JavaScript bundle of the installed package (no CDN)."""
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


def render_html(report: Report, *, for_print: bool = False) -> str:
    """The report as one HTML document (`for_print`: SVG charts, no scripts — the PDF)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    template = env.get_template("report.html.j2")
    return template.render(**context(report, for_print=for_print))


def write_html(report: Report, path: Path) -> Path:
    """Write the self-contained HTML report to `path`."""
    path.write_text(render_html(report), encoding="utf-8")
    return path


def context(report: Report, *, for_print: bool = False) -> dict[str, Any]:
    """Everything the template shows, formatted in the report's language."""
    lang = report.lang
    anchors = {s.spec.analysis: f"sec-{s.key}" for s in report.sections}
    return {
        "lang": lang,
        "title": report.title,
        "subtitle": report.subtitle,
        "as_of": fmt_cell(report.as_of, "date", lang),
        "generated": fmt_cell(report.generated_at, "datetime", lang),
        "words": words(lang),
        "story": {
            "headline": report.story.headline,
            "items": [
                {
                    "title": item.title,
                    "number": item.number,
                    "comparison": item.comparison,
                    "text": item.text,
                    "action": item.action,
                    "severity": item.severity,
                    "command": item.evidence.command,
                    "anchor": anchors.get(item.evidence.analysis),
                }
                for item in report.story.items
            ],
        },
        "sections": [_section(s, lang, for_print) for s in report.sections],
        "skipped": [{"title": s.title, "reason": s.reason} for s in report.skipped],
        "for_print": for_print,
        "plotly_js": None if for_print else plotly_js(),
        "css": (TEMPLATES / "report.css").read_text(encoding="utf-8"),
    }


def _section(s: Section, lang: str, for_print: bool) -> dict[str, Any]:
    columns = s.shown.column_names
    rows = []
    for r in s.shown.to_pylist():
        rows.append(
            [
                {
                    "text": fmt_text(c, r[c], lang)
                    if s.kinds[c] == "text"
                    else fmt_cell(r[c], s.kinds[c], lang),
                    "cls": css_class(c, s.kinds[c], r[c]),
                }
                for c in columns
            ]
        )
    total = s.total
    note = ""
    if total > len(rows):
        i = 0 if lang == "ru" else 1
        note = WORDS["shown"][i].format(n=len(rows), total=total)
    return {
        "key": s.key,
        "title": s.title,
        "chart": _chart(s, for_print),
        "headers": [
            {"text": label(c, lang), "cls": "num" if s.kinds[c] in _NUMERIC else ""}
            for c in columns
        ],
        "rows": rows,
        "note": note,
        "findings": [
            {"text": f.text[lang], "action": f.action[lang], "severity": f.severity}
            for f in ([] if s.spec.from_findings else s.findings[:SECTION_FINDINGS])
        ],
    }


_NUMERIC = frozenset({"money", "percent", "int", "float", "ratio"})


def _chart(s: Section, for_print: bool) -> str | None:
    if s.figure is None:
        return None
    if for_print:
        from crmlens.reports.svg import figure_svg

        return figure_svg(s.figure)
    return str(
        s.figure.to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=f"chart-{s.key}",
            config={"displaylogo": False, "responsive": True},
        )
    )
