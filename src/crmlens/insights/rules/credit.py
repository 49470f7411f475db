"""Team credit and bonus simulation: who really contributed to won deals (issue 13)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from crmlens.errors import InputError
from crmlens.insights.findings import Finding
from crmlens.insights.registry import AnalysisResult, register
from crmlens.insights.rules._managers import Inputs, inputs, records, with_names
from crmlens.insights.rules._money import both, money

if TYPE_CHECKING:
    from crmlens.warehouse import Warehouse

SCHEME_NAMES = {
    "equal": ("поровну между участниками", "split equally among participants"),
    "activity": ("по минутам работы", "split by minutes of work"),
    "stage": (
        "по этапам, где человек работал",
        "split by the stages each person worked",
    ),
}


@register(
    "managers_credit", "Team credit: who took part in won deals, credit schemes, bonus"
)
def credit(
    wh: Warehouse,
    *,
    as_of: str | dt.date | None = None,
    date_from: str | dt.date | None = None,
    scheme: str = "equal",
    compare: bool = False,
    pool: float | None = None,
    rate: float | None = None,
    min_deals: int = 5,
    team: str | None = None,
    region: str | None = None,
    **_: Any,
) -> AnalysisResult:
    """Credited revenue per person under a scheme (or all), bonus, hidden helpers."""
    from crmlens.analytics import credit as cr

    if scheme not in cr.SCHEMES:
        raise InputError(
            f"unknown --scheme {scheme!r}", reason="use " + "|".join(cr.SCHEMES)
        )
    if pool is not None and rate is not None:
        raise InputError("--pool and --rate both given", reason="give one of them")
    inp = inputs(wh, as_of=as_of, date_from=date_from, team=team, region=region)
    part = cr.participation(
        inp.deals,
        wh.activities,
        wh.deal_stages,
        as_of=inp.as_of,
        date_from=inp.date_from,
    )
    table = cr.credit_compare(part)
    shown = (
        list(cr.SCHEMES) if compare else sorted({"owner", scheme}, key=cr.SCHEMES.index)
    )
    keep = [
        "manager_id",
        "deals_participated",
        "deals_owned",
        "deals_of_others",
        "revenue_of_others",
    ]
    keep += [f"credited_{s}" for s in shown]
    keep += [f"gain_{s}" for s in shown if s != "owner"]
    table = cr.with_bonus(
        table.select(*keep), [f"credited_{s}" for s in shown], pool=pool, rate=rate
    )
    rows = with_names(table.order_by("manager_id").to_pyarrow(), inp)
    team_schemes = [s for s in shown if s != "owner"] or ["equal"]
    findings = _help_findings(records(rows), inp, team_schemes, min_deals)
    params = inp.params(
        scheme=scheme, compare=compare, pool=pool, rate=rate, min_deals=min_deals
    )
    return AnalysisResult("managers_credit", params, rows, findings)


def _help_findings(
    rows: list[dict[str, Any]], inp: Inputs, schemes: Sequence[str], min_deals: int
) -> list[Finding]:
    cands = []
    for r in rows:
        gains = {s: r.get(f"gain_{s}") or 0.0 for s in schemes}
        best = max(gains, key=lambda s: gains[s])
        if (
            r["deals_of_others"] >= min_deals
            and r["revenue_of_others"] > 0
            and gains[best] > 0
        ):
            cands.append((gains[best], best, r))
    cands.sort(key=lambda c: (-c[0], c[2]["manager_id"]))
    return [_finding(gain, s, r, inp) for gain, s, r in cands[:5]]


def _finding(gain: float, scheme: str, r: dict[str, Any], inp: Inputs) -> Finding:
    who = inp.name(r["manager_id"])
    n, rev = r["deals_of_others"], r["revenue_of_others"]
    ru_s, en_s = SCHEME_NAMES[scheme]
    bonus = r.get(f"bonus_{scheme}")
    extra_ru = extra_en = ""
    if bonus is not None and r.get("bonus_owner") is not None:
        delta = bonus - r["bonus_owner"]
        extra_ru = f" Премия изменится на {money(delta, 'ru')}."
        extra_en = f" The bonus changes by {money(delta, 'en')}."
    return Finding(
        analysis="managers_credit",
        kind="hidden_help",
        severity="high" if gain >= 1e6 else "medium",
        subject={"type": "manager", "id": r["manager_id"], "name": r.get("name")},
        metric="gain_" + scheme,
        value=round(gain, 2),
        baseline=0.0,
        impact=round(gain, 2),
        period=inp.as_of.isoformat(),
        text=both(
            f"{who} участвовал(а) в {n} выигранных сделках других менеджеров на "
            f"{money(rev, 'ru')}; при оплате только владельцу сделки это не учитывается. "
            f"При командном зачёте ({ru_s}) ему/ей засчитается на {money(gain, 'ru')} "
            f"больше — это самый большой выигрыш в команде.{extra_ru}",
            f"{who} took part in {n} won deals owned by others, {money(rev, 'en')}; under "
            f"owner-only credit this counts for nothing. Team credit ({en_s}) would credit "
            f"{money(gain, 'en')} more — among the largest gains in the team.{extra_en}",
        ),
        action=both(
            "Прежде чем менять систему премий, обсудите с командой командный зачёт: "
            "сравните схемы (--compare) и проверьте, кто теряет.",
            "Before changing the bonus plan, discuss team credit with the team: compare the "
            "schemes (--compare) and check who loses.",
        ),
        evidence={
            "deals_of_others": n,
            "revenue_of_others": rev,
            "credited_owner": r.get("credited_owner"),
            **{k: v for k, v in r.items() if k.startswith(("gain_", "bonus_"))},
        },
    )
