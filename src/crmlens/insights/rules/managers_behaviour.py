"""Seller behaviour: call-quality checklist, speed to lead, activity mix (issue 5)."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import TYPE_CHECKING, Any

from crmlens.errors import InputError
from crmlens.insights.findings import Finding
from crmlens.insights.registry import AnalysisResult, register
from crmlens.insights.rules._managers import (
    Inputs,
    company_win_rate,
    inputs,
    records,
    with_names,
    won_average,
)
from crmlens.insights.rules._money import both, money, pct

if TYPE_CHECKING:
    from crmlens.analytics.business_hours import BusinessHours
    from crmlens.warehouse import Warehouse

ITEM_NAMES = {
    "next_step_agreed": ("договорились о следующем шаге", "the next step was agreed"),
    "summary_sent": ("отправили итоги разговора", "a summary was sent"),
    "objections_handled": ("отработали возражения", "objections were handled"),
    "needs_identified": ("выявили потребность", "the need was identified"),
    "greeting": ("правильно поздоровались", "the greeting followed the script"),
}


def parse_hours(text: str | float) -> float:
    """An SLA as hours: 1h, 30m, 2.5h, 1d or a bare number of hours."""
    if isinstance(text, (int, float)):
        return float(text)
    m = re.fullmatch(r"\s*(\d+(?:[.,]\d+)?)\s*([mhd]?)\s*", text.lower())
    if not m:
        raise InputError(
            f"--sla {text!r} is not a duration", reason="use e.g. 1h, 30m or 1d"
        )
    value = float(m.group(1).replace(",", "."))
    return value * {"m": 1 / 60, "h": 1.0, "d": 24.0, "": 1.0}[m.group(2)]


_DAY_NAMES = {
    **{d: i for i, d in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    **{d: i for i, d in enumerate(("пн", "вт", "ср", "чт", "пт", "сб", "вс"))},
    **{str(i + 1): i for i in range(7)},
}


def _clock(text: str, option: str) -> dt.time:
    m = re.fullmatch(r"(\d{1,2})(?:[:.](\d{2}))?", text.strip())
    if not m or int(m.group(1)) > 24 or int(m.group(2) or 0) > 59:
        raise InputError(
            f"{option} {text!r} is not a time of day", reason="use e.g. 9 or 9:30"
        )
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    if hour == 24 and minute == 0:
        return dt.time.max  # the end of the day
    if hour == 24:
        raise InputError(f"{option} {text!r} is after midnight", reason="use e.g. 18")
    return dt.time(hour, minute)


def parse_business_hours(hours: str = "9-18", days: str = "mon-fri") -> BusinessHours:
    """A business calendar from ``--work-hours 9-18`` and ``--work-days mon-fri``.

    Hours are ``H[:MM]-H[:MM]``; days are names (mon…sun or пн…вс, or 1…7 with Monday
    = 1), listed with commas and/or given as ranges: ``mon-fri``, ``mon-thu,sat``.

    >>> parse_business_hours("9:30-18", "mon-fri,sun").describe()
    'mon,tue,wed,thu,fri,sun 09:30-18:00'
    """
    from crmlens.analytics.business_hours import BusinessHours

    parts = hours.replace("–", "-").split("-")
    if len(parts) != 2:
        raise InputError(
            f"--work-hours {hours!r} is not a range",
            reason="use e.g. 9-18 or 9:30-18:00",
        )
    start, end = (_clock(p, "--work-hours") for p in parts)
    chosen: set[int] = set()
    for item in days.lower().replace("–", "-").split(","):
        ends = [e.strip() for e in item.split("-")]
        if len(ends) > 2 or any(e not in _DAY_NAMES for e in ends):
            raise InputError(
                f"--work-days {days!r}: {item.strip()!r} is not a day or a range of days",
                reason="use e.g. mon-fri or mon,wed,fri",
            )
        first, last = _DAY_NAMES[ends[0]], _DAY_NAMES[ends[-1]]
        span = (
            range(first, last + 1)
            if first <= last
            else [*range(first, 7), *range(last + 1)]
        )
        chosen.update(span)
    return BusinessHours(start=start, end=end, days=frozenset(chosen))


@register("managers_checklist", "Call-quality checklist items against deal outcomes")
def checklist(
    wh: Warehouse,
    *,
    as_of: str | dt.date | None = None,
    by: str = "item",
    min_deals: int = 30,
    team: str | None = None,
    region: str | None = None,
    **_: Any,
) -> AnalysisResult:
    """Per item (or manager × item): share passed, win rate passed vs not, lift."""
    from crmlens.analytics import managers_activity as ma

    if by not in ("item", "manager"):
        raise InputError(f"unknown --by {by!r}", reason="use item or manager")
    inp = inputs(wh, as_of=as_of, team=team, region=region)
    items = ma.checklist_items(
        wh.call_reviews, wh.activities, inp.deals, as_of=inp.as_of
    )
    item_rows = items.to_pyarrow()
    findings = _checklist_findings(
        records(item_rows), inp, won_average(inp.deals, as_of=inp.as_of), min_deals
    )
    if by == "manager":
        rows = with_names(
            ma.checklist_by_manager(wh.call_reviews, wh.activities).to_pyarrow(), inp
        )
    else:
        rows = item_rows
    return AnalysisResult(
        "managers_checklist", inp.params(by=by, min_deals=min_deals), rows, findings
    )


def _checklist_findings(
    rows: list[dict[str, Any]], inp: Inputs, avg_won: float, min_deals: int
) -> list[Finding]:
    out = []
    for r in rows:
        low = r["lift_low"]
        if (
            low is None
            or low <= 1.0
            or r["lift"] < 1.2
            or min(r["deals_passed"], r["deals_skipped"]) < min_deals
        ):
            continue
        ru, en = ITEM_NAMES.get(r["item"], (r["item"], r["item"]))
        skipped = 1 - r["share_passed"]
        extra = (
            r["deals_skipped"]
            * (r["win_rate_passed"] - r["win_rate_skipped"])
            * avg_won
        )
        out.append(
            Finding(
                analysis="managers_checklist",
                kind="key_checklist_item",
                severity="high" if r["lift"] >= 1.3 else "medium",
                subject={"type": "checklist_item", "id": r["item"]},
                metric="lift",
                value=round(r["lift"], 4),
                baseline=1.0,
                impact=round(extra, 2),
                period=inp.as_of.isoformat(),
                text=both(
                    f"Сделки, где на звонке {ru}, выигрываются в {str(round(r['lift'], 1)).replace('.', ',')} раза чаще "
                    f"({pct(r['win_rate_passed'], 'ru')} против {pct(r['win_rate_skipped'], 'ru')}); "
                    f"при этом {pct(skipped, 'ru')} звонков этот пункт пропускают.",
                    f"Deals where {en} on the call convert {r['lift']:.1f}× better "
                    f"({pct(r['win_rate_passed'], 'en')} vs {pct(r['win_rate_skipped'], 'en')}); "
                    f"{pct(skipped, 'en')} of calls skip it.",
                ),
                action=both(
                    f"Сделайте пункт «{ru}» обязательным в скрипте и проверяйте его в каждой "
                    f"оценке звонка; возможный эффект — до {money(extra, 'ru')}.",
                    f"Make “{en}” a required step of the script and check it in every call "
                    f"review; up to {money(extra, 'en')} at stake.",
                ),
                evidence={
                    k: (round(v, 4) if isinstance(v, float) else v)
                    for k, v in r.items()
                },
            )
        )
    return out


@register(
    "managers_response", "Speed to lead: first response per manager and its effect"
)
def response(
    wh: Warehouse,
    *,
    as_of: str | dt.date | None = None,
    date_from: str | dt.date | None = None,
    sla: str | float = "1h",
    by: str = "manager",
    min_leads: int = 50,
    business_hours: bool = False,
    work_hours: str | None = None,
    work_days: str | None = None,
    team: str | None = None,
    region: str | None = None,
    **_: Any,
) -> AnalysisResult:
    """Median/p90 first response, share over SLA per manager; conversion by bucket.

    With `business_hours` (or any of `work_hours`, `work_days`) response times and the
    SLA count only working time: `work_hours` ``"9-18"`` and `work_days` ``"mon-fri"``
    by default.
    """
    from crmlens.analytics import managers_activity as ma
    from crmlens.analytics.managers import next_midnight

    if by not in ("manager", "bucket", "workload"):
        raise InputError(
            f"unknown --by {by!r}", reason="use manager, bucket or workload"
        )
    sla_hours = parse_hours(sla)
    calendar = None
    if business_hours or work_hours or work_days:
        calendar = parse_business_hours(work_hours or "9-18", work_days or "mon-fri")
    inp = inputs(wh, as_of=as_of, date_from=date_from, team=team, region=region)
    resp = ma.first_response(
        wh.leads, wh.activities, as_of=inp.as_of, calendar=calendar
    )
    if inp.date_from is not None:
        resp = resp.filter(
            resp.created_at >= next_midnight(inp.date_from - dt.timedelta(days=1))
        )
    per = with_names(
        ma.response_by_manager(resp, sla_hours=sla_hours).to_pyarrow(), inp
    )
    buckets = ma.response_buckets(resp).to_pyarrow()
    findings = _slow_findings(records(per), inp, sla_hours, min_leads, calendar)
    value = won_average(inp.deals, as_of=inp.as_of) * company_win_rate(
        inp.deals, as_of=inp.as_of
    )
    findings += _speed_findings(records(buckets), inp, value, calendar)
    rows = per if by == "manager" else buckets
    if by == "workload":
        loads = ma.workload_at_arrival(resp, inp.deals, as_of=inp.as_of)
        rows = ma.response_by_workload(loads).to_pyarrow()
    return AnalysisResult(
        "managers_response",
        inp.params(
            sla_hours=sla_hours,
            by=by,
            min_leads=min_leads,
            business_hours=calendar.describe() if calendar else None,
        ),
        rows,
        findings,
    )


def _slow_findings(
    rows: list[dict[str, Any]],
    inp: Inputs,
    sla_hours: float,
    min_leads: int,
    calendar: BusinessHours | None = None,
) -> list[Finding]:
    meds = sorted(
        r["median_first_response_hours"]
        for r in rows
        if r["median_first_response_hours"] is not None
    )
    if len(meds) < 3:
        return []
    typical = meds[len(meds) // 2]
    h_ru, h_en = ("ч рабочего времени", "business h") if calendar else ("ч", "h")
    out = []
    for r in rows:
        med = r["median_first_response_hours"]
        if (
            med is None
            or r["leads"] < min_leads
            or med <= sla_hours
            or med < 3 * typical
        ):
            continue
        who = inp.name(r["manager_id"])
        out.append(
            Finding(
                analysis="managers_response",
                kind="slow_response",
                severity="high",
                subject={"type": "manager", "id": r["manager_id"], "name": r["name"]},
                metric="median_first_response_hours",
                value=round(med, 2),
                baseline=round(typical, 2),
                impact=None,
                period=inp.as_of.isoformat(),
                text=both(
                    f"{who} отвечает на новые заявки в среднем через {med:.1f} {h_ru} "
                    f"(медиана), у остальных — {typical:.1f} {h_ru}; "
                    f"{pct(r['over_sla_rate'], 'ru')} заявок позже нормы {sla_hours:g} {h_ru}.",
                    f"{who} answers new leads after {med:.1f} {h_en} (median) against "
                    f"{typical:.1f} {h_en} for the others; {pct(r['over_sla_rate'], 'en')} of "
                    f"leads wait longer than the {sla_hours:g} {h_en} SLA.",
                ),
                action=both(
                    "Передайте часть входящих заявок коллегам и включите напоминание о "
                    "неотвеченных заявках через час.",
                    "Route part of the incoming leads to colleagues and turn on a reminder for "
                    "leads unanswered after an hour.",
                ),
                evidence={
                    k: (round(v, 4) if isinstance(v, float) else v)
                    for k, v in r.items()
                },
            )
        )
    return out


def _speed_findings(
    rows: list[dict[str, Any]],
    inp: Inputs,
    deal_value: float,
    calendar: BusinessHours | None = None,
) -> list[Finding]:
    fast = [r for r in rows if r["bucket"] in ("<15m", "15m-1h")]
    slow = [r for r in rows if r["bucket"] in ("1-4h", "4-24h", ">24h")]
    n1, n2 = sum(r["leads"] for r in fast), sum(r["leads"] for r in slow)
    if n1 < 100 or n2 < 100:
        return []
    p1 = sum(r["converted"] for r in fast) / n1
    p2 = sum(r["converted"] for r in slow) / n2
    se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    if p1 - p2 < 0.02 or (p1 - p2) / max(se, 1e-9) < 3:
        return []
    lost = (p1 - p2) * n2
    hour_ru, hour_en = (
        ("рабочего часа", "a business hour") if calendar else ("часа", "an hour")
    )
    return [
        Finding(
            analysis="managers_response",
            kind="slow_answers_cost",
            severity="high",
            subject={"type": "company", "id": None},
            metric="conversion_rate",
            value=round(p2, 4),
            baseline=round(p1, 4),
            impact=round(lost * deal_value, 2),
            period=inp.as_of.isoformat(),
            text=both(
                f"Заявки, на которые ответили в течение {hour_ru}, превращаются в сделку в "
                f"{pct(p1, 'ru')} случаев, позже — в {pct(p2, 'ru')}; медленные ответы стоили "
                f"около {lost:.0f} сделок.",
                f"Leads answered within {hour_en} become deals {pct(p1, 'en')} of the time, "
                f"later ones {pct(p2, 'en')}; slow answers cost about {lost:.0f} deals.",
            ),
            action=both(
                "Введите норму ответа 1 час и ежедневный контроль неотвеченных заявок.",
                "Set a one-hour answer standard and check unanswered leads daily.",
            ),
            evidence={
                "fast_leads": n1,
                "slow_leads": n2,
                "expected_deal_value": round(deal_value, 2),
            },
        )
    ]


@register("managers_activity", "Activity per won deal and which activity mix wins")
def activity(
    wh: Warehouse,
    *,
    as_of: str | dt.date | None = None,
    by: str = "manager",
    min_deals: int = 30,
    team: str | None = None,
    region: str | None = None,
    **_: Any,
) -> AnalysisResult:
    """Calls/meetings/visits per won deal per manager, or win rate by activity mix."""
    from crmlens.analytics import managers_activity as ma

    if by not in ("manager", "mix"):
        raise InputError(f"unknown --by {by!r}", reason="use manager or mix")
    inp = inputs(wh, as_of=as_of, team=team, region=region)
    per_deal = ma.deal_activity(inp.deals, wh.activities, as_of=inp.as_of)
    mix = ma.activity_mix(per_deal).to_pyarrow()
    findings = _mix_findings(records(mix), inp, min_deals)
    rows = (
        mix
        if by == "mix"
        else with_names(ma.activity_by_manager(per_deal).to_pyarrow(), inp)
    )
    return AnalysisResult(
        "managers_activity", inp.params(by=by, min_deals=min_deals), rows, findings
    )


def _mix_findings(
    rows: list[dict[str, Any]], inp: Inputs, min_deals: int
) -> list[Finding]:
    ok = [r for r in rows if r["deals_closed"] >= min_deals]
    if len(ok) < 2:
        return []
    best = max(ok, key=lambda r: r["win_rate"])
    worst = min(ok, key=lambda r: r["win_rate"])
    noise = best["win_rate_low"] <= worst["win_rate_high"]

    def label(r: dict[str, Any], lang: str) -> str:
        f2f = r["face_to_face"] == "yes"
        if lang == "ru":
            return (
                f"{'со встречей' if f2f else 'без встреч'}, звонков {r['calls_bucket']}"
            )
        return f"{'with' if f2f else 'without'} a meeting, {r['calls_bucket']} calls"

    nums_ru = (
        f"{pct(best['win_rate'], 'ru')} (n={best['deals_closed']}) против "
        f"{pct(worst['win_rate'], 'ru')} (n={worst['deals_closed']})"
    )
    nums_en = (
        f"{pct(best['win_rate'], 'en')} (n={best['deals_closed']}) vs "
        f"{pct(worst['win_rate'], 'en')} (n={worst['deals_closed']})"
    )
    if noise:
        text = both(
            f"Разница в конверсии между наборами активностей — шум: {nums_ru}.",
            f"The difference in win rate between activity mixes is noise: {nums_en}.",
        )
        action = both(
            "Не меняйте нормы активности по этим данным.",
            "Do not change activity standards on this evidence.",
        )
    else:
        text = both(
            f"Сделки «{label(best, 'ru')}» выигрываются чаще всего, «{label(worst, 'ru')}» — "
            f"реже всего: {nums_ru}. Это связь, а не доказанная причина.",
            f"Deals “{label(best, 'en')}” win most often, “{label(worst, 'en')}” least: "
            f"{nums_en}. This goes together with winning; it does not prove the cause.",
        )
        action = both(
            "Проверьте на пилотной группе норму: личная встреча и несколько звонков по "
            "каждой сделке.",
            "Pilot a standard with a team: a face-to-face meeting and several calls per deal.",
        )
    return [
        Finding(
            analysis="managers_activity",
            kind="activity_mix_noise" if noise else "activity_mix",
            severity="low" if noise else "medium",
            subject={"type": "company", "id": None},
            metric="win_rate",
            value=round(best["win_rate"], 4),
            baseline=round(worst["win_rate"], 4),
            impact=None,
            period=inp.as_of.isoformat(),
            text=text,
            action=action,
            evidence={"best": best, "worst": worst},
        )
    ]
