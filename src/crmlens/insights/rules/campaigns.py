"""Campaign payback: findings for the best and the worst return on marketing."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from crmlens.insights.findings import Finding
from crmlens.insights.params import resolve_as_of
from crmlens.insights.registry import AnalysisResult, register
from crmlens.insights.rules._money import both, money, pct

if TYPE_CHECKING:
    from crmlens.warehouse import Warehouse

MIN_LEADS = 10


@register("campaigns", "Campaign payback: leads, deals, revenue, CPL, CAC, ROMI")
def run(
    wh: Warehouse,
    *,
    as_of: str | dt.date | None = None,
    by: str = "campaign",
    min_leads: int = MIN_LEADS,
    **_: Any,
) -> AnalysisResult:
    """Payback table per campaign (or tag) with best/worst payback findings."""
    from crmlens.analytics.campaigns import campaign_payback
    from crmlens.errors import InputError

    if by not in ("campaign", "tag"):
        raise InputError(f"unknown grouping {by!r}", reason="use campaign or tag")
    day = resolve_as_of(wh, as_of)
    expr = campaign_payback(
        wh.campaigns,
        wh.leads,
        wh.deals,
        wh.orders,
        as_of=day,
        by=by,  # type: ignore[arg-type]
    )
    key = "campaign_id" if by == "campaign" else "tag"
    rows = expr.order_by(key).to_pyarrow()
    findings = (
        _findings(rows.to_pylist(), key, min_leads) if wh.has("campaigns") else []
    )
    params = {"as_of": str(day), "by": by, "min_leads": min_leads}
    return AnalysisResult("campaigns", params, rows, findings)


def _findings(rows: list[dict[str, Any]], key: str, min_leads: int) -> list[Finding]:
    ok = [r for r in rows if r["romi"] is not None and r["leads_count"] >= min_leads]
    if len(ok) < 2:
        return []
    ok.sort(key=lambda r: (r["romi"], str(r[key])))
    out = [_one(ok[-1], key, best=True, rows=ok), _one(ok[0], key, best=False, rows=ok)]
    return out + [
        _source_note(r, key) for r in rows if r.get("attribution") == "source_dates"
    ]


def _one(
    r: dict[str, Any], key: str, *, best: bool, rows: list[dict[str, Any]]
) -> Finding:
    name = r.get("name") or r[key]
    cost, rev = r["cost_amount"], r["revenue_amount"]
    median = sorted(x["romi"] for x in rows)[len(rows) // 2]
    if best:
        text = both(
            f"Лучшая окупаемость — «{name}» ({r[key]}): вложили {money(cost, 'ru')}, "
            f"выиграли сделок на {money(rev, 'ru')}, ROMI {pct(r['romi'], 'ru')}.",
            f"Best payback: “{name}” ({r[key]}): spent {money(cost, 'en')}, won "
            f"{money(rev, 'en')}, ROMI {pct(r['romi'], 'en')}.",
        )
        action = both(
            "Повторите кампанию и переложите в неё бюджет худших кампаний.",
            "Repeat this campaign and move budget from the worst ones into it.",
        )
    else:
        text = both(
            f"Худшая окупаемость — «{name}» ({r[key]}): вложили {money(cost, 'ru')}, "
            f"вернули {money(rev, 'ru')}, ROMI {pct(r['romi'], 'ru')}.",
            f"Worst payback: “{name}” ({r[key]}): spent {money(cost, 'en')}, got back "
            f"{money(rev, 'en')}, ROMI {pct(r['romi'], 'en')}.",
        )
        action = both(
            "Остановите или переделайте кампанию: проверьте аудиторию и качество "
            "заявок, прежде чем тратить дальше.",
            "Stop or rework this campaign: check its audience and lead quality "
            "before spending more.",
        )
    return Finding(
        analysis="campaigns",
        kind="best_payback" if best else "worst_payback",
        severity="medium" if best else "high",
        subject={"type": "campaign" if key == "campaign_id" else "tag", "id": r[key]},
        metric="romi",
        value=round(float(r["romi"]), 4),
        baseline=round(float(median), 4),
        impact=round(abs(rev - cost), 2),
        period=None,
        text=text,
        action=action,
        evidence={
            k: r[k]
            for k in (
                "leads_count",
                "won_count",
                "revenue_amount",
                "cost_amount",
                "cac_amount",
                "uplift_amount",
            )
        },
    )


def _source_note(r: dict[str, Any], key: str) -> Finding:
    return Finding(
        analysis="campaigns",
        kind="attributed_by_source",
        severity="low",
        subject={"type": "campaign", "id": r[key]},
        metric="leads_count",
        value=r["leads_count"],
        baseline=None,
        impact=None,
        period=None,
        text=both(
            f"Заявки кампании {r[key]} посчитаны по источнику и датам: в заявках не "
            "указан campaign_id.",
            f"Leads of campaign {r[key]} were matched by source and dates: the leads "
            "carry no campaign_id.",
        ),
        action=both(
            "Попросите маркетинг указывать campaign_id (UTM-метку) в каждой заявке.",
            "Ask marketing to put the campaign_id (UTM tag) on every lead.",
        ),
        evidence={"attribution": "source_dates"},
    )
