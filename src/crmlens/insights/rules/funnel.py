"""``funnel``: stage reach and conversion, stage drops since a month, segment gaps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from itertools import groupby
from typing import TYPE_CHECKING, Any

from crmlens.errors import InputError
from crmlens.insights.findings import Finding
from crmlens.insights.params import parse_date, resolve_as_of
from crmlens.insights.registry import AnalysisResult, register
from crmlens.insights.rules._money import money_exact as money

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pyarrow as pa

    from crmlens.analytics.funnel_drops import ChangePoint, Gap
    from crmlens.analytics.funnel_groups import FunnelInputs, GroupBy
    from crmlens.warehouse import Warehouse

GAP_GROUPS: tuple[GroupBy, ...] = ("manager", "source", "region")
GROUP_WORDS = {
    "manager": ("менеджер", "manager"),
    "source": ("источник", "source"),
    "region": ("регион", "region"),
}


def pct(value: float) -> str:
    """A rate as a percentage with one decimal: ``42.5 %``."""
    return f"{100 * value:.1f} %"


def inputs_of(wh: Warehouse) -> FunnelInputs:
    """The canonical tables of `wh` a funnel reads."""
    from crmlens.analytics.funnel_groups import FunnelInputs

    return FunnelInputs(
        deals=wh.deals,
        deal_stages=wh.deal_stages,
        pipelines=wh.pipelines,
        leads=wh.leads,
        managers=wh.managers,
        accounts=wh.accounts,
        orders=wh.orders,
        mart=wh.mart,
    )


def _check_by(by: str | None) -> GroupBy | None:
    from crmlens.analytics.funnel_groups import GROUPS

    if by is None or by in GROUPS:
        return by  # type: ignore[return-value]
    raise InputError(f"--by {by!r} is not a group", reason="use " + ", ".join(GROUPS))


@register("funnel", "Stage reach and conversion; where and since when deals leak")
def run(
    wh: Warehouse,
    *,
    as_of: str | dt.date | None = None,
    pipeline: str | None = None,
    by: str | None = None,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    velocity: bool = False,
    **_: Any,
) -> AnalysisResult:
    """Funnel rows (or velocity rows) and stage_drop / segment_gap findings."""
    from crmlens.analytics.funnel import funnel_facts, stage_funnel
    from crmlens.analytics.funnel_velocity import pipeline_velocity

    day = resolve_as_of(wh, as_of)
    group = _check_by(by)
    window = {
        "start": parse_date(start, name="--from"),
        "end": parse_date(end, name="--to"),
    }
    inputs = inputs_of(wh)
    params = {
        "as_of": day.isoformat(),
        "pipeline": pipeline,
        "by": group,
        "from": _iso(window["start"]),
        "to": _iso(window["end"]),
        "velocity": velocity,
    }
    if velocity:
        _, _, facts = funnel_facts(
            inputs, as_of=day, pipeline=pipeline, by=group, **window
        )
        expr = pipeline_velocity(facts, grouped=group is not None)
    else:
        expr = stage_funnel(inputs, as_of=day, pipeline=pipeline, by=group, **window)
    rows = _rename_group(expr, group).to_pyarrow()
    findings = funnel_findings(inputs, as_of=day, pipeline=pipeline, **window)
    return AnalysisResult("funnel", params, rows, findings)


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _rename_group(expr: ir.Table, group: GroupBy | None) -> ir.Table:
    if group is None or "group_value" not in expr.columns:
        return expr
    return expr.rename({group: "group_value"})


def funnel_findings(
    inputs: FunnelInputs,
    *,
    as_of: dt.date,
    pipeline: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> list[Finding]:
    """stage_drop and segment_gap findings of one funnel selection.

    Two queries: the outcomes after each stage, and the matured entries per transition,
    cohort and label (:func:`crmlens.analytics.funnel_drops.transition_cells`) that
    drops and every group's gaps are counted from.
    """
    from crmlens.analytics.funnel import funnel_facts
    from crmlens.analytics.funnel_drops import (
        labelled_facts,
        matured_entries,
        outcomes_after,
        selected_entries,
        transition_cells,
        transition_windows,
    )

    design, events, facts = funnel_facts(
        inputs, as_of=as_of, pipeline=pipeline, start=start, end=end
    )
    entries = selected_entries(
        inputs, events, design, as_of=as_of, pipeline=pipeline, start=start, end=end
    )
    matured = matured_entries(entries, transition_windows(entries), as_of=as_of)
    labelled = labelled_facts(facts, inputs, GAP_GROUPS)
    cells = transition_cells(matured, labelled, GAP_GROUPS).to_pyarrow()
    later = _later_outcomes(outcomes_after(facts, design))
    return _drops(cells, later) + _gaps(cells, later)


def _later_outcomes(expr: ir.Table) -> dict[tuple[str, str], tuple[float, float]]:
    out = {}
    for r in expr.to_pyarrow().to_pylist():
        out[(r["pipeline_id"], r["stage"])] = (
            r["win_rate_after"] or 0.0,
            r["avg_won_amount"] or 0.0,
        )
    return out


def _impact(
    later: dict[tuple[str, str], tuple[float, float]],
    key: tuple[str, str],
    lost_deals: float,
) -> float | None:
    win, amount = later.get(key, (0.0, 0.0))
    value = lost_deals * win * amount
    return round(value, 2) if value > 0 else None


def _drops(
    cells: pa.Table, later: dict[tuple[str, str], tuple[float, float]]
) -> list[Finding]:
    from crmlens.analytics.funnel_drops import Cohort, cohort_rows, detect_drop

    rows = cohort_rows(cells)
    found = []
    key = lambda r: (r["pipeline_id"], r["position"], r["stage"], r["next_stage"])  # noqa: E731
    for (pipe, _pos, stage, nxt), part in groupby(rows, key=key):
        items = list(part)
        cohorts = [
            Cohort(r["cohort"].strftime("%Y-%m"), r["entered"], r["converted"])
            for r in items
        ]
        cp = detect_drop(cohorts)
        if cp is not None:
            window = float(items[0]["window_days"])
            found.append(_drop_finding(pipe, stage, nxt, cp, window, later))
    return found


def _drop_finding(
    pipe: str,
    stage: str,
    nxt: str,
    cp: ChangePoint,
    window: float,
    later: dict[tuple[str, str], tuple[float, float]],
) -> Finding:
    lost = cp.after_deals * (cp.before_rate - cp.after_rate)
    impact = _impact(later, (pipe, nxt), lost)
    fall = 1 - cp.after_rate / cp.before_rate
    text = {
        "ru": f"С {cp.first_cohort} сделки хуже проходят этап «{stage}» → «{nxt}»: "
        f"{pct(cp.after_rate)} вместо {pct(cp.before_rate)} за обычные "
        f"{window:.0f} дн. Потеряно около {lost:.0f} сделок, это {money(impact, 'ru')}.",
        "en": f"Since {cp.first_cohort} fewer deals get from “{stage}” to “{nxt}”: "
        f"{pct(cp.after_rate)} instead of {pct(cp.before_rate)} within the usual "
        f"{window:.0f} days. About {lost:.0f} deals lost, worth {money(impact, 'en')}.",
    }
    action = {
        "ru": f"Разберите сделки этапа «{stage}» с {cp.first_cohort}: что изменилось "
        "(цены, условия, шаблон КП, ответственные), и верните прежний порядок работы.",
        "en": f"Review the deals at “{stage}” since {cp.first_cohort}: what changed "
        "(prices, terms, proposal template, people), and restore what worked before.",
    }
    return Finding(
        analysis="funnel",
        kind="stage_drop",
        severity="high" if fall >= 0.25 else "medium",
        subject={"type": "stage", "id": stage, "next": nxt, "pipeline_id": pipe},
        metric="conversion_rate",
        value=round(cp.after_rate, 4),
        baseline=round(cp.before_rate, 4),
        impact=impact,
        period=cp.first_cohort,
        text=text,
        action=action,
        evidence={
            "p_value": cp.p_value,
            "z": round(cp.z, 3),
            "deals_before": cp.before_deals,
            "deals_after": cp.after_deals,
            "deals_affected": round(lost, 1),
            "cohorts_after": cp.cohorts_after,
            "window_days": window,
            "measured_on": "deals by month of first entry into the stage, observed "
            "for the stage's usual window (p90 of time to move on)",
        },
    )


def _gaps(
    cells: pa.Table, later: dict[tuple[str, str], tuple[float, float]]
) -> list[Finding]:
    from crmlens.analytics.funnel_drops import segment_rows

    per_by = {by: segment_rows(cells, by) for by in GAP_GROUPS}
    tests = sum(len(v) for v in per_by.values())
    found = []
    for label, rows in per_by.items():
        found += _gap_findings(label, rows, tests, later)
    return found


def _gap_findings(
    by: str,
    rows: Iterable[dict[str, Any]],
    tests: int,
    later: dict[tuple[str, str], tuple[float, float]],
) -> list[Finding]:
    from crmlens.analytics.funnel_drops import Cohort, detect_gap
    from crmlens.analytics.funnel_groups import NONE_LABEL

    out = []
    key = lambda r: (r["pipeline_id"], r["position"], r["stage"], r["next_stage"])  # noqa: E731
    for (pipe, _pos, stage, nxt), part in groupby(sorted(rows, key=key), key=key):
        items = list(part)
        n_all = sum(r["entered"] for r in items)
        k_all = sum(r["converted"] for r in items)
        for r in items:
            if r["group_value"] == NONE_LABEL:
                continue
            me = Cohort(r["group_value"], r["entered"], r["converted"])
            rest = Cohort("rest", n_all - me.entered, k_all - me.converted)
            gap = detect_gap(me, rest, tests=tests)
            if gap is not None:
                out.append(_gap_finding(by, pipe, stage, nxt, gap, later))
    return out


def _gap_finding(
    by: str,
    pipe: str,
    stage: str,
    nxt: str,
    gap: Gap,
    later: dict[tuple[str, str], tuple[float, float]],
) -> Finding:
    lost = gap.deals * (gap.rest_rate - gap.rate)
    impact = _impact(later, (pipe, nxt), lost)
    ru_word, en_word = GROUP_WORDS[by]
    text = {
        "ru": f"{ru_word.capitalize()} {gap.group}: на этапе «{stage}» → «{nxt}» "
        f"проходит {pct(gap.rate)} сделок, у остальных {pct(gap.rest_rate)} "
        f"({gap.deals} сделок). Разница стоит около {money(impact, 'ru')}.",
        "en": f"{en_word.capitalize()} {gap.group}: {pct(gap.rate)} of deals get from "
        f"“{stage}” to “{nxt}”, the rest {pct(gap.rest_rate)} ({gap.deals} deals). "
        f"The gap is worth about {money(impact, 'en')}.",
    }
    action = {
        "ru": f"Разберите с {ru_word}ом {gap.group} сделки этапа «{stage}»: сравните с "
        "лучшими, назначьте наставника или поменяйте распределение сделок.",
        "en": f"Go through the “{stage}” deals of {en_word} {gap.group}: compare with "
        "the best, assign a mentor or change how deals are routed.",
    }
    return Finding(
        analysis="funnel",
        kind="segment_gap",
        severity="medium" if (impact or 0) > 0 else "low",
        subject={
            "type": by,
            "id": gap.group,
            "stage": stage,
            "next": nxt,
            "pipeline_id": pipe,
        },
        metric="conversion_rate",
        value=round(gap.rate, 4),
        baseline=round(gap.rest_rate, 4),
        impact=impact,
        period=None,
        text=text,
        action=action,
        evidence={
            "p_value": gap.p_value,
            "deals": gap.deals,
            "rest_deals": gap.rest_deals,
            "deals_affected": round(lost, 1),
        },
    )
