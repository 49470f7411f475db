"""Product affinity: what clients like this one buy that this one does not buy yet.

Definitions (docs/metrics.md#affinity)
--------------------------------------
- A client's **basket** at ``as_of``: the distinct items of its orders with
  ``amount > 0`` dated on or before ``as_of``; an item is a ``product_id``
  (``level="product"``) or the product's ``category`` (``level="category"``).
- Over the N clients with a basket, for items a and b:
  ``support(a→b)`` = clients who bought both / N; ``confidence(a→b)`` = clients who
  bought both / clients who bought a; ``lift(a→b)`` = confidence(a→b) / (clients who
  bought b / N) — above 1, a's buyers take b more often than the base does.
- **Recommendation score** of item b for client c = Σ over the items a in c's basket of
  confidence(a→b), for the items b not in c's basket (item-to-item collaborative
  filtering, "clients who bought a also bought b"). Confidence carries b's base rate,
  so an item every client takes still scores well when nothing in the basket points
  elsewhere. ``because`` is the basket item with the highest confidence towards b.
- **Popularity baseline**: the items bought by the most clients, not in the basket.
- **Backtest** (a time split): baskets and rules from orders up to ``cut = as_of -
  test_days``; the test is, per client, the items it bought for the first time in
  ``(cut, as_of]``. Evaluated clients have a basket before the cut and at least one new
  item. ``hit_rate@k`` = share of them with a new item among their top k;
  ``recall@k`` = mean over them of (new items in the top k) / (new items).
- **Precision at rank r**: over every client with a basket at the cut, the share of its
  rank-r recommendation that it bought in the test window — the probability that a
  client buys the item recommended at rank r within ``test_days`` days, used by the
  next-best-action list as the probability of an offer.

Everything is one Ibis expression (DuckDB and Spark alike).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import ibis
import ibis.expr.types as ir
from ibis import _

from crmlens.analytics._checks import require_columns
from crmlens.analytics.customers import orders_until

Level = Literal["product", "category"]
ORDER_COLUMNS = ("account_id", "order_date", "amount", "product_id")
RULE_COLUMNS = (
    "antecedent",
    "consequent",
    "pair_clients",
    "antecedent_clients",
    "consequent_clients",
    "support",
    "confidence",
    "lift",
)


def baskets(
    orders: ir.Table,
    products: ir.Table | None = None,
    *,
    as_of: dt.date,
    level: Level = "product",
    after: dt.date | None = None,
) -> ir.Table:
    """Distinct items bought per client by `as_of` (and after `after` when given).

    Returns
    -------
    ir.Table
        account_id, item, orders_count (orders of the item), first_order_date.
    """
    require_columns(orders, "orders", ORDER_COLUMNS)
    o = orders_until(orders, as_of=as_of).filter(
        _.amount > 0, _.product_id.notnull(), _.account_id.notnull()
    )
    if after is not None:
        o = o.filter(_.order_date > after)
    if level == "category":
        if products is None:
            raise ValueError("level='category' needs the products table")
        require_columns(products, "products", ["product_id", "category"])
        cats = products.filter(_.category.notnull()).select(
            pid="product_id", category="category"
        )
        o = o.join(cats, o.product_id == cats.pid).mutate(item=_.category)
    else:
        o = o.mutate(item=_.product_id.cast("string"))
    return o.group_by("account_id", "item").agg(
        orders_count=_.count().cast("int64"), first_order_date=_.order_date.min()
    )


def item_rules(basket: ir.Table, *, min_pair_clients: int = 1) -> ir.Table:
    """Support, confidence and lift of every ordered pair of items bought together.

    Returns
    -------
    ir.Table
        antecedent, consequent, pair_clients, antecedent_clients, consequent_clients,
        support, confidence, lift — pairs with at least `min_pair_clients` clients.
    """
    total = basket.aggregate(n_clients=_.account_id.nunique())
    per_item = basket.group_by("item").agg(item_clients=_.count())
    a = basket.select(acc_a="account_id", antecedent="item")
    b = basket.select(acc_b="account_id", consequent="item")
    pairs = (
        a.join(b, a.acc_a == b.acc_b)
        .filter(_.antecedent != _.consequent)
        .group_by("antecedent", "consequent")
        .agg(pair_clients=_.count())
        .filter(_.pair_clients >= min_pair_clients)
    )
    ant = per_item.select(ant_item="item", antecedent_clients="item_clients")
    con = per_item.select(con_item="item", consequent_clients="item_clients")
    t = (
        pairs.join(ant, pairs.antecedent == ant.ant_item)
        .join(con, pairs.consequent == con.con_item)
        .cross_join(total)
    )
    n = t.n_clients.cast("float64")
    confidence = t.pair_clients.cast("float64") / t.antecedent_clients
    return t.select(
        "antecedent",
        "consequent",
        pair_clients=t.pair_clients.cast("int64"),
        antecedent_clients=t.antecedent_clients.cast("int64"),
        consequent_clients=t.consequent_clients.cast("int64"),
        support=t.pair_clients.cast("float64") / n,
        confidence=confidence,
        lift=confidence / (t.consequent_clients.cast("float64") / n),
    )


def _top_k(scored: ir.Table, basket: ir.Table, k: int) -> ir.Table:
    """Items not in the client's basket, ranked by score (ties: item) — the top k."""
    owned = basket.select(own_acc="account_id", own_item="item")
    fresh = scored.anti_join(
        owned, (scored.account_id == owned.own_acc) & (scored.item == owned.own_item)
    )
    w = ibis.window(group_by="account_id", order_by=[ibis.desc("score"), "item"])
    ranked = fresh.mutate(rank=(ibis.row_number().over(w) + 1).cast("int64"))
    return ranked.filter(_.rank <= k)


