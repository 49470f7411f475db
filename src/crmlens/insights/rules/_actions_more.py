"""Capacity and readiness (``actions_capacity``, ``leads_handling``) and the outcome
review of action lists (``actions_review``); registered by :mod:`.actions`."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from crmlens.errors import InputError
from crmlens.insights.findings import Finding
from crmlens.insights.params import parse_date, resolve_as_of
from crmlens.insights.registry import AnalysisResult, register
from crmlens.insights.rules._actions_build import Progress
from crmlens.insights.rules._money import both, money, pct
from crmlens.insights.rules.actions import (
    deeds,
    list_date,
    manager_names,
    parse_kinds,
    ranked_actions,
)

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from crmlens.warehouse import Warehouse

OVERLOAD_DAYS = 10.0  # two working weeks of leads, deals and clients waiting
MIN_SOURCE_LEADS = 50


@register(
    "actions_capacity",
    "Leads and actions per manager against what each can handle",
    in_overview=False,
)
def actions_capacity(
    wh: Warehouse,
    *,
    date: str | dt.date | None = None,
    as_of: str | dt.date | None = None,
    kinds: Any = None,
    window_days: int = 90,
    seed: int = 0,
    model: str = "auto",
    progress: Progress | None = None,
    **_: Any,
) -> AnalysisResult:
    """Per manager: capacity, new leads per working day, actions waiting, days to clear."""
    import pyarrow as pa

    from crmlens.analytics.actions import capacity_of, lead_flow

    day = list_date(wh, date, as_of)
    ranked, caps = ranked_actions(wh, day, kinds=parse_kinds(kinds), seed=seed,
                                  model=model, progress=progress)  # fmt: skip
    flow_expr = lead_flow(
        wh.leads,
        wh.activities,
        as_of=day - dt.timedelta(days=1),
        window_days=window_days,
    )
    flow = {r["manager_id"]: r for r in flow_expr.to_pyarrow().to_pylist()}
    names = manager_names(wh)
    per: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in ranked:
        per[r["manager_id"]].append(r)
    fallback = sorted(caps.values())[len(caps) // 2] if caps else 5
    rows = []
    for m in sorted(set(names) | set(per) | {k for k in flow if k}):
        f = flow.get(m, {})
        cap = caps.get(m) or capacity_of(f.get("median_per_day"), fallback)
        items = per.get(m, [])
        lpd = f.get("leads_per_working_day")
        rows.append({
            "manager_id": m, "manager_name": names.get(m, (m, True))[0],
            "active": names.get(m, (m, True))[1], "capacity": cap,
            "working_days": f.get("working_days", 0),
            "new_leads": f.get("new_leads", 0), "leads_per_working_day": lpd,
            "lead_load": None if lpd is None else lpd / cap,
            "open_leads": sum(r["kind"] == "call_lead" for r in items),
            "actions": len(items),
            "urgent_actions": len(urgent := [r for r in items
                                             if r["kind"] != "offer_product"]),
            "actions_today": sum(r["list"] == "today" for r in items),
            "days_to_clear": len(urgent) / cap,
            "expected_value_today": round(sum(r["expected_value"] for r in items
                                              if r["list"] == "today"), 2),
            "expected_value_later": round(sum(r["expected_value"] for r in items
                                              if r["list"] == "later"), 2),
        })  # fmt: skip
    params = {"date": day.isoformat(), "window_days": window_days}
    findings = capacity_findings(rows, day)
    return AnalysisResult(
        "actions_capacity", params, pa.Table.from_pylist(rows), findings
    )


def capacity_findings(rows: list[dict[str, Any]], day: dt.date) -> list[Finding]:
    """Leads against the team's capacity, and managers with weeks of work waiting."""
    active = [r for r in rows if r["active"] and r["working_days"]]
    if not active:
        return []
    leads = sum(r["leads_per_working_day"] or 0.0 for r in active)
    cap = sum(r["capacity"] for r in active)
    found = [_team_finding(leads, cap, active, day)]
    light = min(active, key=lambda r: (r["days_to_clear"], r["manager_id"]))
    for r in sorted(active, key=lambda r: -r["days_to_clear"]):
        if r["days_to_clear"] < OVERLOAD_DAYS or r is light:
            continue
        found.append(_overload_finding(r, light, day))
    return found


