"""Product affinity: support, confidence and lift by hand, recommendations, backtest."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from crmlens.analytics.affinity import (
    backtest,
    baskets,
    item_rules,
    rank_precision,
    recommend,
    recommend_popular,
    typical_order_amount,
)

# a: P1 P2 · b: P1 P2 P3 · c: P1 P3 · d: P2 (plus a return and an order without product)
ORDERS = """order_id,account_id,order_date,amount,product_id
1,a,2024-01-10,100,P1
2,a,2024-01-20,200,P2
3,b,2024-01-10,100,P1
4,b,2024-02-10,300,P2
5,b,2024-02-11,50,P3
6,c,2024-01-15,100,P1
7,c,2024-03-01,70,P3
8,d,2024-01-05,200,P2
9,d,2024-01-06,-200,P3
10,d,2024-01-07,90,
11,a,2024-06-01,100,P3
"""
PRODUCTS = """product_id,name,category
P1,Pump,pumps
P2,Valve,valves
P3,Seal,valves
"""
AS_OF = dt.date(2024, 3, 31)


def _wh(open_wh, tmp_path: Path, files: dict[str, str]):
    for name, text in files.items():
        (tmp_path / f"{name}.csv").write_text(text)
    w = open_wh()
    for name in files:
        w.import_files([tmp_path / f"{name}.csv"], table=name)
    return w


@pytest.fixture
def wh(open_wh, tmp_path: Path):
    return _wh(open_wh, tmp_path, {"orders": ORDERS, "products": PRODUCTS})


def _by_pair(rows: list[dict]) -> dict[tuple[str, str], dict]:
    return {(r["antecedent"], r["consequent"]): r for r in rows}


def test_rules_by_hand(wh) -> None:
    basket = baskets(wh.orders, as_of=AS_OF)
    got = {(r["account_id"], r["item"]) for r in basket.to_pyarrow().to_pylist()}
    # the return (negative amount), the order without a product and the later one: out
    assert got == {("a", "P1"), ("a", "P2"), ("b", "P1"), ("b", "P2"), ("b", "P3"),
                   ("c", "P1"), ("c", "P3"), ("d", "P2")}  # fmt: skip
    rules = _by_pair(item_rules(basket).to_pyarrow().to_pylist())
    p12 = rules[("P1", "P2")]
    assert (p12["pair_clients"], p12["antecedent_clients"]) == (2, 3)
    assert p12["support"] == pytest.approx(2 / 4)
    assert p12["confidence"] == pytest.approx(2 / 3)
    assert p12["lift"] == pytest.approx((2 / 3) / (3 / 4))
    p31 = rules[("P3", "P1")]
    assert p31["confidence"] == pytest.approx(1.0)
    assert p31["lift"] == pytest.approx(4 / 3)
    assert rules[("P2", "P3")]["pair_clients"] == 1
    assert len(rules) == 6  # every ordered pair of the three products
    strict = item_rules(basket, min_pair_clients=2).to_pyarrow().to_pylist()
    assert {(r["antecedent"], r["consequent"]) for r in strict} == {
        ("P1", "P2"), ("P2", "P1"), ("P1", "P3"), ("P3", "P1")}  # fmt: skip


def test_category_level(wh) -> None:
    basket = baskets(wh.orders, wh.products, as_of=AS_OF, level="category")
    rules = _by_pair(item_rules(basket).to_pyarrow().to_pylist())
    # clients with pumps: a, b, c; with valves: all four
    pv = rules[("pumps", "valves")]
    assert (pv["pair_clients"], pv["confidence"], pv["lift"]) == (3, 1.0, 1.0)
    assert rules[("valves", "pumps")]["confidence"] == pytest.approx(3 / 4)


def test_recommendations_by_hand(wh) -> None:
    basket = baskets(wh.orders, as_of=AS_OF)
    recs = recommend(basket, item_rules(basket), k=2).to_pyarrow().to_pylist()
    got = {(r["account_id"], r["rank"]): r for r in recs}
    assert "b" not in {r["account_id"] for r in recs}  # b has bought everything
    assert got[("a", 1)]["item"] == "P3"
    assert got[("a", 1)]["score"] == pytest.approx(2 / 3 + 1 / 3)
    assert got[("a", 1)]["because"] == "P1"
    assert got[("c", 1)]["item"] == "P2"
    assert got[("c", 1)]["score"] == pytest.approx(2 / 3 + 1 / 2)
    assert (got[("d", 1)]["item"], got[("d", 2)]["item"]) == ("P1", "P3")
    assert got[("d", 1)]["confidence"] == pytest.approx(2 / 3)
    popular = recommend_popular(basket, k=2).to_pyarrow().to_pylist()
    assert [r["item"] for r in sorted(popular, key=lambda r: (r["account_id"], r["rank"]))
            if r["account_id"] == "d"] == ["P1", "P3"]  # fmt: skip


def test_typical_order_amount(wh) -> None:
    rows = typical_order_amount(wh.orders, as_of=AS_OF).to_pyarrow().to_pylist()
    got = {r["item"]: (r["orders_count"], r["median_amount"]) for r in rows}
    assert got == {"P1": (3, 100.0), "P2": (3, 200.0), "P3": (2, 60.0)}


# Two groups of clients: x* buy P1 and then P2, y* buy P3 and then P4; P5 is bought by
# the most clients. x4 and y4 buy their second product after the cut only: the
# item-to-item recommendation finds it, the popularity baseline offers P5 first.
def _split_orders() -> str:
    lines = ["order_id,account_id,order_date,amount,product_id"]
    n = 0

    def add(acc: str, day: str, product: str) -> None:
        nonlocal n
        n += 1
        lines.append(f"{n},{acc},{day},100,{product}")

    for i in (1, 2, 3):
        add(f"x{i}", "2024-01-10", "P1")
        add(f"x{i}", "2024-02-10", "P2")
        add(f"y{i}", "2024-01-10", "P3")
        add(f"y{i}", "2024-02-10", "P4")
    for acc in ("x1", "x2", "y1", "y2", "z1", "z2", "z3"):
        add(acc, "2024-03-01", "P5")
    add("x4", "2024-01-20", "P1")
    add("y4", "2024-01-20", "P3")
    add("x4", "2024-05-10", "P2")
    add("y4", "2024-05-12", "P4")
    return "\n".join(lines) + "\n"


def test_backtest_beats_popularity(open_wh, tmp_path: Path) -> None:
    w = _wh(open_wh, tmp_path, {"orders": _split_orders()})
    as_of = dt.date(2024, 6, 30)
    rows = backtest(w.orders, as_of=as_of, test_days=90, ks=(1, 3)).to_pyarrow()
    got = {(r["model"], r["k"]): r for r in rows.to_pylist()}
    assert got[("item_to_item", 1)]["clients"] == 2  # x4 and y4
    assert got[("item_to_item", 1)]["hit_rate"] == 1.0
    assert got[("item_to_item", 1)]["recall"] == 1.0
    assert got[("popularity", 1)]["hit_rate"] == 0.0  # P5 first for both
    assert got[("popularity", 3)]["hit_rate"] == 0.5  # P2 (before P4 on the tie) for x4
    prec = rank_precision(w.orders, as_of=as_of, test_days=90, k=1).to_pyarrow()
    first = prec.to_pylist()[0]
    assert (first["rank"], first["bought"]) == (1, 2)
    assert first["precision"] == pytest.approx(2 / first["recommendations"])


def test_demo_backtest_beats_popularity(demo_wh, demo_truth) -> None:
    demo_wh.refresh()
    as_of = dt.date.fromisoformat(demo_truth["as_of"]) - dt.timedelta(days=1)
    rows = backtest(demo_wh.orders, as_of=as_of, ks=(5,)).to_pyarrow().to_pylist()
    got = {r["model"]: r for r in rows}
    assert got["item_to_item"]["clients"] > 300
    assert got["item_to_item"]["hit_rate"] > got["popularity"]["hit_rate"] + 0.05
    assert got["item_to_item"]["recall"] > got["popularity"]["recall"]