def recommend(basket: ir.Table, rules: ir.Table, *, k: int = 5) -> ir.Table:
    """Top-k items per client by the sum of confidences from its basket.

    Returns
    -------
    ir.Table
        account_id, item, rank (1 = best), score, because (the basket item with the
        highest confidence towards the item), confidence and lift of that pair.
    """
    held = basket.select("account_id", antecedent="item")
    links = held.join(
        rules.select("antecedent", "consequent", "confidence", "lift"), "antecedent"
    )
    scored = links.group_by("account_id", item=_.consequent).agg(
        score=_.confidence.sum()
    )
    top = _top_k(scored, basket, k)
    # the strongest reason, looked up for the top k only (deterministic on ties)
    keys = top.select(t_acc="account_id", t_item="item")
    why = links.join(
        keys, (links.account_id == keys.t_acc) & (links.consequent == keys.t_item)
    )
    w = ibis.window(
        group_by=["account_id", "consequent"],
        order_by=[ibis.desc("confidence"), "antecedent"],
    )
    best = (
        why.mutate(r=ibis.row_number().over(w))
        .filter(_.r == 0)
        .select(
            b_acc="account_id",
            b_item="consequent",
            because="antecedent",
            confidence="confidence",
            lift="lift",
        )
    )
    out = top.join(best, (top.account_id == best.b_acc) & (top.item == best.b_item))
    return out.select(
        "account_id", "item", "rank", "score", "because", "confidence", "lift"
    )


def recommend_popular(basket: ir.Table, *, k: int = 5) -> ir.Table:
    """Baseline: the items bought by most clients that the client does not have.

    Returns
    -------
    ir.Table
        account_id, item, rank, score (share of clients who bought the item).
    """
    total = basket.aggregate(n_clients=_.account_id.nunique())
    items = (
        basket.group_by("item")
        .agg(item_clients=_.count())
        .cross_join(total)
        .select("item", score=_.item_clients.cast("float64") / _.n_clients)
    )
    clients = basket.select("account_id").distinct()
    return _top_k(clients.cross_join(items), basket, k).select(
        "account_id", "item", "rank", "score"
    )