def _team_finding(
    leads: float, cap: int, active: list[dict[str, Any]], day: dt.date
) -> Finding:
    surplus = leads > cap
    waiting = sum(r["expected_value_later"] for r in active)
    text = both(
        f"Продавцы получают {leads:.1f} новых лидов в рабочий день, а успевают "
        f"{cap} звонков и встреч: "
        + ("лидов больше, чем времени — скоринг лидов окупается."
           if surplus else "времени больше, чем лидов — позвонить можно каждому, "
           "скоринг решает лишь очерёдность."),
        f"Sellers get {leads:.1f} new leads a working day and manage {cap} calls and "
        "meetings: " + ("more leads than time — lead scoring pays off."
                        if surplus else "more time than leads — every lead can be "
                        "called; lead scoring only sets the order."),
    )  # fmt: skip
    action = both(
        "Берите в работу лиды класса A первыми, остальные — по списку дел; "
        f"в списках «позже» ждут дела на {money(waiting, 'ru')}."
        if surplus else
        "Просите у маркетинга больше хороших лидов и заполняйте свободное время "
        "клиентскими делами: возвратом молчащих и предложениями товаров.",
        "Work grade-A leads first and the rest by the action list; "
        f"{money(waiting, 'en')} waits in the later lists."
        if surplus else
        "Ask marketing for more good leads and fill the free time with client actions: "
        "win-backs and product offers.",
    )  # fmt: skip
    return Finding(
        "actions_capacity", "leads_vs_capacity", "medium", {"type": "team", "id": None},
        "lead_load", round(leads / cap, 4) if cap else None, 1.0, round(waiting, 2),
        day.isoformat(), text, action,
        {"new_leads_per_working_day": round(leads, 2), "capacity_per_day": cap,
         "managers": len(active)},
    )  # fmt: skip


def _overload_finding(
    r: dict[str, Any], light: dict[str, Any], day: dt.date
) -> Finding:
    name, days = r["manager_name"], r["days_to_clear"]
    return Finding(
        "actions_capacity", "overloaded_manager",
        "high" if days >= 2 * OVERLOAD_DAYS else "medium",
        {"type": "manager", "id": r["manager_id"], "name": name}, "days_to_clear",
        round(days, 1), OVERLOAD_DAYS, r["expected_value_later"], day.isoformat(),
        both(
            f"У {name} {deeds(r['urgent_actions'])} по лидам, сделкам и клиентам — "
            f"{days:.0f} рабочих дней при {r['capacity']} в день; в списке «позже» ждут "
            f"{money(r['expected_value_later'], 'ru')}.",
            f"{name} has {r['urgent_actions']} lead, deal and client actions — "
            f"{days:.0f} working days at {r['capacity']} a day; "
            f"{money(r['expected_value_later'], 'en')} waits in the later list.",
        ),
        both(
            f"Передайте часть лидов и клиентов {light['manager_name']} (дел на "
            f"{light['days_to_clear']:.0f} дн.) или снимите с {name} лиды класса C.",
            f"Hand part of the leads and clients to {light['manager_name']} "
            f"({light['days_to_clear']:.0f} days of work) or take grade-C leads off {name}.",
        ),
        {"actions": r["actions"], "urgent_actions": r["urgent_actions"],
         "capacity": r["capacity"],
         "open_leads": r["open_leads"], "lead_load": r["lead_load"]},
    )  # fmt: skip


@register(
    "leads_handling",
    "Share of leads sales rejected or never touched, by source",
    in_overview=False,
)
def leads_handling(
    wh: Warehouse,
    *,
    as_of: str | dt.date | None = None,
    window_days: int = 365,
    min_age_days: int = 14,
    **_: Any,
) -> AnalysisResult:
    """Rejected and untouched leads per source, findings on the misaligned sources."""
    from crmlens.analytics.actions import lead_handling

    day = resolve_as_of(wh, as_of)
    rows = lead_handling(wh.leads, wh.deals, wh.activities, as_of=day,
                         window_days=window_days, min_age_days=min_age_days).to_pyarrow()  # fmt: skip
    params = {"as_of": day.isoformat(), "window_days": window_days,
              "min_age_days": min_age_days}  # fmt: skip
    return AnalysisResult("leads_handling", params, rows,
                          handling_findings(rows.to_pylist(), day))  # fmt: skip


