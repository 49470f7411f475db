"""Candidates of the next-best-action list, one builder per kind, with RU/EN reasons.

Each builder runs its source analysis as of the day before the list's date and returns
plain dicts: action_id, list_date, kind, manager_id, account_id, account_name, lead_id,
deal_id, product_id, probability, amount, expected_value, reason_ru, reason_en and
evidence (the source analysis and its numbers). How each probability and amount is
estimated is written in :mod:`crmlens.analytics.actions`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crmlens.insights.rules._money import money, pct
from crmlens.insights.rules.customers_health import MONTHS_EN, MONTHS_RU

if TYPE_CHECKING:
    import pyarrow as pa

    from crmlens.warehouse import Warehouse

HORIZON_DAYS = 90
Progress = Callable[[str, int, int], None]


@dataclass
class Context:
    """What every builder needs: the warehouse, the dates and shared lookups."""

    wh: Warehouse
    date: dt.date
    seed: int = 0
    model: str = "auto"
    _cache: dict[str, Any] = field(default_factory=dict)

    @property
    def as_of(self) -> dt.date:
        """The last day whose data the list may use."""
        return self.date - dt.timedelta(days=1)

    def accounts(self) -> dict[str, tuple[str | None, str | None]]:
        """account_id → (owner manager_id, name)."""
        if "accounts" not in self._cache:
            from crmlens.analytics.managers import resolve_owners

            acc = resolve_owners(self.wh.accounts, self.wh.managers)
            rows = acc.select("account_id", "owner_id", "name").to_pyarrow()
            self._cache["accounts"] = {
                r["account_id"]: (r["owner_id"], r["name"]) for r in rows.to_pylist()
            }
        return self._cache["accounts"]  # type: ignore[no-any-return]

    def churn(self) -> list[dict[str, Any]]:
        """The churn status of every client as of the list's eve."""
        if "churn" not in self._cache:
            from crmlens.analytics.churn import churn_status

            expr = churn_status(self.wh.orders, as_of=self.as_of)
            self._cache["churn"] = expr.to_pyarrow().to_pylist()
        return self._cache["churn"]  # type: ignore[no-any-return]

    def item(self, kind: str, manager_id: str | None, **fields: Any) -> dict[str, Any]:
        """An action with its id, date and expected value = probability × amount."""
        obj = fields.get("lead_id") or fields.get("deal_id") or fields.get("account_id")
        p, amount = float(fields["probability"]), float(fields["amount"])
        account = fields.get("account_id")
        name = self.accounts().get(account, (None, None))[1] if account else None
        return {
            "action_id": f"{self.date.isoformat()}:{kind}:{obj}",
            "list_date": self.date,
            "kind": kind,
            "manager_id": manager_id,
            "account_id": account,
            "account_name": name,
            "lead_id": fields.get("lead_id"),
            "deal_id": fields.get("deal_id"),
            "product_id": fields.get("product_id"),
            "probability": round(p, 4),
            "amount": round(amount, 2),
            "expected_value": round(p * amount, 2),
            "reason_ru": fields["reason_ru"],
            "reason_en": fields["reason_en"],
            "evidence": fields["evidence"],
        }


def _finite(value: Any, default: float = 0.0) -> float:
    if value is None:
        return default
    v = float(value)
    return v if math.isfinite(v) else default


