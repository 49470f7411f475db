"""Client health: seasonal clients, silent clients (churn) and revenue factors."""

from __future__ import annotations

import datetime as dt
from itertools import groupby
from typing import TYPE_CHECKING, Any

from crmlens.errors import InputError
from crmlens.insights.findings import Finding
from crmlens.insights.params import resolve_as_of
from crmlens.insights.registry import AnalysisResult, register
from crmlens.insights.rules._money import both, money, pct
from crmlens.insights.rules.customers import scoped_orders

if TYPE_CHECKING:
    import pyarrow as pa

    from crmlens.analytics.seasonality import Season
    from crmlens.warehouse import Warehouse

MONTHS_RU = ("январе", "феврале", "марте", "апреле", "мае", "июне", "июле", "августе",
             "сентябре", "октябре", "ноябре", "декабре")  # fmt: skip
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")  # fmt: skip
MONTHS_BEFORE_RU = ("декабре", "январе", "феврале", "марте", "апреле", "мае", "июне",
                    "июле", "августе", "сентябре", "октябре", "ноябре")  # fmt: skip
FACTOR_WORDS = {
    "leads": ("число лидов", "the number of leads"),
    "conversion": ("конверсия в платящих клиентов", "conversion to paying clients"),
    "average_check": ("средний чек", "the average check"),
    "orders_per_client": ("число заказов на клиента", "orders per client"),
}


@register(
    "customers_seasonality", "Clients who buy much more in the same month every year"
)
def seasonality(
    wh: Warehouse,
    *,
    as_of: str | dt.date | None = None,
    min_uplift: float = 1.5,
    region: str | None = None,
    manager: str | None = None,
    **_: Any,
) -> AnalysisResult:
    """One row per client with two years of history; grouped seasonal_client findings."""
    from crmlens.analytics.seasonality import (
        client_months,
        seasonal_profile,
        seasons_table,
    )

    day = resolve_as_of(wh, as_of)
    months = client_months(scoped_orders(wh, region=region, manager=manager), as_of=day)
    seasons = seasonal_profile(months.to_pyarrow(), as_of=day, min_uplift=min_uplift)
    params = {"as_of": day.isoformat(), "min_uplift": min_uplift}
    findings = _season_findings([s for s in seasons if s.is_seasonal], day)
    return AnalysisResult(
        "customers_seasonality", params, seasons_table(seasons), findings
    )


