"""Build a report: run its sections on the reader's scope and tell their story.

:func:`build_report` is what ``crmlens report`` (and the writers of HTML, XLSX and PDF)
call. It resolves the day, sees the warehouse through the scope (a manager's report holds
only their own clients), runs each section of the period through the registry, leaves out
a section whose tables are empty or whose analysis cannot run here (listed in
:attr:`Report.skipped`), and words the story of the report's findings with
:func:`crmlens.insights.narrative.tell` — so the narrative that opens the report speaks of
exactly what the report shows, from one run of the analyses.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crmlens.errors import CrmlensError, InputError
from crmlens.reports.labels import Kind, kind
from crmlens.reports.sections import (
    FORECAST_LEVEL,
    PERIODS,
    PLAN_SCOPE,
    SectionSpec,
    sections_for,
)

if TYPE_CHECKING:
    import plotly.graph_objects as go
    import pyarrow as pa

    from crmlens.insights.findings import Finding
    from crmlens.insights.narrative import Story
    from crmlens.insights.registry import AnalysisResult
    from crmlens.warehouse import Warehouse
    from crmlens.warehouse.scope import Scope

Progress = Callable[[str, int, int], None]

PERIOD_TITLES = {
    "day": ("Ежедневный отчёт", "Daily report"),
    "week": ("Еженедельный отчёт", "Weekly report"),
    "month": ("Ежемесячный отчёт", "Monthly report"),
}


@dataclass
class Section:
    """A section as run: its rows (all and shown), chart and findings."""

    spec: SectionSpec
    title: str
    result: AnalysisResult
    shown: pa.Table
    kinds: dict[str, Kind]
    figure: go.Figure | None
    findings: list[Finding]
    seconds: float
    total: int = 0

    @property
    def key(self) -> str:
        """The section's id."""
        return self.spec.key


@dataclass(frozen=True)
class SkippedSection:
    """A section left out of the report, and why."""

    key: str
    title: str
    reason: str


@dataclass
class Report:
    """A built report, ready to be written as HTML, XLSX or PDF."""

    period: str
    role: str
    scope: Scope | None
    lang: str
    as_of: dt.date
    start: dt.date
    title: str
    subtitle: str
    story: Story
    sections: list[Section]
    skipped: list[SkippedSection] = field(default_factory=list)
    generated_at: dt.datetime = field(
        default_factory=lambda: dt.datetime.now().replace(microsecond=0)
    )

    def t(self, ru: str, en: str) -> str:
        """`ru` or `en` by the report's language."""
        return ru if self.lang == "ru" else en

    def findings(self) -> list[Finding]:
        """Every finding of the report: the story's first, then the rest, ranked."""
        from crmlens.insights.findings import dedupe, rank

        first = [item.finding for item in self.story.items]
        rest = rank([f for s in self.sections for f in s.findings])
        return dedupe(first + rest)


def parse_scope(text: str | None, role: str) -> Scope | None:
    """``manager:M05``, ``region:Юг``, ``company``, or a bare id of the role's scope kind."""
    from crmlens.insights.roles import scope_required
    from crmlens.warehouse.scope import Scope

    if text is None or not text.strip():
        return None
    text = text.strip()
    if ":" in text or text == "company":
        return Scope.parse(text)
    need = scope_required(role)
    if need is None:
        raise InputError(
            f"cannot read scope {text!r}",
            reason="write KIND:ID, e.g. manager:M05 or region:Юг, or company",
        )
    return Scope(need, text)


def report_day(wh: Warehouse, as_of: str | dt.date | None) -> dt.date:
    """The given day; else the data's last day, but not today (a day still going on)."""
    from crmlens.insights.params import parse_date, resolve_as_of

    given = parse_date(as_of)
    if given is not None:
        return given
    yesterday = dt.date.today() - dt.timedelta(days=1)
    return min(resolve_as_of(wh, None), yesterday)


def window(period: str, day: dt.date) -> dt.date:
    """The first day of the `period` that ends on `day` (a week: the last seven days)."""
    if period == "day":
        return day
    if period == "week":
        return day - dt.timedelta(days=6)
    return day.replace(day=1)