def call_lead(ctx: Context) -> list[dict[str, Any]]:
    """Open leads scored by the lead-scoring model trained on what was known then."""
    from crmlens.analytics.actions import lead_open_at
    from crmlens.analytics.scoring import LeadScorer
    from crmlens.insights.rules._leads_score import load_frame, scored_rows
    from crmlens.insights.rules.leads import labels

    wh = ctx.wh
    frame, attrs = load_frame(wh, ctx.as_of, moment="arrival", exclude=())
    opens = lead_open_at(wh.leads, wh.deals, wh.activities, as_of=ctx.as_of)
    flags = opens.to_pyarrow().to_pandas()
    frame = frame.merge(flags, on="lead_id", how="inner")
    train = frame[(frame["is_labelled"] == 1) & (frame["is_open"] == 0)]
    todo = frame[frame["is_open"] == 1].reset_index(drop=True)
    if todo.empty or train["is_converted"].nunique() < 2 or len(train) < 50:
        return []
    features = [a.name for a in attrs]
    scorer = LeadScorer(features, model=ctx.model, seed=ctx.seed)  # type: ignore[arg-type]
    scorer.fit(train.drop(columns=["owner_id", "account_id", "is_open"]))
    rows = scored_rows(todo, scorer, labels(wh)).to_pylist()
    owner = dict(zip(todo["lead_id"].astype(str), todo["owner_id"], strict=True))
    account = dict(zip(todo["lead_id"].astype(str), todo["account_id"], strict=True))
    amounts = dict(
        zip(todo["lead_id"].astype(str), todo["potential_amount"], strict=True)
    )
    out = []
    for r in rows:
        lead, p = r["lead_id"], r["probability"]
        given = amounts.get(lead)
        amount = scorer.default_amount_ if _nan(given) else _finite(given)
        src = r["source"] or "—"
        why_ru = f"; {r['reasons_ru']}" if r["reasons_ru"] else ""
        why_en = f"; {r['reasons_en']}" if r["reasons_en"] else ""
        out.append(
            ctx.item(
                "call_lead", owner.get(lead), lead_id=lead,
                account_id=_none(account.get(lead)), probability=p, amount=amount,
                reason_ru=f"Позвоните по лиду {lead} ({src}): класс {r['grade']}, "
                f"шанс сделки {pct(p, 'ru')}, сумма {money(amount, 'ru')}{why_ru}.",
                reason_en=f"Call lead {lead} ({src}): grade {r['grade']}, "
                f"{pct(p, 'en')} chance of a deal, {money(amount, 'en')} at stake{why_en}.",
                evidence={
                    "analysis": "leads_score", "grade": r["grade"],
                    "probability": p, "model": scorer.kind_,
                    "potential_amount": None if _nan(given) else _finite(given),
                    "amount_basis": "potential_amount" if not _nan(given)
                    else "median potential_amount of training leads",
                    "reasons": r["reasons_en"],
                    "created_at": str(r["created_at"]),
                },
            )
        )  # fmt: skip
    return out