def _season_findings(seasonal: list[Season], as_of: dt.date) -> list[Finding]:
    found = []
    ordered = sorted(seasonal, key=lambda s: (s.next_peak, s.account_id))
    for peak, group_it in groupby(ordered, key=lambda s: s.next_peak):
        group = list(group_it)
        m = peak.month - 1
        extra = sum(s.monthly_revenue * s.peak_uplift for s in group)
        uplift = sorted(s.peak_uplift for s in group)[len(group) // 2]
        found.append(
            Finding(
                "customers_seasonality", "seasonal_client", "medium" if extra > 1e6 else "low",
                {"type": "month", "id": peak.strftime("%Y-%m")}, "peak_uplift",
                round(uplift, 4), 0.0, round(extra, 2), peak.strftime("%Y-%m"),
                both(
                    f"{len(group)} клиентов каждый год в {MONTHS_RU[m]} покупают на "
                    f"{pct(uplift, 'ru')} больше обычного; следующий пик — {peak:%m.%Y}.",
                    f"{len(group)} clients buy {pct(uplift, 'en')} more than usual every "
                    f"{MONTHS_EN[m]}; the next peak is {MONTHS_EN[m]} {peak.year}.",
                ),
                both(
                    f"Подготовьте им предложения и запасы в {MONTHS_BEFORE_RU[m]}, до пика.",
                    f"Prepare offers and stock for them in {MONTHS_EN[m - 1]}, before the peak.",
                ),
                {"account_ids": [s.account_id for s in group],
                 "expected_extra_revenue": round(extra, 2)},
            )
        )  # fmt: skip
    return found


@register(
    "customers_churn", "Clients silent longer than their usual gap between orders"
)
def churn(
    wh: Warehouse,
    *,
    as_of: str | dt.date | None = None,
    region: str | None = None,
    manager: str | None = None,
    limit: int = 20,
    **_: Any,
) -> AnalysisResult:
    """Status per client; silent_client findings ranked by revenue at stake."""
    from crmlens.analytics.churn import churn_status

    day = resolve_as_of(wh, as_of)
    expr = churn_status(scoped_orders(wh, region=region, manager=manager), as_of=day)
    rows = expr.to_pyarrow()
    silent = [r for r in rows.to_pylist() if r["status"] == "silent"]
    silent.sort(key=lambda r: (-(r["revenue_at_stake"] or 0.0), r["account_id"]))
    findings = [_silent(r, day) for r in silent[:limit]]
    return AnalysisResult("customers_churn", {"as_of": day.isoformat()}, rows, findings)


def _silent(r: dict[str, Any], as_of: dt.date) -> Finding:
    gap, days, stake = (
        r["usual_gap_days"],
        r["days_since_last_order"],
        r["revenue_at_stake"],
    )
    sev = "high" if stake >= 1e6 else "medium" if stake >= 2e5 else "low"
    acc = r["account_id"]
    return Finding(
        "customers_churn", "silent_client", sev, {"type": "account", "id": acc},  # type: ignore[arg-type]
        "days_since_last_order", days, round(gap, 1), round(stake, 2), as_of.isoformat(),
        both(
            f"Клиент {acc} молчит {days} дн., хотя обычно заказывает раз в "
            f"{gap:.0f} дн.; за год он покупал на {money(stake, 'ru')}.",
            f"Client {acc} has been silent for {days} days although it usually orders "
            f"every {gap:.0f} days; it bought {money(stake, 'en')} in its last year.",
        ),
        both(
            "Позвоните клиенту сегодня: узнайте, не ушёл ли он к конкуренту, и "
            "предложите следующий заказ.",
            "Call the client today: find out whether it went to a competitor and "
            "offer the next order.",
        ),
        {"last_order_date": str(r["last_order_date"]), "gap_ratio": round(r["gap_ratio"], 2),
         "gap_source": r["gap_source"], "orders_count": r["orders_count"]},
    )  # fmt: skip


@register(
    "customers_factors",
    "Why revenue moved: leads x conversion x check x orders per client",
)
def factors(
    wh: Warehouse,
    *,
    as_of: str | dt.date | None = None,
    period: str = "month",
    by: str | None = None,
    **_: Any,
) -> AnalysisResult:
    """Factors per period with the LMDI split; a finding on the last period's change."""
    from crmlens.analytics.factors import factor_changes, revenue_factors

    if period not in ("month", "quarter", "year"):
        raise InputError(f"--period {period!r}", reason="use month, quarter or year")
    if by not in (None, "region", "manager", "source"):
        raise InputError(f"--by {by!r}", reason="use region, manager or source")
    day = resolve_as_of(wh, as_of)
    expr = revenue_factors(
        wh.orders,
        wh.leads,
        wh.accounts,
        as_of=day,
        period=period,  # type: ignore[arg-type]
        by=by,
    )
    rows = factor_changes(expr.to_pyarrow(), by=by)
    params = {"as_of": day.isoformat(), "period": period, "by": by}
    findings = _factor_finding(rows, _partial(day, period)) if by is None else []
    return AnalysisResult("customers_factors", params, rows, findings)


def _partial(day: dt.date, period: str) -> str | None:
    """The label of the period holding `day` when `day` is not its last day."""
    nxt = day + dt.timedelta(days=1)
    if period == "year":
        return None if nxt.year != day.year else str(day.year)
    if period == "quarter":
        q = (day.month - 1) // 3
        same = (nxt.month - 1) // 3 == q and nxt.year == day.year
        return f"{day.year}-Q{q + 1}" if same else None
    return f"{day:%Y-%m}" if nxt.month == day.month else None


def _factor_finding(rows: pa.Table, partial: str | None) -> list[Finding]:
    """The factor that moved revenue most in the last complete period."""
    data = [
        r
        for r in rows.to_pylist()
        if r["leads_effect"] is not None and r["period"] != partial
    ]
    if not data:
        return []
    last = data[-1]
    effects = {f: last[f"{f}_effect"] for f in FACTOR_WORDS}
    top = max(effects, key=lambda f: (abs(effects[f]), f))
    change, part = last["revenue_change"], effects[top]
    up = ("выросла", "grew") if change >= 0 else ("упала", "fell")
    ru, en = FACTOR_WORDS[top]
    return [
        Finding(
            "customers_factors", "revenue_factor", "high" if part < 0 else "low",
            {"type": "factor", "id": top}, f"{top}_effect", round(part, 2),
            round(change, 2), round(abs(part), 2), last["period"],
            both(
                f"Выручка за {last['period']} {up[0]} на {money(abs(change), 'ru')}; "
                f"больше всего повлиял фактор «{ru}»: {money(part, 'ru')}.",
                f"Revenue in {last['period']} {up[1]} by {money(abs(change), 'en')}; "
                f"{en} moved it most: {money(part, 'en')}.",
            ),
            both(
                f"Разберите, что изменилось в показателе «{ru}», и начните с него.",
                f"Look into what changed in {en} and start there.",
            ),
            {f"{f}_effect": v for f, v in effects.items()},
        )
    ]  # fmt: skip