def _hits(recs: ir.Table, new: ir.Table, ks: tuple[int, ...], model: str) -> ir.Table:
    """hit_rate@k and recall@k of `recs` against each client's new items."""
    per_client = new.group_by("account_id").agg(new_items=_.count())
    hn = new.select(h_acc="account_id", h_item="item")
    hit = recs.join(hn, (recs.account_id == hn.h_acc) & (recs.item == hn.h_item))
    per_hit = hit.group_by(hit_acc="account_id").agg(
        **{f"hits_{k}": (_.rank <= k).cast("int64").sum() for k in ks}
    )
    t = per_client.left_join(per_hit, per_client.account_id == per_hit.hit_acc)
    parts = []
    for k in ks:
        hits = t[f"hits_{k}"].fill_null(0).cast("float64")
        parts.append(
            t.aggregate(
                clients=_.count().cast("int64"),
                hit_rate=(hits > 0).cast("float64").mean(),
                recall=(hits / t.new_items.cast("float64")).mean(),
            ).mutate(model=ibis.literal(model), k=ibis.literal(k, type="int64"))
        )
    return ibis.union(*parts)


def backtest(
    orders: ir.Table,
    *,
    as_of: dt.date,
    test_days: int = 90,
    ks: tuple[int, ...] = (1, 3, 5, 10),
) -> ir.Table:
    """Item-to-item recommendations vs the popularity baseline on a time split.

    Returns
    -------
    ir.Table
        model (``item_to_item`` or ``popularity``), k, clients (evaluated), hit_rate,
        recall — one row per model and k (see the module docstring).
    """
    cut = as_of - dt.timedelta(days=test_days)
    train = baskets(orders, as_of=cut)
    later = baskets(orders, as_of=as_of, after=cut).select("account_id", "item")
    known = train.select(k_acc="account_id", k_item="item")
    new = later.anti_join(
        known, (later.account_id == known.k_acc) & (later.item == known.k_item)
    )
    seen = train.select(s_acc="account_id").distinct()
    new = new.semi_join(seen, new.account_id == seen.s_acc)
    top = max(ks)
    cf = recommend(train, item_rules(train), k=top)
    pop = recommend_popular(train, k=top)
    out = ibis.union(
        _hits(cf, new, ks, "item_to_item"), _hits(pop, new, ks, "popularity")
    )
    return out.select("model", "k", "clients", "hit_rate", "recall")


def rank_precision(
    orders: ir.Table, *, as_of: dt.date, test_days: int = 90, k: int = 5
) -> ir.Table:
    """Share of rank-r recommendations made at ``as_of - test_days`` bought by `as_of`.

    Returns
    -------
    ir.Table
        rank, recommendations, bought, precision — one row per rank 1..k.
    """
    cut = as_of - dt.timedelta(days=test_days)
    train = baskets(orders, as_of=cut)
    later = baskets(orders, as_of=as_of, after=cut).select(
        b_acc="account_id", b_item="item"
    )
    recs = recommend(train, item_rules(train), k=k)
    t = recs.left_join(
        later, (recs.account_id == later.b_acc) & (recs.item == later.b_item)
    )
    return (
        t.group_by("rank")
        .agg(
            recommendations=_.count().cast("int64"),
            bought=_.b_acc.notnull().cast("int64").sum(),
        )
        .mutate(precision=_.bought.cast("float64") / _.recommendations)
        .order_by("rank")
    )


def typical_order_amount(
    orders: ir.Table, *, as_of: dt.date, days: int = 365
) -> ir.Table:
    """Median amount of the orders of each product in the `days` up to `as_of`.

    Returns
    -------
    ir.Table
        item (product_id), orders_count, median_amount.
    """
    since = as_of - dt.timedelta(days=days)
    o = orders_until(orders, as_of=as_of).filter(
        _.amount > 0, _.product_id.notnull(), _.order_date > since
    )
    return o.group_by(item=_.product_id.cast("string")).agg(
        orders_count=_.count().cast("int64"),
        median_amount=_.amount.cast("float64").median(),
    )
