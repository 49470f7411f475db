"""Findings on KPI trends: a manager whose win rate, revenue or activity moved markedly.

A change is *marked* when it is large enough to matter **and** more than noise:

- win rate: at least `min_deals` closed deals in each period, a change of at least
  10 points, |z| >= 3 (pooled two-proportion test);
- revenue: at least `min_deals` won deals in the two periods together, at least 30 %
  more or less per day, |z| >= 3 (compound Poisson: the spread of a sum of won amounts);
- client activities: at least `min_activities` in the two periods together, at least
  30 % more or less per day, |z| >= 3 (Poisson).

A manager's marked change must also stand out from the other managers' (the same
direction, at least half the threshold beyond theirs, |z| >= 2 against what their
change predicts): when the whole department swings — a busy quarter, a holiday month —
that is one finding about the department (the total row), not one per manager. |z| >= 3
keeps false alarms rare even with many managers and three metrics each. The statistics
come from :func:`crmlens.analytics.managers.kpi_trends`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from crmlens.insights.findings import Finding
from crmlens.insights.rules._managers import Inputs, round_row
from crmlens.insights.rules._money import both, money, pct

Z_MIN = 3.0
Z_REST = 2.0
MIN_POINTS = 0.10
MIN_RELATIVE = 0.30

_PERIOD = {
    "month": ("месяце", "месяца", "month"),
    "quarter": ("квартале", "квартала", "quarter"),
    "year": ("году", "года", "year"),
}
_OTHERS = {
    "manager": ("Остальные менеджеры вместе", "The other managers together"),
    "team": ("Остальные команды вместе", "The other teams together"),
    "region": ("Остальные регионы вместе", "The other regions together"),
}


def marked(row: dict[str, Any], *, min_deals: int, min_activities: int) -> bool:
    """Whether a row of ``kpi_trends`` is a marked change (see the module docstring)."""
    z, change = row["z_score"], row["change"]
    if z is None or change is None or abs(z) < Z_MIN:
        return False
    n, n0 = row["n"], row["n_prev"]
    if row["metric"] == "win_rate":
        threshold, enough = MIN_POINTS, min(n, n0) >= min_deals
    elif row["metric"] == "revenue":
        threshold, enough = MIN_RELATIVE, n + n0 >= min_deals
    else:
        threshold, enough = MIN_RELATIVE, n + n0 >= min_activities
    if not enough or abs(change) < threshold:
        return False
    if row.get("is_total") or row.get("rest_change") is None:
        return True
    beyond, z_rest = row["change_vs_rest"], row["z_vs_rest"]
    return (
        beyond is not None
        and z_rest is not None
        and beyond * change > 0
        and abs(beyond) >= threshold / 2
        and abs(z_rest) >= Z_REST
    )


def trend_findings(
    rows: list[dict[str, Any]],
    inp: Inputs,
    *,
    by: str,
    period: str,
    ratio: float,
    avg_won: float,
    min_deals: int,
    min_activities: int,
    keep: frozenset[str] | None = None,
    department: bool = True,
) -> list[Finding]:
    """One finding per marked change; `ratio` = days of this period / the previous.

    `keep` limits the groups named; `department` adds the findings on the total row.
    """
    out = []
    for r in rows:
        if r.get("is_total") and not department:
            continue
        if not r.get("is_total") and keep is not None and r["group_id"] not in keep:
            continue
        if marked(r, min_deals=min_deals, min_activities=min_activities):
            out.append(_finding(r, inp, by, period, ratio, avg_won))
    return out


def _finding(
    r: dict[str, Any], inp: Inputs, by: str, period: str, ratio: float, avg_won: float
) -> Finding:
    metric, up, total = r["metric"], r["change"] > 0, bool(r.get("is_total"))
    if total:
        who, subject = None, {"type": "company", "id": None}
    else:
        who = inp.name(r["group_id"]) if by == "manager" else str(r["group_id"])
        subject = {"type": by, "id": r["group_id"], "name": who}
    if metric == "win_rate":
        impact = abs(r["change"]) * r["n"] * avg_won
        big = abs(r["change"]) >= 0.15
    elif metric == "revenue":
        impact = abs(r["value"] - ratio * r["value_prev"])
        big = abs(r["change"]) >= 0.5
    else:
        impact, big = None, abs(r["change"]) >= 0.5
    text = _text(r, who, period, up, inp.as_of)
    if not total and r.get("rest_change") is not None:
        text = _with_others(text, metric, r["rest_change"], by)
    return Finding(
        analysis="managers_kpis",
        kind="kpi_rise" if up else "kpi_drop",
        severity="low" if up else ("high" if big else "medium"),
        subject=subject,
        metric=metric,
        value=round(r["value"], 4),
        baseline=round(r["value_prev"], 4),
        impact=round(impact, 2) if impact is not None else None,
        period=inp.as_of.isoformat(),
        text=text,
        action=both(*_ACTIONS[(metric if not total else "department", up)]),
        evidence={**round_row(r), "period": period, "days_ratio": round(ratio, 4)},
    )


def _text(
    r: dict[str, Any], who: str | None, period: str, up: bool, day: dt.date
) -> dict[str, str]:
    here, prev, en = _PERIOD[period]
    same = (
        f"в этом {here} (по {day:%d.%m.%Y}) против тех же дней прошлого {prev}",
        f"this {en} (to {day.isoformat()}) against the same days of the previous {en}",
    )
    v, v0, n, n0 = r["value"], r["value_prev"], r["n"], r["n_prev"]
    of_ru = f"у {who}" if who else "по отделу в целом"
    of_en = f"{who}'s" if who else "The department's"
    if r["metric"] == "win_rate":
        verb = ("выросла", "rose") if up else ("упала", "fell")
        return both(
            f"Доля выигранных сделок {of_ru} {verb[0]} с {pct(v0, 'ru')} до {pct(v, 'ru')} "
            f"{same[0]} ({n} и {n0} закрытых сделок).",
            f"{of_en} win rate {verb[1]} from {pct(v0, 'en')} to {pct(v, 'en')} {same[1]} "
            f"({n} and {n0} closed deals).",
        )
    change = pct(abs(r["change"]), "ru"), pct(abs(r["change"]), "en")
    if r["metric"] == "revenue":
        verb = ("выросла", "rose") if up else ("упала", "fell")
        return both(
            f"Выручка {of_ru} {verb[0]} на {change[0]} {same[0]}: {money(v, 'ru')} против "
            f"{money(v0, 'ru')} ({n} и {n0} выигранных сделок).",
            f"{of_en} revenue {verb[1]} by {change[1]} {same[1]}: {money(v, 'en')} against "
            f"{money(v0, 'en')} ({n} and {n0} won deals).",
        )
    more = ("больше", "more") if up else ("меньше", "fewer")
    subject_ru = f"{who}:" if who else "Отдел в целом:"
    subject_en = f"{who} made" if who else "The department made"
    return both(
        f"{subject_ru} на {change[0]} {more[0]} контактов с клиентами (звонки, встречи, "
        f"визиты, письма) {same[0]}: {v:.0f} против {v0:.0f}.",
        f"{subject_en} {change[1]} {more[1]} client contacts (calls, meetings, visits, "
        f"e-mails) {same[1]}: {v:.0f} against {v0:.0f}.",
    )


def _with_others(
    text: dict[str, str], metric: str, others: float, by: str
) -> dict[str, str]:
    ru, en = _OTHERS.get(by, _OTHERS["manager"])
    if metric == "win_rate":
        pts = f"{others * 100:+.0f}"
        return both(
            f"{text['ru']} {ru}: {pts}\u00a0п.\u00a0п.",
            f"{text['en']} {en}: {pts} points.",
        )
    return both(
        f"{text['ru']} {ru}: {others * 100:+.0f}\u00a0%.",
        f"{text['en']} {en}: {others * 100:+.0f}%.",
    )


_ACTIONS = {
    ("win_rate", False): (
        "На этой неделе разберите с менеджером последние проигранные сделки: что "
        "изменилось — заявки, скрипт, загрузка?",
        "This week, go through the manager's latest lost deals together: what changed — "
        "the leads, the script, the workload?",
    ),
    ("win_rate", True): (
        "Узнайте, что сейчас работает у менеджера, и поделитесь этим с командой.",
        "Find out what works for the manager now and share it with the team.",
    ),
    ("revenue", False): (
        "Пройдите с менеджером по воронке до конца периода: какие крупные сделки "
        "сорвались или сдвинулись и какая помощь нужна, чтобы их закрыть.",
        "Walk through the manager's pipeline for the rest of the period: which large "
        "deals slipped or were lost, and what help is needed to close them.",
    ),
    ("revenue", True): (
        "Проверьте, что дало рост (крупные сделки, новые клиенты) и можно ли его "
        "повторить.",
        "Check what drove the growth (large deals, new clients) and whether it can be "
        "repeated.",
    ),
    ("client_activities", False): (
        "Спросите менеджера, почему стало меньше контактов с клиентами (отпуск, "
        "бумажная работа, мотивация), и договоритесь о недельном минимуме.",
        "Ask the manager why client contact fell (leave, paperwork, motivation) and "
        "agree on a weekly minimum.",
    ),
    ("client_activities", True): (
        "Проверьте, что больше контактов даёт результат: сравните с конверсией и "
        "выручкой менеджера.",
        "Check that more contact brings results: compare with the manager's win rate "
        "and revenue.",
    ),
    ("department", False): (
        "Сравните с тем же периодом прошлого года: это сезон или настоящий спад? "
        "Проверьте поток заявок, цены и загрузку отдела.",
        "Compare with the same period last year: is it the season or a real decline? "
        "Check the lead flow, prices and the department's workload.",
    ),
    ("department", True): (
        "Разберитесь, что дало рост всему отделу (сезон, кампания, цены), и "
        "спланируйте, как его удержать.",
        "Find out what lifted the whole department (season, a campaign, prices) and "
        "plan how to keep it.",
    ),
}
