"""Seller analytics: KPIs, fair (mix-adjusted) comparison and lost reasons (issue 5)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from crmlens.errors import InputError
from crmlens.insights.findings import Finding
from crmlens.insights.registry import AnalysisResult, register
from crmlens.insights.rules._managers import (
    Inputs,
    inputs,
    records,
    with_names,
    won_average,
)
from crmlens.insights.rules._money import both, money, pct

if TYPE_CHECKING:
    import pyarrow as pa

    from crmlens.analytics.managers import GroupBy, LossBy, Period
    from crmlens.warehouse import Warehouse


def _choice(value: str, allowed: Sequence[str], option: str) -> str:
    if value not in allowed:
        raise InputError(
            f"unknown {option} {value!r}", reason="use " + "|".join(allowed)
        )
    return value


@register("managers_kpis", "KPIs of each manager for the period, with the trend")
def kpis(
    wh: Warehouse,
    *,
    as_of: str | dt.date | None = None,
    period: str = "quarter",
    by: str = "manager",
    min_deals: int = 20,
    min_activities: int = 100,
    team: str | None = None,
    region: str | None = None,
    **_: Any,
) -> AnalysisResult:
    """Per manager, team or region: deals, win rate, revenue, activity, plan-fact.

    Findings: overdue tasks, and marked changes of win rate, revenue and client
    activities against the previous period to the same day (see ``_managers_trend``).
    """
    from crmlens.analytics.managers import manager_kpis

    _choice(period, ("month", "quarter", "year", "all"), "--period")
    _choice(by, ("manager", "team", "region"), "--by")
    inp = inputs(wh, as_of=as_of, team=team, region=region)
    targets = wh.targets if wh.has("targets") else None
    expr = manager_kpis(
        inp.deals,
        wh.activities,
        wh.leads,
        wh.managers,
        targets,
        as_of=inp.as_of,
        period=cast("Period", period),
        by=cast("GroupBy", by),
    )
    rows = expr.to_pyarrow()
    if by == "manager":
        rows = with_names(
            rows.rename_columns(["manager_id", *rows.column_names[1:]]), inp
        )
    else:
        rows = rows.rename_columns([by, *rows.column_names[1:]])
        if team or region:
            import pyarrow.compute as pc

            rows = rows.filter(pc.equal(rows[by], team if by == "team" else region))
    findings = _overdue_findings(records(rows), inp) if by == "manager" else []
    if period != "all":
        findings += _trends(
            wh,
            inp,
            period=period,
            by=by,
            team=team,
            region=region,
            min_deals=min_deals,
            min_activities=min_activities,
        )
    return AnalysisResult(
        "managers_kpis",
        inp.params(
            period=period,
            by=by,
            team=team,
            region=region,
            min_deals=min_deals,
            min_activities=min_activities,
        ),
        rows,
        findings,
    )


def _trends(
    wh: Warehouse,
    inp: Inputs,
    *,
    period: str,
    by: str,
    team: str | None,
    region: str | None,
    min_deals: int,
    min_activities: int,
) -> list[Finding]:
    """Findings on marked KPI changes against the previous period, in scope."""
    from crmlens.analytics.managers import kpi_trends, period_days
    from crmlens.insights.rules._managers_trend import marked, trend_findings

    expr = kpi_trends(
        inp.deals,
        wh.activities,
        wh.managers,
        as_of=inp.as_of,
        period=cast("Any", period),
        by=cast("GroupBy", by),
    )
    rows = records(expr.to_pyarrow())
    keep = inp.keep if by == "manager" else None
    chosen = team if by == "team" else region if by == "region" else None
    if chosen:
        keep = frozenset({chosen})
    if by == "manager" and inp.inactive:  # who left is no trend to act on
        ids = {r["group_id"] for r in rows} if keep is None else keep
        keep = frozenset(ids - inp.inactive)
    # the department's own swing only when the whole department is in view
    department = not (team or region)
    if not any(
        marked(r, min_deals=min_deals, min_activities=min_activities)
        and (department if r["is_total"] else keep is None or r["group_id"] in keep)
        for r in rows
    ):
        return []
    days, days_prev = period_days(inp.as_of, cast("Period", period))
    return trend_findings(
        rows,
        inp,
        by=by,
        period=period,
        ratio=days / days_prev,
        avg_won=won_average(inp.deals, as_of=inp.as_of),
        min_deals=min_deals,
        min_activities=min_activities,
        keep=keep,
        department=department,
    )


def _overdue_findings(rows: list[dict[str, Any]], inp: Inputs) -> list[Finding]:
    counts = sorted(r["overdue_tasks"] or 0 for r in rows)
    if len(counts) < 3:
        return []
    typical = counts[len(counts) // 2]
    out = []
    for r in rows:
        n = r["overdue_tasks"] or 0
        if n >= 20 and n >= 3 * max(typical, 1):
            who = inp.name(r["manager_id"])
            out.append(
                Finding(
                    analysis="managers_kpis",
                    kind="overdue_tasks",
                    severity="medium",
                    subject={
                        "type": "manager",
                        "id": r["manager_id"],
                        "name": r["name"],
                    },
                    metric="overdue_tasks",
                    value=n,
                    baseline=typical,
                    impact=None,
                    period=inp.as_of.isoformat(),
                    text=both(
                        f"У {who} {n} просроченных задач — в {n / max(typical, 1):.0f} раз "
                        f"больше, чем у типичного менеджера ({typical}).",
                        f"{who} has {n} overdue tasks, {n / max(typical, 1):.0f}× the typical "
                        f"manager ({typical}).",
                    ),
                    action=both(
                        "Разберите с менеджером просроченные задачи на этой неделе и "
                        "договоритесь о ежедневной проверке плана дел.",
                        "Go through the overdue tasks with the manager this week and agree "
                        "on a daily check of the task list.",
                    ),
                    evidence={"overdue_tasks": n, "typical": typical},
                )
            )
    return out


@register("managers_compare", "Fair comparison of managers: win rate adjusted for mix")
def compare(
    wh: Warehouse,
    *,
    as_of: str | dt.date | None = None,
    date_from: str | dt.date | None = None,
    segment_by: str | Sequence[str] = ("client_type", "source"),
    min_deals: int = 30,
    n_boot: int = 2000,
    seed: int = 42,
    team: str | None = None,
    region: str | None = None,
    **_: Any,
) -> AnalysisResult:
    """Raw vs mix-adjusted win rate, bootstrap interval, hidden strengths/weaknesses."""
    from crmlens.analytics import managers_compare as mc

    dims = (
        [d.strip() for d in segment_by.split(",")]
        if isinstance(segment_by, str)
        else list(segment_by)
    )
    for d in dims:
        _choice(d, tuple(mc.SEGMENT_DIMENSIONS), "--segment-by dimension")
    inp = inputs(wh, as_of=as_of, date_from=date_from, team=team, region=region)
    seg = mc.segment_deals(
        inp.deals,
        orders=wh.orders,
        leads=wh.leads,
        accounts=wh.accounts,
        segment_by=dims,
        as_of=inp.as_of,
        date_from=inp.date_from,
    )
    cells_expr = mc.mix_cells(seg)
    cells = cells_expr.to_pyarrow()
    rows = mc.mix_adjusted(cells_expr).to_pyarrow()
    rows = _with_intervals(rows, cells, n_boot=n_boot, seed=seed)
    rows = with_names(rows, inp)
    mix = _main_segments(cells)
    findings = _mix_findings(
        records(rows), mix, inp, won_average(inp.deals, as_of=inp.as_of), min_deals
    )
    params = inp.params(
        segment_by=",".join(dims), min_deals=min_deals, n_boot=n_boot, seed=seed
    )
    return AnalysisResult("managers_compare", params, rows, findings)


def _with_intervals(
    rows: pa.Table, cells: pa.Table, *, n_boot: int, seed: int
) -> pa.Table:
    import numpy as np
    import pyarrow as pa

    from crmlens.analytics.managers_compare import bootstrap_mix_index

    managers = sorted(set(cells["manager_id"].to_pylist()), key=str)
    segments = sorted(set(cells["segment"].to_pylist()))
    mi = {m: i for i, m in enumerate(managers)}
    si = {s: i for i, s in enumerate(segments)}
    closed = np.zeros((len(managers), len(segments)))
    won = np.zeros_like(closed)
    for r in cells.to_pylist():
        closed[mi[r["manager_id"]], si[r["segment"]]] = r["deals_closed"]
        won[mi[r["manager_id"]], si[r["segment"]]] = r["deals_won"]
    low, high = bootstrap_mix_index(closed, won, n_boot=n_boot, seed=seed)
    ids = rows["manager_id"].to_pylist()
    at = rows.column_names.index("mix_index") + 1

    def col(bound: Any) -> pa.Array:
        vals = [float(bound[mi[m]]) for m in ids]
        return pa.array([v if np.isfinite(v) else None for v in vals], pa.float64())

    rows = rows.add_column(at, "mix_index_low", col(low))
    return rows.add_column(at + 1, "mix_index_high", col(high))


def _main_segments(cells: pa.Table) -> dict[str, tuple[str, float]]:
    """Each manager's largest segment and its share of the manager's closed deals."""
    total: dict[str, int] = {}
    best: dict[str, tuple[str, int]] = {}
    for r in cells.to_pylist():
        m, n = r["manager_id"], r["deals_closed"]
        total[m] = total.get(m, 0) + n
        if m not in best or n > best[m][1]:
            best[m] = (r["segment"], n)
    return {m: (s, n / total[m]) for m, (s, n) in best.items()}


def _mix_findings(
    rows: list[dict[str, Any]],
    mix: dict[str, tuple[str, float]],
    inp: Inputs,
    avg_won: float,
    min_deals: int,
) -> list[Finding]:
    out = []
    for r in rows:
        low, high, idx = r["mix_index_low"], r["mix_index_high"], r["mix_index"]
        if r["deals_closed"] < min_deals or idx is None or low is None or high is None:
            continue
        if low > 1 and idx >= 1.1 and r["rank_adjusted"] < r["rank_raw"]:
            out.append(_mix_finding("hidden_strength", r, rows, mix, inp, avg_won))
        elif high < 1 and idx <= 0.9 and r["rank_adjusted"] > r["rank_raw"]:
            out.append(_mix_finding("hidden_weakness", r, rows, mix, inp, avg_won))
    return out


#: Words for the values of a client-type x source segment key ("returning | none").
_SEGMENT_WORDS = {
    "new": ("новые клиенты", "new clients"),
    "returning": ("постоянные клиенты", "returning clients"),
    "none": ("без лида", "no lead"),
}


def segment_words(seg: str, lang: str) -> str:
    """A segment key as words: "returning | none" -> "returning clients, no lead"."""
    i = 0 if lang == "ru" else 1
    words = []
    for part in seg.split(" | "):
        known = _SEGMENT_WORDS.get(part.strip())
        quoted = f"«{part}»" if lang == "ru" else f"“{part}”"
        words.append(known[i] if known else quoted)
    return ", ".join(words)


def _mix_finding(
    kind: str,
    r: dict[str, Any],
    rows: list[dict[str, Any]],
    mix: dict[str, tuple[str, float]],
    inp: Inputs,
    avg_won: float,
) -> Finding:
    strong = kind == "hidden_strength"
    who = inp.name(r["manager_id"])
    seg, share = mix.get(r["manager_id"], ("—", 0.0))
    seg_ru, seg_en = segment_words(seg, "ru"), segment_words(seg, "en")
    passed = [
        o["manager_id"]
        for o in rows
        if (o["rank_raw"] < r["rank_raw"]) == strong
        and (o["rank_adjusted"] > r["rank_adjusted"]) == strong
        and o["manager_id"] != r["manager_id"]
    ]
    names = ", ".join(inp.name(m) for m in passed[:4]) or "—"
    gap = abs(r["mix_index"] - 1)
    diff = abs(r["win_rate"] - r["expected_win_rate"]) * r["deals_closed"]
    wr, ex = r["win_rate"], r["expected_win_rate"]
    if strong:
        text = both(
            f"{who} выигрывает {pct(wr, 'ru')} сделок, но работает в основном с трудными "
            f"клиентами (чаще всего {seg_ru} — {pct(share, 'ru')} сделок); с таким набором "
            f"компания в среднем выигрывает {pct(ex, 'ru')}, так что результат на {pct(gap, 'ru')} "
            f"сильнее уровня компании. По сырой конверсии — {r['rank_raw']}-й и ниже, чем "
            f"{names}; с поправкой на клиентов — {r['rank_adjusted']}-й и выше их.",
            f"{who} wins {pct(wr, 'en')} of deals, but works mostly with hard clients (most "
            f"often {seg_en}: {pct(share, 'en')} of the deals); for that mix the company "
            f"wins {pct(ex, 'en')}, so the result is {pct(gap, 'en')} above the company's level. "
            f"By raw win rate ranks {r['rank_raw']} and below {names}; adjusted for the "
            f"clients ranks {r['rank_adjusted']}, above them.",
        )
        action = both(
            f"Не судите {who} по сырой конверсии: давайте больше холодных и новых "
            "клиентов и попросите поделиться приёмами с командой.",
            f"Do not judge {who} by raw win rate: give more cold and new clients and "
            "ask for the approach to be shared with the team.",
        )
    else:
        text = both(
            f"{who} выигрывает {pct(wr, 'ru')} сделок — на вид лучше многих, но работает в "
            f"основном с лёгкими клиентами (чаще всего {seg_ru} — {pct(share, 'ru')} "
            f"сделок); с таким набором компания выигрывает {pct(ex, 'ru')}, так что результат на "
            f"{pct(gap, 'ru')} ниже уровня компании. По сырой конверсии — {r['rank_raw']}-й "
            f"и выше, чем {names}; с поправкой — {r['rank_adjusted']}-й.",
            f"{who} wins {pct(wr, 'en')} of deals, which looks better than most, but works "
            f"mostly with easy clients (most often {seg_en}: {pct(share, 'en')} of the deals); "
            f"for that mix the company wins {pct(ex, 'en')}, so the result is {pct(gap, 'en')} "
            f"below the company's level. By raw win rate ranks {r['rank_raw']}, above "
            f"{names}; adjusted for the clients ranks {r['rank_adjusted']}.",
        )
        action = both(
            f"Разберите с {who} несколько проигранных сделок с постоянными клиентами и "
            "сравните с тем, как их ведут коллеги.",
            f"Review several lost deals with returning clients with {who} and compare with "
            "how colleagues handle them.",
        )
    return Finding(
        analysis="managers_compare",
        kind=kind,
        severity="high" if gap >= 0.2 else "medium",
        subject={"type": "manager", "id": r["manager_id"], "name": r["name"]},
        metric="mix_index",
        value=round(r["mix_index"], 4),
        baseline=1.0,
        impact=round(diff * avg_won, 2),
        period=inp.as_of.isoformat(),
        text=text,
        action=action,
        evidence={
            "win_rate": round(wr, 4),
            "expected_win_rate": round(ex, 4),
            "mix_index_low": round(r["mix_index_low"], 4),
            "mix_index_high": round(r["mix_index_high"], 4),
            "deals_closed": r["deals_closed"],
            "rank_raw": r["rank_raw"],
            "rank_adjusted": r["rank_adjusted"],
            "main_segment": seg,
            "main_segment_share": round(share, 4),
            "overtakes" if strong else "falls_below": passed,
        },
    )


@register("managers_losses", "Lost reasons by manager, stage or source")
def losses(
    wh: Warehouse,
    *,
    as_of: str | dt.date | None = None,
    date_from: str | dt.date | None = None,
    by: str = "manager",
    min_deals: int = 30,
    team: str | None = None,
    region: str | None = None,
    **_: Any,
) -> AnalysisResult:
    """Reasons of lost deals per group; findings where a group's reasons stand out."""
    from crmlens.analytics.managers import loss_groups, lost_reasons

    _choice(by, ("manager", "stage", "source"), "--by")
    inp = inputs(wh, as_of=as_of, date_from=date_from, team=team, region=region)
    groups = loss_groups(
        cast("LossBy", by),
        inp.deals,
        leads=wh.leads,
        deal_stages=wh.deal_stages,
        pipelines=wh.pipelines,
    )
    rows = lost_reasons(
        inp.deals, groups=groups, as_of=inp.as_of, date_from=inp.date_from
    ).to_pyarrow()
    rows = rows.rename_columns([by, *rows.column_names[1:]])
    if by == "manager":
        rows = with_names(rows, inp, "manager")
    findings = _loss_findings(records(rows), by, inp, min_deals)
    return AnalysisResult(
        "managers_losses", inp.params(by=by, min_deals=min_deals), rows, findings
    )