def handling_findings(rows: list[dict[str, Any]], day: dt.date) -> list[Finding]:
    """The source sales reject most, and the one left untouched most, vs the average."""
    big = [r for r in rows if r["leads"] >= MIN_SOURCE_LEADS]
    total = sum(r["leads"] for r in rows)
    if not big or not total:
        return []
    found = []
    for metric, ru, en in (
        ("rejected", "отклоняют", "reject"),
        ("untouched", "не трогают вовсе", "never touch"),
    ):
        avg = sum(r[metric] for r in rows) / total
        worst = max(big, key=lambda r: (r[f"{metric}_rate"], r["source"]))
        rate = worst[f"{metric}_rate"]
        if rate < 1.2 * avg or rate <= 0:
            continue
        found.append(_source_finding(worst, metric, rate, avg, ru, en, day))
    return found


def _source_finding(
    r: dict[str, Any], metric: str, rate: float, avg: float, ru: str, en: str,
    day: dt.date,
) -> Finding:  # fmt: skip
    src = r["source"]
    return Finding(
        "leads_handling", f"{metric}_leads", "medium",
        {"type": "source", "id": src}, f"{metric}_rate", round(rate, 4), round(avg, 4),
        None, day.isoformat(),
        both(
            f"Продажи {ru} {pct(rate, 'ru')} лидов из источника «{src}» (в среднем "
            f"{pct(avg, 'ru')}, {r['leads']} лидов за год): маркетинг и продажи по-разному "
            "понимают, какой лид хороший.",
            f"Sales {en} {pct(rate, 'en')} of the leads from '{src}' (average "
            f"{pct(avg, 'en')}, {r['leads']} leads in a year): marketing and sales "
            "disagree on what a good lead is.",
        ),
        both(
            "Договоритесь с маркетингом, какой лид считать квалифицированным, и "
            "пересмотрите закупку этого источника.",
            "Agree with marketing on what a qualified lead is and review what is "
            "bought from this source.",
        ),
        {"leads": r["leads"], "converted_rate": round(r["converted_rate"], 4),
         "rejected_rate": round(r["rejected_rate"], 4),
         "untouched_rate": round(r["untouched_rate"], 4)},
    )  # fmt: skip


def replay_dates(start: dt.date, end: dt.date, step_days: int) -> list[dt.date]:
    """List days from `start` to `end` every `step_days` (weekends moved to Monday)."""
    if step_days < 1:
        raise InputError(f"--step {step_days}", reason="give 1 or more days")
    out, day = [], start
    while day <= end:
        shifted = day + dt.timedelta(
            days=(7 - day.weekday()) % 7 if day.weekday() >= 5 else 0
        )
        if shifted <= end and shifted not in out:
            out.append(shifted)
        day += dt.timedelta(days=step_days)
    return out


def replayed_lists(
    wh: Warehouse,
    dates: list[dt.date],
    *,
    kinds: tuple[str, ...],
    seed: int,
    model: str,
    progress: Progress | None,
) -> ir.Table:
    """The lists each day of `dates` would have had, using only the data known then."""
    import ibis
    import pyarrow as pa

    from crmlens.insights.rules.actions import rows_table

    names = manager_names(wh)
    tables = []
    for i, day in enumerate(dates):
        if progress:
            progress(day.isoformat(), i, len(dates))
        ranked, _caps = ranked_actions(wh, day, kinds=kinds, seed=seed, model=model)
        tables.append(rows_table(ranked, names))
    if progress:
        progress("", len(dates), len(dates))
    return ibis.memtable(pa.concat_tables(tables))


