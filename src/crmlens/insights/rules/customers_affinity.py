"""Product affinity as an analysis: co-purchase rules, recommendations and the backtest."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Literal

from crmlens.errors import InputError
from crmlens.insights.findings import Finding
from crmlens.insights.params import resolve_as_of
from crmlens.insights.registry import AnalysisResult, register
from crmlens.insights.rules._money import both, pct

if TYPE_CHECKING:
    from crmlens.warehouse import Warehouse

Show = Literal["rules", "recommendations", "backtest"]
MIN_PAIR_CLIENTS = 20


def product_names(wh: Warehouse) -> dict[str, str]:
    """product_id → name."""
    rows = wh.products.select("product_id", "name").to_pyarrow().to_pylist()
    return {r["product_id"]: r["name"] or r["product_id"] for r in rows}


@register(
    "customers_affinity",
    "Products bought together (support, confidence, lift), recommendations, backtest",
)
def customers_affinity(
    wh: Warehouse,
    *,
    as_of: str | dt.date | None = None,
    level: str = "product",
    show: Show = "rules",
    k: int = 5,
    test_days: int = 90,
    min_pair_clients: int = MIN_PAIR_CLIENTS,
    account: str | None = None,
    limit: int = 200,
    **_: Any,
) -> AnalysisResult:
    """Rules by lift (or recommendations, or the backtest table) with findings."""
    from crmlens.analytics.affinity import backtest

    if level not in ("product", "category"):
        raise InputError(f"--level {level!r}", reason="use product or category")
    if show not in ("rules", "recommendations", "backtest"):
        raise InputError(
            f"--show {show!r}", reason="use rules, recommendations or backtest"
        )
    if k < 1 or test_days < 1:
        raise InputError("--k and --test-days must be 1 or more")
    day = resolve_as_of(wh, as_of)
    bt = backtest(
        wh.orders, as_of=day, test_days=test_days, ks=tuple(sorted({1, 3, 5, k}))
    )
    bt_rows = bt.order_by("model", "k").to_pyarrow()
    params: dict[str, Any] = {
        "as_of": day.isoformat(), "level": level, "show": show, "k": k,
        "test_days": test_days, "min_pair_clients": min_pair_clients,
        "backtest": bt_rows.to_pylist(),
    }  # fmt: skip
    names = product_names(wh) if level == "product" else {}
    if show == "backtest":
        rows = bt_rows
    elif show == "recommendations":
        rows = _recommendations(wh, day, level, k, account, names)
    else:
        rows = _rules(wh, day, level, min_pair_clients, limit, names)
    findings = [backtest_finding(bt_rows.to_pylist(), k, test_days, day)]
    findings += pair_findings(wh, day, min_pair_clients, names)
    return AnalysisResult(
        "customers_affinity", params, rows, [f for f in findings if f]
    )


def _basket(wh: Warehouse, day: dt.date, level: str) -> Any:
    from crmlens.analytics.affinity import baskets

    return baskets(wh.orders, wh.products, as_of=day, level=level)  # type: ignore[arg-type]


def _rules(
    wh: Warehouse, day: dt.date, level: str, min_pair: int, limit: int,
    names: dict[str, str],
) -> Any:  # fmt: skip
    import pyarrow as pa
    import pyarrow.compute as pc

    from crmlens.analytics.affinity import item_rules

    expr = item_rules(_basket(wh, day, level), min_pair_clients=min_pair)
    expr = expr.order_by([expr.lift.desc(), expr.antecedent, expr.consequent])
    rows = expr.limit(limit).to_pyarrow()
    if level == "product":
        for col in ("antecedent", "consequent"):
            ids = rows.column(col).to_pylist()
            rows = rows.append_column(
                f"{col}_name", pa.array([names.get(i, i) for i in ids])
            )
    return rows.append_column(
        "level", pc.cast(pa.array([level] * len(rows)), pa.string())
    )


def _recommendations(
    wh: Warehouse, day: dt.date, level: str, k: int, account: str | None,
    names: dict[str, str],
) -> Any:  # fmt: skip
    import pyarrow as pa

    from crmlens.analytics.affinity import item_rules, recommend

    basket = _basket(wh, day, level)
    if account:
        mine = basket.filter(basket.account_id == account)
        if mine.count().to_pyarrow().as_py() == 0:
            raise InputError(f"client {account!r} has no orders by {day}")
        recs = recommend(mine, item_rules(basket), k=k)
    else:
        recs = recommend(basket, item_rules(basket), k=k)
    rows = recs.order_by("account_id", "rank").to_pyarrow()
    if level == "product":
        items = rows.column("item").to_pylist()
        rows = rows.append_column(
            "item_name", pa.array([names.get(i, i) for i in items])
        )
    return rows


def backtest_finding(
    rows: list[dict[str, Any]], k: int, test_days: int, day: dt.date
) -> Finding | None:
    """Whether the recommendations beat the popularity baseline, said plainly."""
    cf = next((r for r in rows if r["model"] == "item_to_item" and r["k"] == k), None)
    pop = next((r for r in rows if r["model"] == "popularity" and r["k"] == k), None)
    if cf is None or pop is None or not cf["clients"]:
        return None
    h1, h0 = cf["hit_rate"], pop["hit_rate"]
    beats = h1 > h0 and cf["recall"] > pop["recall"]
    text = both(
        f"Рекомендации «кто купил X, берёт и Y» угадали новую покупку в первых {k} "
        f"для {pct(h1, 'ru')} клиентов, самые популярные товары — для {pct(h0, 'ru')} "
        f"(полнота {pct(cf['recall'], 'ru')} против {pct(pop['recall'], 'ru')}; "
        f"{cf['clients']} клиентов, последние {test_days} дн.).",
        f"'Clients who bought X also buy Y' recommendations caught a new purchase in "
        f"the top {k} for {pct(h1, 'en')} of clients, the most popular products for "
        f"{pct(h0, 'en')} (recall {pct(cf['recall'], 'en')} vs {pct(pop['recall'], 'en')}; "
        f"{cf['clients']} clients, last {test_days} days).",
    )
    action = both(
        "Рекомендации лучше популярного списка: предлагайте клиентам товары из их "
        "персональных рекомендаций (crmlens actions)."
        if beats else
        "Рекомендации не лучше популярного списка: предлагайте пока самые популярные "
        "товары и вернитесь к рекомендациям, когда накопится больше заказов.",
        "The recommendations beat the popular list: offer clients the products of their "
        "own recommendations (crmlens actions)."
        if beats else
        "The recommendations do not beat the popular list: offer the most popular "
        "products for now and come back when there are more orders.",
    )  # fmt: skip
    return Finding(
        "customers_affinity", "backtest" if beats else "backtest_no_gain",
        "low" if beats else "medium", {"type": "model", "id": "item_to_item"},
        f"hit_rate_at_{k}", round(h1, 4), round(h0, 4), None, day.isoformat(), text,
        action, {"item_to_item": cf, "popularity": pop, "test_days": test_days},
    )  # fmt: skip


def pair_findings(
    wh: Warehouse, day: dt.date, min_pair: int, names: dict[str, str]
) -> list[Finding]:
    """The strongest product pair and the strongest category pair (lift > 1.1)."""
    from crmlens.analytics.affinity import item_rules

    found = []
    levels = ["product", "category"] if wh.has("products") else ["product"]
    for level in levels:
        rules = item_rules(_basket(wh, day, level), min_pair_clients=min_pair)
        top = rules.order_by([rules.lift.desc(), rules.antecedent, rules.consequent])
        best = top.limit(1).to_pyarrow().to_pylist()
        if best and best[0]["lift"] > 1.1:
            found.append(_pair_finding(best[0], level, names, day))
    return found


def _pair_finding(
    r: dict[str, Any], level: str, names: dict[str, str], day: dt.date
) -> Finding:
    a, b = (
        names.get(r["antecedent"], r["antecedent"]),
        names.get(r["consequent"], r["consequent"]),
    )
    lacking = r["antecedent_clients"] - r["pair_clients"]
    what = (
        ("товар", "product", "его")
        if level == "product"
        else ("категорию", "category", "её")
    )
    return Finding(
        "customers_affinity", f"{level}_pair", "low",
        {"type": level, "id": r["antecedent"], "consequent": r["consequent"]}, "lift",
        round(r["lift"], 4), 1.0, None, day.isoformat(),
        both(
            f"Клиенты, купившие «{a}», берут «{b}» в {r['lift']:.1f} раза чаще "
            f"среднего ({pct(r['confidence'], 'ru')} из них, {r['pair_clients']} клиентов).",
            f"Clients who bought '{a}' take '{b}' {r['lift']:.1f}× as often as average "
            f"({pct(r['confidence'], 'en')} of them, {r['pair_clients']} clients).",
        ),
        both(
            f"Предложите {what[0]} «{b}» {lacking} покупателям «{a}», у которых {what[2]} ещё нет.",
            f"Offer the {what[1]} '{b}' to the {lacking} buyers of '{a}' who do not have it.",
        ),
        {k: r[k] for k in ("pair_clients", "antecedent_clients", "consequent_clients",
                           "support", "confidence")},
    )  # fmt: skip
