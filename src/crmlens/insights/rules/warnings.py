"""Early warnings: plan at risk, thin pipeline, and other analyses' alarms (issue 9).

Findings of other registered analyses whose kind is one of :data:`FOREIGN_KINDS`
(silent key clients, stage drops, unanswered new leads) are gathered when those
analyses are installed; when they are absent, the warnings still work.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

from crmlens.insights.findings import Finding, dedupe, rank
from crmlens.insights.params import resolve_as_of
from crmlens.insights.registry import AnalysisResult, register
from crmlens.insights.rules._money import both, money

if TYPE_CHECKING:
    from crmlens.warehouse import Warehouse

FOREIGN_KINDS = frozenset(
    {
        "silent_client",
        "stage_drop",
        "unanswered_lead",
        "unanswered_leads",
        "slow_response",
    }
)
FOREIGN_HINTS = ("churn", "silent", "funnel", "stage", "response", "unanswered")
OWN = frozenset({"warnings", "plan", "plan_backtest", "forecast", "campaigns"})


@register("warnings", "Early warnings: plan at risk, thin pipeline, silent clients")
def run(
    wh: Warehouse,
    *,
    as_of: str | dt.date | None = None,
    coverage: float = 1.5,
    period: str | None = None,
    **params: Any,
) -> AnalysisResult:
    """Warnings as findings, one row each."""
    import pyarrow as pa

    from crmlens.insights.rules import plan as plan_rules

    day = resolve_as_of(wh, as_of)
    found: list[Finding] = []
    for scope in ("region", "manager"):
        res = plan_rules.run(wh, as_of=day, scope=scope, period=period, **params)
        found += res.findings
        found += [
            _coverage(r, scope, res.params["period"], coverage)
            for r in res.rows.to_pylist()
            if _thin(r, coverage)
        ]
    skipped = []
    for name, got in _foreign(wh, day):
        if got is None:
            skipped.append(name)
        else:
            found += got
    found = rank(dedupe(found))
    rows = pa.Table.from_pylist([_row(f) for f in found], schema=_SCHEMA)
    out = {"as_of": str(day), "coverage": coverage, "failed_analyses": skipped}
    return AnalysisResult("warnings", out, rows, found)


def _foreign(wh: Warehouse, day: dt.date) -> list[tuple[str, list[Finding] | None]]:
    from crmlens.insights import registry

    out: list[tuple[str, list[Finding] | None]] = []
    for name, analysis in sorted(registry.REGISTRY.items()):
        if name in OWN or not any(h in name for h in FOREIGN_HINTS):
            continue
        try:
            res = analysis.run(wh, as_of=day)
        except Exception:  # another engineer's analysis must not break the warnings
            out.append((name, None))
            continue
        out.append((name, [f for f in res.findings if f.kind in FOREIGN_KINDS]))
    return out


def _thin(r: dict[str, Any], multiple: float) -> bool:
    target, fact = r["target_amount"], r["fact_amount"]
    if target is None or not math.isfinite(target) or fact >= target:
        return False
    return r["pipeline_amount"] < multiple * (target - fact)


def _coverage(r: dict[str, Any], scope: str, period: str, multiple: float) -> Finding:
    rest = r["target_amount"] - r["fact_amount"]
    ratio = r["pipeline_amount"] / rest
    sid = r["scope_id"]
    return Finding(
        analysis="warnings",
        kind="low_pipeline_coverage",
        severity="high" if ratio < multiple / 2 else "medium",
        subject={"type": scope, "id": sid},
        metric="pipeline_coverage",
        value=round(ratio, 3),
        baseline=multiple,
        impact=round(max(rest - r["expected_repeat_amount"], 0.0), 2),
        period=period,
        text=both(
            f"У «{sid}» открытых сделок на {money(r['pipeline_amount'], 'ru')} — это "
            f"{ratio:.1f}× от остатка плана {money(rest, 'ru')} (нужно не меньше "
            f"{multiple:g}×).",
            f"“{sid}” has {money(r['pipeline_amount'], 'en')} of open deals, "
            f"{ratio:.1f}× the {money(rest, 'en')} left to the target (needs at least "
            f"{multiple:g}×).",
        ),
        action=both(
            "Наполните воронку: новые заявки, реактивация спящих клиентов, "
            "допродажи текущим.",
            "Fill the pipeline: new leads, reactivate sleeping clients, upsell "
            "current ones.",
        ),
        evidence={
            "owner_id": sid if scope == "manager" else None,
            "remaining_target": round(rest, 2),
        },
    )


def _row(f: Finding) -> dict[str, Any]:
    owner = f.evidence.get("owner_id") if isinstance(f.evidence, dict) else None
    if owner is None and f.subject.get("type") == "manager":
        owner = f.subject.get("id")
    return {
        "kind": f.kind,
        "severity": f.severity,
        "analysis": f.analysis,
        "subject_type": str(f.subject.get("type")),
        "subject_id": None if f.subject.get("id") is None else str(f.subject["id"]),
        "owner_id": None if owner is None else str(owner),
        "impact": f.impact,
        "text": f.text["en"],
    }


def _schema() -> Any:
    import pyarrow as pa

    return pa.schema(
        [
            ("kind", pa.string()),
            ("severity", pa.string()),
            ("analysis", pa.string()),
            ("subject_type", pa.string()),
            ("subject_id", pa.string()),
            ("owner_id", pa.string()),
            ("impact", pa.float64()),
            ("text", pa.string()),
        ]
    )


_SCHEMA = _schema()