@register(
    "actions_review",
    "What came of the action lists: conversion of followed vs not followed actions",
    in_overview=False,
)
def actions_review(
    wh: Warehouse,
    *,
    date_from: str | dt.date | None = None,
    date_to: str | dt.date | None = None,
    replay: bool = False,
    step_days: int = 7,
    follow_days: int = 7,
    outcome_days: int = 30,
    manager: str | None = None,
    kinds: Any = None,
    seed: int = 0,
    model: str = "auto",
    progress: Progress | None = None,
    **_: Any,
) -> AnalysisResult:
    """Join stored (or replayed) lists with the activities, deals and orders after them."""
    from crmlens.analytics.actions_review import review_join, review_summary
    from crmlens.warehouse.action_lists import stored_lists

    end_data = resolve_as_of(wh, None)
    start = parse_date(date_from, name="--from")
    end = parse_date(date_to, name="--to") or end_data
    if start is None:
        start = end - dt.timedelta(days=28)
    if start > end:
        raise InputError(f"--from {start} is after --to {end}")
    if replay:
        dates = replay_dates(start, end, step_days)
        lists = replayed_lists(wh, dates, kinds=parse_kinds(kinds), seed=seed,
                               model=model, progress=progress)  # fmt: skip
    else:
        lists = stored_lists(wh, date_from=start, date_to=end)
        if lists is None or lists.count().to_pyarrow().as_py() == 0:
            raise InputError(
                f"no stored action lists between {start} and {end}",
                reason="run crmlens actions on those days, or add --replay to rebuild "
                "the lists from the data known then",
            )
    if manager:
        lists = lists.filter(lists.manager_id == manager)
    joined = review_join(lists, wh.activities, wh.leads, wh.deals, wh.orders,
                         as_of=end_data, follow_days=follow_days,
                         outcome_days=outcome_days)  # fmt: skip
    rows = review_summary(joined).to_pyarrow()
    by_list = review_summary(joined, by=("list",)).to_pyarrow().to_pylist()
    counts = joined.aggregate(
        actions=joined.count(),
        incomplete=(~joined.window_complete).cast("int64").sum(),
    ).to_pyarrow().to_pylist()[0]  # fmt: skip
    params = {
        "from": start.isoformat(), "to": end.isoformat(), "replay": replay,
        "follow_days": follow_days, "outcome_days": outcome_days, "manager": manager,
        "actions": counts["actions"], "incomplete_windows": counts["incomplete"] or 0,
        "data_until": end_data.isoformat(), "by_list": by_list,
    }  # fmt: skip
    if replay:
        params["replayed_dates"] = [d.isoformat() for d in dates]
    findings = review_findings(rows.to_pylist(), by_list, start, end)
    return AnalysisResult("actions_review", params, rows, findings)


MIN_REVIEW_ACTIONS = 20


def _pick(
    rows: list[dict[str, Any]], key: str, value: str, followed: int
) -> dict[str, Any] | None:
    for r in rows:
        if r[key] == value and r["is_followed"] == followed:
            return r
    return None


def review_findings(
    rows: list[dict[str, Any]], by_list: list[dict[str, Any]], start: dt.date,
    end: dt.date,
) -> list[Finding]:  # fmt: skip
    """Followed vs not per kind, today's part of the lists vs the later part, and how
    much of today's lists was done."""
    period = f"{start.isoformat()}..{end.isoformat()}"
    found = []
    for kind in sorted({r["kind"] for r in rows}):
        yes, no = _pick(rows, "kind", kind, 1), _pick(rows, "kind", kind, 0)
        if yes and no and min(yes["actions"], no["actions"]) >= MIN_REVIEW_ACTIONS:
            found.append(_followed_finding(kind, yes, no, period))
    today = [r for r in by_list if r["list"] == "today"]
    later = [r for r in by_list if r["list"] == "later"]
    if today and later:
        found.append(_ranking_finding(today, later, period))
    if today:
        done = sum(r["actions"] for r in today if r["is_followed"] == 1)
        n = sum(r["actions"] for r in today)
        found.append(
            Finding(
                "actions_review", "follow_rate", "medium" if done / n < 0.5 else "low",
                {"type": "team", "id": None}, "follow_rate", round(done / n, 4), None,
                None, period,
                both(f"Из {n} дел списков «на сегодня» за период выполнено {done} "
                     f"({pct(done / n, 'ru')}).",
                     f"{done} of the {n} actions on the 'today' lists of the period were "
                     f"done ({pct(done / n, 'en')})."),
                both("Разбирайте невыполненные дела на утренней планёрке.",
                     "Go through the undone actions at the morning meeting."),
                {"actions_today": n, "followed": done},
            )
        )  # fmt: skip
    return found