def build_report(
    wh: Warehouse,
    *,
    period: str,
    role: str = "head",
    scope: Scope | None = None,
    lang: str = "ru",
    as_of: str | dt.date | None = None,
    top: int = 5,
    progress: Progress | None = None,
) -> Report:
    """Run the sections of the `period` report for `role` on `wh` seen through `scope`."""
    from crmlens.insights.i18n import check_lang
    from crmlens.insights.narrative import check_scope, check_top
    from crmlens.insights.roles import role_spec
    from crmlens.warehouse.scope import scoped

    if period not in PERIODS:
        raise InputError(
            f"unknown --period {period!r}", reason="use day, week or month"
        )
    check_lang(lang)
    role_spec(role)
    check_top(top)
    check_scope(role, scope)
    day = report_day(wh, as_of)
    view = scoped(wh, scope)
    _check_scope_exists(view, scope)
    specs = sections_for(period, role)
    sections: list[Section] = []
    skipped: list[SkippedSection] = []
    present: dict[str, bool] = {}
    for done, spec in enumerate(specs):
        if progress:
            progress(spec.heading(lang), done, len(specs))
        outcome = _run_section(view, spec, role, scope, lang, day, present)
        if isinstance(outcome, Section):
            sections.append(outcome)
        else:
            skipped.append(outcome)
    if progress:
        progress("", len(specs), len(specs))
    story = _story(
        view, sections, skipped, role=role, scope=scope, lang=lang, day=day, top=top
    )
    start = window(period, day)
    return Report(
        period=period,
        role=role,
        scope=scope,
        lang=lang,
        as_of=day,
        start=start,
        title=_title(period, start, day, lang),
        subtitle=_subtitle(view, role, scope, lang),
        story=story,
        sections=sections,
        skipped=skipped,
    )


def _check_scope_exists(view: Warehouse, scope: Scope | None) -> None:
    if scope is None or scope.kind == "company":
        return
    if view.table("managers").count().to_pyarrow().as_py() == 0:
        raise InputError(
            f"no {scope.kind} {scope.id!r} among the managers of the warehouse",
            reason=f"check the {scope.kind} id (crmlens managers kpis lists the managers)",
        )


def _has_rows(wh: Warehouse, table: str, present: dict[str, bool]) -> bool:
    if table not in present:
        try:
            present[table] = bool(wh.table(table).count().to_pyarrow().as_py())
        except Exception:  # a missing table (Postgres) or an unreadable one: no section
            present[table] = False
    return present[table]


def section_params(
    spec: SectionSpec, role: str, scope: Scope | None, day: dt.date
) -> dict[str, Any]:
    """The analysis parameters of `spec` for `role` in `scope` on `day`."""
    from crmlens.insights.roles import params_for

    own = params_for(role, spec.analysis)
    params = {**spec.params, **own, "as_of": day}
    kind = scope.kind if scope else "company"
    if spec.analysis == "plan" and "scope" not in own:
        params["scope"] = PLAN_SCOPE[kind]
    if spec.analysis == "forecast" and "level" not in own:
        params["level"] = FORECAST_LEVEL[kind]
    return params


def _run_section(
    view: Warehouse,
    spec: SectionSpec,
    role: str,
    scope: Scope | None,
    lang: str,
    day: dt.date,
    present: dict[str, bool],
) -> Section | SkippedSection:
    from crmlens.insights import registry
    from crmlens.insights.findings import rank
    from crmlens.reports.charts import figure_for

    title = spec.heading(lang)
    empty = [t for t in spec.needs if not _has_rows(view, t, present)]
    if empty:
        why = (
            ("нет данных в таблицах: ", "no rows in ")
            if len(empty) > 1
            else ("нет данных в таблице ", "no rows in ")
        )
        return SkippedSection(spec.key, title, _t(lang, *why) + ", ".join(empty))
    start = time.perf_counter()
    try:
        result = registry.run(
            spec.analysis, view, **section_params(spec, role, scope, day)
        )
    except Exception as e:  # one analysis must not break the report
        return SkippedSection(spec.key, title, _reason(e))
    findings = rank(result.findings)
    if spec.from_findings:
        shown, total = findings_table(findings[: spec.top], lang), len(findings)
    else:
        rows = summarised(spec, result.rows)
        shown, total = shown_rows(spec, rows), rows.num_rows
    kinds = {c: _kind(spec, c, shown.schema.field(c).type) for c in shown.column_names}
    return Section(
        spec=spec,
        title=title,
        result=result,
        shown=shown,
        kinds=kinds,
        figure=figure_for(spec.analysis, result.rows, lang=lang, params=result.params),
        findings=findings,
        seconds=time.perf_counter() - start,
        total=total,
    )


def _t(lang: str, ru: str, en: str) -> str:
    return ru if lang == "ru" else en


