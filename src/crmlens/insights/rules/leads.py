"""Leads: which attributes signal conversion and what each source brings (findings).

Registers ``leads_signals`` and ``leads_sources``; scoring (``leads_score`` in
:mod:`crmlens.insights.rules._leads_score`, ``leads_rules`` in
:mod:`crmlens.insights.rules._lead_rules`) registers when this module is imported.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Literal

from crmlens.insights.findings import Finding
from crmlens.insights.params import resolve_as_of
from crmlens.insights.registry import AnalysisResult, register
from crmlens.insights.rules._money import money_exact, pct

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from crmlens.warehouse import Warehouse

MIN_LEADS = 100
LABELS: dict[str, tuple[str, str]] = {
    "source": ("источник", "source"),
    "channel": ("канал", "channel"),
    "campaign_id": ("кампания", "campaign"),
    "need_type": ("потребность", "need"),
    "potential_amount": ("потенциальная сумма", "potential amount"),
    "first_response_hours": ("часы до первого ответа", "hours to first response"),
}


def outcomes(wh: Warehouse, as_of: dt.date, *, history: bool = False) -> ir.Table:
    """Leads created by `as_of` with their outcomes.

    With `history`, a deal's won status as of `as_of` also reads its stage history, as
    the funnel does (only ``is_won`` and ``revenue`` depend on it).
    """
    from crmlens.analytics.leads import lead_outcomes

    if history:
        return lead_outcomes(
            wh.leads,
            wh.deals,
            as_of=as_of,
            deal_stages=wh.deal_stages,
            pipelines=wh.pipelines,
        )
    return lead_outcomes(wh.leads, wh.deals, as_of=as_of)


def labels(wh: Warehouse) -> dict[str, tuple[str, str]]:
    """RU/EN label of each lead attribute (custom ones: the header they came from)."""
    custom = wh.table("custom_columns")
    rows = custom.filter(custom.table_name == "leads").to_pyarrow().to_pylist()
    out = {r["column_name"]: (r["source_label"], r["source_label"]) for r in rows}
    return {**out, **LABELS}


@register("leads_signals", "Which lead attributes signal conversion (lift, IV)")
def leads_signals(
    wh: Warehouse,
    *,
    as_of: str | dt.date | None = None,
    min_leads: int = 20,
    exclude: tuple[str, ...] = (),
    **_: Any,
) -> AnalysisResult:
    """Signals of every lead attribute, findings for the strongest and weakest."""
    from crmlens.analytics.leads import lead_attributes, lead_signals

    day = resolve_as_of(wh, as_of)
    attrs = lead_attributes(wh.leads, exclude=tuple(exclude))
    params = {
        "as_of": day.isoformat(),
        "min_leads": min_leads,
        "attributes": [a.name for a in attrs],
    }
    if not attrs:
        import pyarrow as pa

        return AnalysisResult("leads_signals", params, pa.table({}))
    expr = lead_signals(outcomes(wh, day), attrs, min_leads=min_leads)
    expr = expr.order_by(
        [expr.information_value.desc(), "attribute", "bin_lower", "value"]
    )
    rows = expr.to_pyarrow()
    findings = signal_findings(rows.to_pylist(), labels(wh), day)
    return AnalysisResult("leads_signals", params, rows, findings)


def _significant(r: dict[str, Any]) -> bool:
    return r["leads"] >= MIN_LEADS and (
        r["ci_low"] > r["overall_rate"] or r["ci_high"] < r["overall_rate"]
    )


def signal_findings(
    rows: list[dict[str, Any]], names: dict[str, tuple[str, str]], day: dt.date
) -> list[Finding]:
    """Best and worst value of the source and of any attribute; the weakest field."""
    found: list[Finding] = []
    sig = [r for r in rows if _significant(r) and r["value"] not in ("(other)",)]
    for pool in ([r for r in sig if r["attribute"] == "source"], sig):
        if pool:
            best = max(pool, key=lambda r: r["lift"])
            worst = min(pool, key=lambda r: r["lift"])
            found += [
                _value_finding(best, names, day, True),
                _value_finding(worst, names, day, False),
            ]
    unique = {(f.kind, f.subject["id"], f.subject["value"]): f for f in found}
    found = list(unique.values())
    by_attr = {r["attribute"]: r for r in rows}
    weak = [r for r in by_attr.values() if r["information_value"] < 0.02]
    found += [_weak_finding(r, names, day) for r in weak]
    return found


def _value_finding(
    r: dict[str, Any], names: dict[str, tuple[str, str]], day: dt.date, best: bool
) -> Finding:
    ru, en = names.get(r["attribute"], (r["attribute"], r["attribute"]))
    lift = f"{r['lift']:.1f}×"
    if best:
        text = {
            "ru": f"Лиды с «{ru} = {r['value']}» конвертируются в сделку в {lift} "
            f"чаще среднего ({r['conversion_rate']:.0%} против "
            f"{r['overall_rate']:.0%}, {r['leads']:,} лидов).",
            "en": f"Leads with '{en} = {r['value']}' convert {lift} the average "
            f"({r['conversion_rate']:.0%} vs {r['overall_rate']:.0%}, "
            f"{r['leads']:,} leads).",
        }
        action = {
            "ru": "Берите такие лиды в работу первыми и ищите больше таких.",
            "en": "Work these leads first and look for more of them.",
        }
    else:
        text = {
            "ru": f"Лиды с «{ru} = {r['value']}» конвертируются лишь в {lift} от "
            f"среднего ({r['conversion_rate']:.0%} против "
            f"{r['overall_rate']:.0%}, {r['leads']:,} лидов).",
            "en": f"Leads with '{en} = {r['value']}' convert only {lift} the average "
            f"({r['conversion_rate']:.0%} vs {r['overall_rate']:.0%}, "
            f"{r['leads']:,} leads).",
        }
        action = {
            "ru": "Снизьте приоритет таких лидов или перестаньте за них платить.",
            "en": "Lower their priority or stop paying for them.",
        }
    return Finding(
        "leads_signals",
        "strongest_signal" if best else "weakest_signal",
        "medium" if r["attribute"] == "source" else "low",
        {"type": "lead_attribute", "id": r["attribute"], "value": r["value"]},
        "lift",
        round(r["lift"], 4),
        1.0,
        None,
        day.isoformat(),
        text,
        action,
        {
            k: r[k]
            for k in (
                "leads",
                "converted",
                "conversion_rate",
                "overall_rate",
                "ci_low",
                "ci_high",
                "information_value",
                "kind",
            )
        },
    )


def _weak_finding(
    r: dict[str, Any], names: dict[str, tuple[str, str]], day: dt.date
) -> Finding:
    ru, en = names.get(r["attribute"], (r["attribute"], r["attribute"]))
    iv = r["information_value"]
    return Finding(
        "leads_signals",
        "no_signal",
        "low",
        {"type": "lead_attribute", "id": r["attribute"]},
        "information_value",
        round(iv, 4),
        0.02,
        None,
        day.isoformat(),
        {
            "ru": f"Поле «{ru}» почти не говорит о том, купит ли лид (IV {iv:.3f}).",
            "en": f"The field '{en}' says almost nothing about whether a lead buys "
            f"(IV {iv:.3f}).",
        },
        {
            "ru": "Не тратьте на него время при квалификации.",
            "en": "Do not spend qualification time on it.",
        },
        {"kind": r["kind"]},
    )


@register("leads_sources", "Lead-generation economics by channel, source, campaign")
def leads_sources(
    wh: Warehouse,
    *,
    as_of: str | dt.date | None = None,
    by: Literal["channel", "source", "campaign", "month"] = "source",
    **_: Any,
) -> AnalysisResult:
    """Leads → qualified → deals → won, revenue, cost, CPL, CAC, ROMI per group."""
    from crmlens.analytics.leads import source_economics

    day = resolve_as_of(wh, as_of)
    expr = source_economics(outcomes(wh, day, history=True), wh.campaigns, by=by)
    rows = expr.order_by([expr.leads.desc(), by]).to_pyarrow()
    params = {"as_of": day.isoformat(), "by": by}
    return AnalysisResult(
        "leads_sources", params, rows, source_findings(rows.to_pylist(), by, day)
    )


def source_findings(rows: list[dict[str, Any]], by: str, day: dt.date) -> list[Finding]:
    """Buy more of the best-paying group; stop the one that loses money."""
    paid = [r for r in rows if r["romi"] is not None and r["leads"] >= MIN_LEADS // 2]
    found = []
    if paid:
        best = max(paid, key=lambda r: r["romi"])
        if best["romi"] > 0:
            found.append(_romi_finding(best, by, day, True))
        worst = min(paid, key=lambda r: r["romi"])
        if worst["romi"] < 0:
            found.append(_romi_finding(worst, by, day, False))
    return found


def _romi_finding(r: dict[str, Any], by: str, day: dt.date, best: bool) -> Finding:
    name, romi, cost = r[by], r["romi"], r["cost"]
    if best:
        text = {
            "ru": f"«{name}» окупается лучше всего: ROMI {pct(romi, 'ru')}, затраты "
            f"{money_exact(cost, 'ru')}, выиграно сделок: {r['won']}.",
            "en": f"'{name}' pays back best: ROMI {pct(romi, 'en')}, cost "
            f"{money_exact(cost, 'en')}, {r['won']} deals won.",
        }
        action = {"ru": "Покупайте больше лидов здесь.", "en": "Buy more leads here."}
        impact = None
    else:
        text = {
            "ru": f"«{name}» не окупается: ROMI {pct(romi, 'ru')}, затраты "
            f"{money_exact(cost, 'ru')}, CAC {money_exact(r['cac'] or 0, 'ru')}.",
            "en": f"'{name}' loses money: ROMI {pct(romi, 'en')}, cost "
            f"{money_exact(cost, 'en')}, CAC {money_exact(r['cac'] or 0, 'en')}.",
        }
        action = {
            "ru": "Остановите или пересоберите эти закупки.",
            "en": "Stop or rework this spend.",
        }
        impact = float(cost * -romi)
    return Finding(
        "leads_sources",
        "best_romi" if best else "negative_romi",
        "medium" if best else "high",
        {"type": by, "id": str(name)},
        "romi",
        round(romi, 4),
        0.0,
        impact,
        day.isoformat(),
        text,
        action,
        {k: r[k] for k in ("leads", "won", "revenue", "cost", "cpl", "cac")},
    )


from crmlens.insights.rules import (  # noqa: E402, F401  (register scoring)
    _lead_rules,
    _leads_score,
)