KIND_NAMES = {
    "all": ("дела из списков", "actions from the lists"),
    "call_lead": ("звонки лидам", "lead calls"),
    "push_deal": ("застрявшие сделки", "stuck deals"),
    "seasonal_order": ("сезонные заказы", "seasonal orders"),
    "win_back": ("возврат молчащих клиентов", "win-backs"),
    "offer_product": ("предложения товаров", "product offers"),
}


def _followed_finding(
    kind: str, yes: dict[str, Any], no: dict[str, Any], period: str
) -> Finding:
    ry, rn = yes["conversion_rate"], no["conversion_rate"]
    # the intervals do not overlap: a difference beyond chance
    clear = yes["conversion_low"] > no["conversion_high"]
    worse = yes["conversion_high"] < no["conversion_low"]
    avg = yes["outcome_amount"] / yes["outcomes"] if yes["outcomes"] else 0.0
    # money only within one kind: "all" mixes kinds with different base rates
    impact = (
        max(0.0, (ry - rn) * no["actions"] * avg) if clear and kind != "all" else None
    )
    ru, en = KIND_NAMES.get(kind, (kind, kind))
    text = both(
        f"{ru.capitalize()}: выполненные дали результат (сделку или заказ) в "
        f"{pct(ry, 'ru')} случаев ({yes['actions']} дел), невыполненные — в "
        f"{pct(rn, 'ru')} ({no['actions']}).",
        f"{en.capitalize()}: those done led to a deal or an order {pct(ry, 'en')} of "
        f"the time ({yes['actions']} actions), those not done {pct(rn, 'en')} "
        f"({no['actions']}).",
    )
    if clear and impact is None:
        action = both(
            "Выполнять список выгодно; сравнение по видам дел — в строках таблицы.",
            "Doing the list pays; the comparison by kind of action is in the table.",
        )
    elif clear:
        action = both(
            f"Это работает: выполняйте такие дела каждый день; невыполненные стоили "
            f"около {money(impact, 'ru')}.",
            f"This works: do these actions every day; the undone ones cost about "
            f"{money(impact, 'en')}.",
        )
    elif worse:
        action = both(
            "Выполненные дела дают меньше: проверьте, как их делают, или уберите этот "
            "вид из списка.",
            "The done actions bring less: check how they are done, or drop this kind "
            "from the list.",
        )
    else:
        action = both(
            "Разница в пределах случайности: продолжайте и проверьте снова через месяц.",
            "The difference is within chance: keep going and check again in a month.",
        )
    return Finding(
        "actions_review", "followed_vs_not", "high" if clear else "low",
        {"type": "action_kind", "id": kind}, "conversion_rate", round(ry, 4),
        round(rn, 4), None if impact is None else round(impact, 2), period, text,
        action,
        {"followed": {k: yes[k] for k in ("actions", "outcomes", "conversion_low",
                                           "conversion_high", "outcome_amount")},
         "not_followed": {k: no[k] for k in ("actions", "outcomes", "conversion_low",
                                             "conversion_high", "outcome_amount")}},
    )  # fmt: skip


def _ranking_finding(
    today: list[dict[str, Any]], later: list[dict[str, Any]], period: str
) -> Finding:
    def rate(rows: list[dict[str, Any]]) -> tuple[float, int]:
        n = sum(r["actions"] for r in rows)
        return (sum(r["outcomes"] for r in rows) / n if n else 0.0), n

    rt, nt = rate(today)
    rl, nl = rate(later)
    works = rt > rl
    return Finding(
        "actions_review", "ranking", "low" if works else "medium",
        {"type": "team", "id": None}, "conversion_today", round(rt, 4), round(rl, 4),
        None, period,
        both(
            f"Дела из списков «на сегодня» дали результат в {pct(rt, 'ru')} случаев "
            f"({nt} дел), из списков «позже» — в {pct(rl, 'ru')} ({nl}).",
            f"Actions on the 'today' lists led to a deal or an order {pct(rt, 'en')} of "
            f"the time ({nt} actions), those on the 'later' lists {pct(rl, 'en')} ({nl}).",
        ),
        both(
            "Порядок в списке верный: начинайте с верха." if works else
            "Порядок в списке не отделяет лучшие дела: пересмотрите оценки вероятностей.",
            "The order of the list is right: start from the top." if works else
            "The order does not single out the best actions: review the probabilities.",
        ),
        {"today_actions": nt, "later_actions": nl},
    )  # fmt: skip