def _loss_findings(
    rows: list[dict[str, Any]], by: str, inp: Inputs, min_deals: int
) -> list[Finding]:
    import math

    out = []
    for r in rows:
        n, p, q = r["group_lost_deals"], r["share"], r["rest_share"]
        if n < min_deals or q is None or r["lost_deals"] < 10:
            continue
        se = math.sqrt(max(q * (1 - q), 1e-9) / n)
        if p - q < 0.1 or (p - q) / se < 3:
            continue
        label = inp.name(r[by]) if by == "manager" else f"«{r[by]}»"
        excess = (p - q) / p * r["lost_amount"] if p > 0 else 0.0
        where = {
            "manager": ("у менеджера", "for manager"),
            "stage": ("на этапе", "at stage"),
            "source": ("в источнике", "in source"),
        }[by]
        out.append(
            Finding(
                analysis="managers_losses",
                kind="unusual_lost_reason",
                severity="medium",
                subject={"type": by, "id": r[by], "reason": r["lost_reason"]},
                metric="lost_reason_share",
                value=round(p, 4),
                baseline=round(q, 4),
                impact=round(excess, 2),
                period=inp.as_of.isoformat(),
                text=both(
                    f"{where[0].capitalize()} {label} причина «{r['lost_reason']}» — {pct(p, 'ru')} "
                    f"проигранных сделок против {pct(q, 'ru')} в остальных; это "
                    f"{r['lost_deals']} сделок на {money(r['lost_amount'], 'ru')}.",
                    f"{where[1].capitalize()} {label} the reason “{r['lost_reason']}” is "
                    f"{pct(p, 'en')} of lost deals against {pct(q, 'en')} elsewhere: "
                    f"{r['lost_deals']} deals worth {money(r['lost_amount'], 'en')}.",
                ),
                action=both(
                    f"Разберите 5–10 сделок с причиной «{r['lost_reason']}» и найдите, что в них "
                    "общего: скрипт, цену, квалификацию.",
                    f"Review 5–10 deals lost for “{r['lost_reason']}” and find what they share: "
                    "the script, the price, the qualification.",
                ),
                evidence={
                    "lost_deals": r["lost_deals"],
                    "group_lost_deals": n,
                    "lost_amount": r["lost_amount"],
                },
            )
        )
    return out
