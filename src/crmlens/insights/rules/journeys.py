"""``journeys``: variants, directly-follows graph and conformance of deal journeys."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmlens.errors import InputError
from crmlens.insights.findings import Finding
from crmlens.insights.params import resolve_as_of
from crmlens.insights.registry import AnalysisResult, register

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from crmlens.warehouse import Warehouse

SHOWS = ("variants", "graph", "deals", "steps")
EXPORTS = ("csv", "xes", "dot")
EVENTS = ("stages", "activities", "both")
MIN_WON = 20
MIN_SHARE = 0.1
STEP_WORDS = {
    "repeat": ("повторный этап «{s}»", "a repeated “{s}” stage"),
    "skip": ("пропуск этапа «{s}»", "skipping “{s}”"),
    "extra_meeting": ("вторая и следующие встречи", "a second and further meetings"),
}


def _check(value: Any, allowed: tuple[Any, ...], name: str) -> None:
    if value is not None and value not in allowed:
        raise InputError(
            f"{name} {value!r} is not known", reason="use " + ", ".join(allowed)
        )


@register("journeys", "Real deal journeys vs the designed pipeline: variants, graph")
def run(
    wh: Warehouse,
    *,
    as_of: str | dt.date | None = None,
    events: str = "both",
    top: int = 10,
    show: str = "variants",
    export: str | None = None,
    out: str | None = None,
    **_: Any,
) -> AnalysisResult:
    """Rows of `show` (top `top` variants, the graph, per-deal conformance, steps)."""
    from crmlens.analytics.funnel import funnel_facts
    from crmlens.analytics.journeys import deal_event_log
    from crmlens.insights.rules.funnel import inputs_of

    _check(events, EVENTS, "--events")
    _check(show, SHOWS, "--show")
    _check(export, EXPORTS, "--export")
    day = resolve_as_of(wh, as_of)
    design, stage_ev, facts = funnel_facts(inputs_of(wh), as_of=day)
    log = deal_event_log(
        wh.deals,
        wh.deal_stages,
        wh.pipelines,
        wh.activities,
        as_of=day,
        events=events,  # type: ignore[arg-type]
    )
    full_log = deal_event_log(
        wh.deals, wh.deal_stages, wh.pipelines, wh.activities, as_of=day
    )
    params: dict[str, Any] = {
        "as_of": day.isoformat(),
        "events": events,
        "top": top,
        "show": show,
    }
    if export is not None:
        params["exported"] = _export(log, export, out)
    rows = _rows(
        show, log, facts, stage_ev, design, full_log, top, _marts(wh, events, day)
    )
    findings = journey_findings(stage_ev, facts, design, full_log)
    return AnalysisResult("journeys", params, rows.to_pyarrow(), findings)


def _rows(
    show: str,
    log: ir.Table,
    facts: ir.Table,
    stage_ev: ir.Table,
    design: ir.Table,
    full_log: ir.Table,
    top: int,
    marts: dict[str, ir.Table],
) -> ir.Table:
    from crmlens.analytics.journeys import directly_follows, variants
    from crmlens.analytics.journeys_conformance import (
        deal_conformance,
        undesigned_steps,
    )

    if show == "graph":
        return directly_follows(log, steps=marts.get("stage_transitions"))
    conf = deal_conformance(stage_ev, facts, design, full_log)
    if show == "deals":
        return conf.order_by("deal_id")
    if show == "steps":
        return undesigned_steps(stage_ev, conf, design)
    outcomes = facts.select(case_id=facts.deal_id, status=facts.status_as_of)
    return variants(log, outcomes, cases=marts.get("stage_cases")).limit(top)


def _marts(wh: Warehouse, events: str, day: dt.date) -> dict[str, ir.Table]:
    """The stage-log marts covering `day` (only the stage log is kept in marts)."""
    if events != "stages":
        return {}
    found = {name: wh.mart(name, day) for name in ("stage_cases", "stage_transitions")}
    return {name: t for name, t in found.items() if t is not None}


def _export(log: ir.Table, kind: str, out: str | None) -> str:
    from crmlens.analytics.journeys import directly_follows, ordered
    from crmlens.insights.rules import _journeys_export as ex

    path = Path(out or f"journeys.{kind}")
    if kind == "dot":
        ex.write_dot(directly_follows(log).to_pyarrow().to_pylist(), path)
        return str(path)
    rows = ordered(log).order_by("case_id", "step").to_pyarrow().to_pylist()
    (ex.write_xes if kind == "xes" else ex.write_csv)(rows, path)
    return str(path)


def journey_findings(
    stage_ev: ir.Table, facts: ir.Table, design: ir.Table, log: ir.Table
) -> list[Finding]:
    """One journey_gap per pipeline with enough won deals and a common undesigned step."""
    from crmlens.analytics.journeys_conformance import (
        deal_conformance,
        undesigned_steps,
    )

    conf = deal_conformance(stage_ev, facts, design, log)
    won = conf.filter(conf.status_as_of == "won")
    summary = (
        won.group_by("pipeline_id")
        .agg(
            won_deals=won.count(),
            designed=won.designed_steps.max(),
            median_steps=won.actual_steps.median(),
        )
        .to_pyarrow()
        .to_pylist()
    )
    steps = undesigned_steps(stage_ev, conf, design).to_pyarrow().to_pylist()
    found = []
    for s in summary:
        mine = [r for r in steps if r["pipeline_id"] == s["pipeline_id"]]
        if s["won_deals"] >= MIN_WON and mine and mine[0]["share_of_won"] >= MIN_SHARE:
            found.append(_gap_finding(s, mine[:3]))
    return found


def _gap_finding(s: dict[str, Any], top: list[dict[str, Any]]) -> Finding:
    first = top[0]
    ru, en = STEP_WORDS[first["kind"]]
    stage = first["stage"] or ""
    ru, en = ru.format(s=stage), en.format(s=stage)
    share = f"{100 * first['share_of_won']:.0f} %"
    med = float(s["median_steps"])
    text = {
        "ru": f"В воронке {s['pipeline_id']} {s['designed']} этапов, а выигранные сделки "
        f"проходят в среднем (медиана) {med:g} шагов. Самый частый шаг вне схемы — "
        f"{ru} ({share} выигранных сделок).",
        "en": f"Pipeline {s['pipeline_id']} has {s['designed']} stages; won deals go "
        f"through a median of {med:g} steps. The most common undesigned step is {en} "
        f"({share} of won deals).",
    }
    action = {
        "ru": "Добавьте этот шаг в воронку CRM (или уберите лишний этап), чтобы отчёты "
        "и сроки этапов отражали реальную работу.",
        "en": "Add this step to the CRM pipeline (or drop the stage nobody uses) so that "
        "reports and stage deadlines match how deals are really won.",
    }
    return Finding(
        analysis="journeys",
        kind="journey_gap",
        severity="low",
        subject={"type": "pipeline", "id": s["pipeline_id"]},
        metric="median_steps_won",
        value=med,
        baseline=float(s["designed"]),
        impact=None,
        period=None,
        text=text,
        action=action,
        evidence={"won_deals": s["won_deals"], "undesigned_steps": top},
    )