def _nan(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _none(v: Any) -> Any:
    return None if _nan(v) else v


def push_deal(ctx: Context) -> list[dict[str, Any]]:
    """Open deals stuck in their stage longer than 75 % of the deals that left it."""
    from ibis import _

    from crmlens.analytics.actions import stuck_deals
    from crmlens.analytics.managers import resolve_owners

    wh = ctx.wh
    deals = resolve_owners(wh.deals, wh.managers)
    rows = stuck_deals(deals, wh.deal_stages, wh.pipelines, as_of=ctx.as_of)
    won = deals.filter(
        _.status == "won", _.amount.notnull(), _.created_at.date() <= ctx.as_of
    )
    medians = {
        r["pipeline_id"]: r["m"]
        for r in won.group_by("pipeline_id")
        .agg(m=_.amount.cast("float64").median())
        .to_pyarrow()
        .to_pylist()
    }
    out = []
    for r in rows.to_pyarrow().to_pylist():
        p = _finite(r["stuck_win_rate"], _finite(r["stage_win_rate"]))
        amount = _finite(r["amount"], _finite(medians.get(r["pipeline_id"])))
        days, usual, stage = r["days_in_stage"], r["usual_days"], r["stage"]
        out.append(
            ctx.item(
                "push_deal", r["owner_id"], deal_id=r["deal_id"],
                account_id=r["account_id"], probability=p, amount=amount,
                reason_ru=f"Сдвиньте сделку {r['deal_id']} ({money(amount, 'ru')}): она "
                f"стоит на этапе «{stage}» {days:.0f} дн., а 75 % сделок уходят с него за "
                f"{usual:.0f} дн.; из так же задержавшихся выигрывают {pct(p, 'ru')}.",
                reason_en=f"Move deal {r['deal_id']} ({money(amount, 'en')}): it has sat "
                f"in '{stage}' for {days:.0f} days while 75% of deals leave it within "
                f"{usual:.0f} days; {pct(p, 'en')} of deals that stayed as long still won.",
                evidence={
                    "analysis": "funnel", "stage": stage,
                    "days_in_stage": round(days, 1), "usual_days": round(usual, 1),
                    "median_days": round(r["median_days"], 1),
                    "stuck_win_rate": round(p, 4),
                    "stage_win_rate": round(_finite(r["stage_win_rate"]), 4),
                    "deals_compared": r["deals_compared"],
                    "amount_basis": "deal amount" if r["amount"] is not None
                    else "median won amount of the pipeline",
                },
            )
        )  # fmt: skip
    return out


def _next_month(day: dt.date) -> int:
    return day.month % 12 + 1


def peak_revenue(months: pa.Table, peaks: dict[str, int]) -> dict[str, float]:
    """Mean revenue of each client in its peak month (1..12) over the years seen."""
    total: dict[str, float] = {}
    count: dict[str, int] = {}
    for r in months.to_pylist():
        acc = r["account_id"]
        if acc in peaks and r["month"] % 12 == peaks[acc] - 1:
            total[acc] = total.get(acc, 0.0) + float(r["revenue"])
            count[acc] = count.get(acc, 0) + 1
    return {a: total[a] / count[a] for a in total}


def seasonal_order(ctx: Context) -> list[dict[str, Any]]:
    """Seasonal clients whose peak month is the month after the list's date."""
    from crmlens.analytics.actions import succession
    from crmlens.analytics.seasonality import client_months, seasonal_profile

    months = client_months(ctx.wh.orders, as_of=ctx.as_of).to_pyarrow()
    if months.num_rows == 0:  # seasonal_profile needs at least one client
        return []
    target = _next_month(ctx.date)
    chosen = [
        s
        for s in seasonal_profile(months, as_of=ctx.as_of)
        if s.is_seasonal and s.peak_month == target
    ]
    revenue = peak_revenue(months, {s.account_id: s.peak_month for s in chosen})
    owners = ctx.accounts()
    m = target - 1
    out = []
    for s in chosen:
        p = succession(s.repeated_years, s.peak_years)
        amount = revenue.get(s.account_id, s.monthly_revenue * (1 + s.peak_uplift))
        owner, name = owners.get(s.account_id, (None, None))
        who = name or s.account_id
        out.append(
            ctx.item(
                "seasonal_order", owner, account_id=s.account_id, probability=p,
                amount=amount,
                reason_ru=f"Подготовьте сезонный заказ клиента {who}: каждый год в "
                f"{MONTHS_RU[m]} он покупает на {pct(s.peak_uplift, 'ru')} больше "
                f"обычного (пик {s.repeated_years} из {s.peak_years} лет), в среднем на "
                f"{money(amount, 'ru')}; пик — в следующем месяце.",
                reason_en=f"Prepare the seasonal order of {who}: every {MONTHS_EN[m]} "
                f"it buys {pct(s.peak_uplift, 'en')} more than usual (peak in "
                f"{s.repeated_years} of {s.peak_years} years), {money(amount, 'en')} on "
                "average; the peak is next month.",
                evidence={
                    "analysis": "customers_seasonality", "peak_month": s.peak_month,
                    "peak_uplift": round(s.peak_uplift, 4),
                    "peak_years": s.peak_years, "repeated_years": s.repeated_years,
                    "mean_peak_month_revenue": round(amount, 2),
                    "next_peak": s.next_peak.isoformat(),
                },
            )
        )  # fmt: skip
    return out


def win_back(ctx: Context) -> list[dict[str, Any]]:
    """Clients silent longer than usual, with the base's return rate as probability."""
    from crmlens.analytics.actions import return_rates, succession

    rates = {
        r["status"]: r
        for r in return_rates(ctx.wh.orders, as_of=ctx.as_of).to_pyarrow().to_pylist()
    }
    owners = ctx.accounts()
    out = []
    for r in ctx.churn():
        if not (r["gap_ratio"] > 2.5 and r["days_since_last_order"] <= 450):
            continue
        rate = rates.get(r["status"], {"returned": 0, "clients": 0})
        p = succession(rate["returned"], rate["clients"])
        stake = _finite(r["revenue_at_stake"])
        amount = stake * HORIZON_DAYS / 365.0
        owner, name = owners.get(r["account_id"], (None, None))
        who = name or r["account_id"]
        days, gap = r["days_since_last_order"], r["usual_gap_days"]
        out.append(
            ctx.item(
                "win_back", owner, account_id=r["account_id"], probability=p,
                amount=amount,
                reason_ru=f"Верните клиента {who}: он молчит {days} дн., хотя обычно "
                f"заказывает раз в {gap:.0f} дн.; за последний год покупал на "
                f"{money(stake, 'ru')}. Узнайте, что изменилось.",
                reason_en=f"Win back {who}: silent for {days} days although it usually "
                f"orders every {gap:.0f} days; it bought {money(stake, 'en')} in its "
                "last year. Find out what changed.",
                evidence={
                    "analysis": "customers_churn", "status": r["status"],
                    "days_since_last_order": days, "usual_gap_days": round(gap, 1),
                    "gap_ratio": round(r["gap_ratio"], 2),
                    "revenue_at_stake": round(stake, 2),
                    "last_order_date": str(r["last_order_date"]),
                    "return_rate_clients": rate["clients"],
                    "return_rate_returned": rate["returned"],
                },
            )
        )  # fmt: skip
    return out


def offer_product(ctx: Context) -> list[dict[str, Any]]:
    """The best recommendation of every client still buying (active or at risk), when
    its strongest link has a lift above 1."""
    from crmlens.analytics.affinity import (
        baskets,
        item_rules,
        rank_precision,
        recommend,
        typical_order_amount,
    )

    wh, as_of = ctx.wh, ctx.as_of
    buying = {
        r["account_id"] for r in ctx.churn() if r["status"] in ("active", "at_risk")
    }
    if not buying:
        return []
    basket = baskets(wh.orders, as_of=as_of)
    recs = recommend(basket, item_rules(basket), k=1).to_pyarrow().to_pylist()
    prec = rank_precision(wh.orders, as_of=as_of, k=1).to_pyarrow().to_pylist()
    p = prec[0]["precision"] if prec else 0.0
    typical = {
        r["item"]: r["median_amount"]
        for r in typical_order_amount(wh.orders, as_of=as_of).to_pyarrow().to_pylist()
    }
    names = {
        r["product_id"]: (r["name"], r["price"])
        for r in wh.products.select("product_id", "name", "price")
        .to_pyarrow()
        .to_pylist()
    }
    owners = ctx.accounts()
    out = []
    for r in recs:
        # a pair bought together less often than by chance is no reason to offer
        if r["account_id"] not in buying or r["lift"] <= 1.0:
            continue
        item, because = r["item"], r["because"]
        name = names.get(item, (item, None))[0]
        b_name = names.get(because, (because, None))[0]
        amount = _finite(typical.get(item), _finite(names.get(item, (None, 0.0))[1]))
        owner, acc_name = owners.get(r["account_id"], (None, None))
        who = acc_name or r["account_id"]
        out.append(
            ctx.item(
                "offer_product", owner, account_id=r["account_id"], product_id=item,
                probability=p, amount=amount,
                reason_ru=f"Предложите клиенту {who} товар «{name}»: "
                f"{pct(r['confidence'], 'ru')} клиентов, купивших «{b_name}», берут и "
                f"его ({r['lift']:.1f}× чаще, чем в среднем), а этот клиент ещё не брал.",
                reason_en=f"Offer '{name}' to {who}: {pct(r['confidence'], 'en')} of "
                f"the clients who bought '{b_name}' also buy it ({r['lift']:.1f}× the "
                "average), and this client has not yet.",
                evidence={
                    "analysis": "customers_affinity", "product": name,
                    "because": because, "confidence": round(r["confidence"], 4),
                    "lift": round(r["lift"], 4), "score": round(r["score"], 4),
                    "rank_precision": round(p, 4),
                    "median_order_amount": round(amount, 2),
                },
            )
        )  # fmt: skip
    return out


BUILDERS: dict[str, Callable[[Context], list[dict[str, Any]]]] = {
    "call_lead": call_lead,
    "push_deal": push_deal,
    "seasonal_order": seasonal_order,
    "win_back": win_back,
    "offer_product": offer_product,
}


def build_items(
    ctx: Context, kinds: tuple[str, ...], progress: Progress | None = None
) -> list[dict[str, Any]]:
    """Candidates of every kind in `kinds` for the list of ``ctx.date``."""
    out: list[dict[str, Any]] = []
    for i, kind in enumerate(kinds):
        if progress:
            progress(kind, i, len(kinds))
        out += BUILDERS[kind](ctx)
    if progress:
        progress("", len(kinds), len(kinds))
    return out


def capacities(ctx: Context, window_days: int = 90) -> tuple[dict[str, int], int]:
    """Each manager's capacity (median calls + meetings per working day) and a fallback.

    The fallback, for managers without activity in the window, is the median of the
    others' capacities (5 when nobody has any).
    """
    from statistics import median

    from crmlens.analytics.actions import capacity_of, manager_capacity

    rows = manager_capacity(
        ctx.wh.activities, as_of=ctx.as_of, window_days=window_days
    ).to_pyarrow()
    caps = {r["manager_id"]: capacity_of(r["median_per_day"]) for r in rows.to_pylist()}
    fallback = round(median(caps.values())) if caps else 5
    return caps, max(1, fallback)