def _reason(e: Exception) -> str:
    text = e.message if isinstance(e, CrmlensError) else f"{type(e).__name__}: {e}"
    first = text.strip().splitlines()[0] if text.strip() else type(e).__name__
    return first if len(first) <= 200 else first[:199] + "…"


def _kind(spec: SectionSpec, column: str, arrow_type: object) -> Kind:
    given = spec.kinds.get(column)
    return given if given is not None else kind(column, arrow_type)  # type: ignore[return-value]


def summarised(spec: SectionSpec, rows: pa.Table) -> pa.Table:
    """The rows a section is about (e.g. segments of clients, failed checks only)."""
    if spec.summary is not None and rows.num_rows:
        return spec.summary(rows)
    return rows


def shown_rows(spec: SectionSpec, rows: pa.Table) -> pa.Table:
    """The rows a section shows of its `rows`: ordered, the top ones, its columns."""
    import pyarrow.compute as pc

    if spec.sort and spec.sort in rows.column_names and rows.num_rows:
        order = "ascending" if spec.ascending else "descending"
        idx = pc.sort_indices(rows, sort_keys=[(spec.sort, order)])
        rows = rows.take(idx)
    rows = rows.slice(0, spec.top)
    if spec.columns is not None:
        rows = rows.select([c for c in spec.columns if c in rows.column_names])
    return rows


def findings_table(findings: list[Finding], lang: str) -> pa.Table:
    """Findings as rows in `lang`: severity, subject, impact, text and action."""
    import pyarrow as pa

    rows = [
        {
            "severity": f.severity,
            "subject": _subject(f.subject),
            "impact": f.impact,
            "text": f.text[lang],
            "action": f.action[lang],
        }
        for f in findings
    ]
    schema = pa.schema(
        [
            ("severity", pa.string()),
            ("subject", pa.string()),
            ("impact", pa.float64()),
            ("text", pa.string()),
            ("action", pa.string()),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)


def _subject(subject: dict[str, Any]) -> str:
    ident = subject.get("id")
    return "—" if ident is None else str(ident)


def _story(
    view: Warehouse,
    sections: list[Section],
    skipped: list[SkippedSection],
    *,
    role: str,
    scope: Scope | None,
    lang: str,
    day: dt.date,
    top: int,
) -> Story:
    from crmlens.insights.currency import main_currency
    from crmlens.insights.narrative import Collected, Skipped, subject_names, tell

    found = [f for s in sections for f in s.findings]
    extra = [{"type": scope.kind, "id": scope.id}] if scope is not None else None
    collected = Collected(
        role=role,
        scope=str(scope) if scope is not None and scope.kind != "company" else None,
        as_of=day,
        findings=found,
        skipped=[Skipped(s.key, s.reason) for s in skipped],
        seconds={s.spec.analysis: s.seconds for s in sections},
        currency=main_currency(view),
        names=subject_names(view, found, extra),
    )
    return tell(collected, lang=lang, top=top)


def _title(period: str, start: dt.date, day: dt.date, lang: str) -> str:
    from crmlens.insights.i18n import fmt_date, fmt_month

    ru, en = PERIOD_TITLES[period]
    name = _t(lang, ru, en)
    if period == "day":
        return f"{name}: {fmt_date(day, lang)}"
    if period == "week":
        return f"{name}: {fmt_date(start, lang)} — {fmt_date(day, lang)}"
    to = _t(lang, f"по {fmt_date(day, lang)}", f"to {fmt_date(day, lang)}")
    return f"{name}: {fmt_month(day, lang)} ({to})"


def _subtitle(view: Warehouse, role: str, scope: Scope | None, lang: str) -> str:
    from crmlens.insights.roles import role_spec

    who = role_spec(role).title[lang]
    parts = [_t(lang, f"Для: {who}", f"For: {who}")]
    if scope is not None and scope.kind == "manager":
        m = view.table("managers")
        names = [n for n in m.name.to_pyarrow().to_pylist() if n]
        person = f"{names[0]} ({scope.id})" if names else str(scope.id)
        parts.append(_t(lang, f"Менеджер: {person}", f"Manager: {person}"))
    elif scope is not None and scope.kind != "company":
        kind = {"region": ("Регион", "Region"), "team": ("Команда", "Team")}[scope.kind]
        parts.append(f"{_t(lang, *kind)}: {scope.id}")
    else:
        parts.append(_t(lang, "Вся компания", "The whole company"))
    return " · ".join(parts)
