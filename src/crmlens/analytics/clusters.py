"""Client clusters: k-means on scaled RFM, product-category mix, industry and size.

Features (one row per client with a purchase in the RFM window, built in the warehouse by
:func:`client_features`): ``log1p`` of days_since_last_order, frequency and monetary;
the share of the client's net revenue in each product category; one-hot industry and
size_segment. Each column is standardised (z-score) and each block of columns (category mix, industry,
size) weighted so that it counts as much as one RFM number before k-means. With ``k="auto"``,
k in 2..8 is chosen by the largest silhouette score (on a fixed sample of at most 3,000
clients, seed 0). A cluster is described by the features whose cluster mean differs most
from the whole base, in standard deviations (its profile against the base).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ibis
from ibis import _

from crmlens.analytics.customers import orders_until, rfm_scores

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pandas as pd

RFM_FEATURES = ("days_since_last_order", "frequency", "monetary")


def client_features(
    orders: ir.Table,
    accounts: ir.Table | None,
    *,
    as_of: dt.date,
    window_days: int = 365,
) -> ir.Table:
    """Per-client features: RFM (see :func:`rfm_scores`), industry and size.

    The category mix comes from :func:`category_share` (long format) and is joined by
    :func:`feature_matrix`.

    Returns
    -------
    ir.Table
        account_id, days_since_last_order, frequency, monetary, industry, size_segment
        (null when unknown).
    """
    rfm = rfm_scores(orders, as_of=as_of, window_days=window_days).select(
        "account_id", *RFM_FEATURES
    )
    if accounts is None or "industry" not in accounts.columns:
        return rfm.mutate(
            industry=ibis.null("string"), size_segment=ibis.null("string")
        )
    acc = accounts.select(
        acc_id="account_id", industry="industry", size_segment="size_segment"
    ).distinct(on="acc_id", keep="first")
    joined = rfm.left_join(acc, rfm.account_id == acc.acc_id)
    return joined.drop("acc_id")


def category_share(
    orders: ir.Table,
    products: ir.Table,
    *,
    as_of: dt.date,
    window_days: int = 365,
) -> ir.Table:
    """Share of each client's positive revenue by product category in the window.

    Returns
    -------
    ir.Table
        account_id, category, share.
    """
    start = as_of - dt.timedelta(days=window_days)
    recent = orders_until(orders, as_of=as_of).filter(
        (_.order_date > start) & (_.amount > 0)
    )
    cat = products.select(pid="product_id", category="category")
    joined = recent.left_join(cat, recent.product_id == cat.pid)
    joined = joined.mutate(category=joined.category.fill_null("—"))
    per = joined.group_by("account_id", "category").agg(v=_.amount.sum())
    return per.mutate(share=per.v / per.v.sum().over(group_by="account_id")).drop("v")


def feature_matrix(features: pd.DataFrame, shares: pd.DataFrame | None) -> pd.DataFrame:
    """The numeric matrix (index account_id) the clustering runs on, before scaling."""
    import numpy as np
    import pandas as pd

    frame = features.set_index("account_id").sort_index()
    out = pd.DataFrame(index=frame.index)
    for col in RFM_FEATURES:
        out[col] = np.log1p(frame[col].clip(lower=0).astype(float))
    if shares is not None and len(shares):
        wide = shares.pivot_table(
            index="account_id", columns="category", values="share", fill_value=0.0
        )
        wide.columns = [f"category:{c}" for c in wide.columns]
        out = out.join(wide).fillna(0.0)
    for col in ("industry", "size_segment"):
        if frame[col].notna().any():
            dummies = pd.get_dummies(
                frame[col], prefix=col, prefix_sep=":", dtype=float
            )
            out = out.join(dummies)
    return out


@dataclass(frozen=True)
class Clustering:
    """Fitted clusters: labels per client, the k, silhouette per k, cluster profiles."""

    labels: pd.Series
    k: int
    silhouettes: dict[int, float]
    profiles: pd.DataFrame


def fit_clusters(
    matrix: pd.DataFrame, *, k: int | None = None, seed: int = 0
) -> Clustering:
    """K-means on the standardised `matrix`; k by silhouette (2..8) when not given."""
    import numpy as np
    import pandas as pd
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    std = matrix.std(ddof=0).replace(0.0, 1.0)
    zf = (matrix - matrix.mean()) / std
    z = (zf * block_weights(list(matrix.columns))).to_numpy()
    rng = np.random.default_rng(seed)
    sample = rng.choice(len(z), size=min(len(z), 3000), replace=False)
    silhouettes: dict[int, float] = {}
    candidates = [k] if k else list(range(2, min(8, len(z) - 1) + 1))
    models = {}
    for n in candidates:
        model = KMeans(n_clusters=n, n_init=4, random_state=seed).fit(z)
        models[n] = model
        if len(set(model.labels_[sample])) > 1:
            silhouettes[n] = float(silhouette_score(z[sample], model.labels_[sample]))
    best = k or max(silhouettes, key=lambda n: (silhouettes[n], -n))
    labels = pd.Series(models[best].labels_, index=matrix.index, name="cluster")
    profiles = zf.groupby(labels).mean()
    return Clustering(labels, best, silhouettes, profiles)


def block_weights(columns: list[str]) -> list[float]:
    """Weights giving each block (RFM, category mix, industry, size) equal total weight.

    A block of n one-hot or share columns gets 1/sqrt(n) per column, so that 10
    industries do not outweigh three RFM numbers; each RFM column is its own block.
    """
    blocks = [c.split(":", 1)[0] if ":" in c else c for c in columns]
    return [1.0 / blocks.count(b) ** 0.5 for b in blocks]


def describe(profile: pd.Series, *, top: int = 3) -> list[tuple[str, float]]:
    """The `top` features that set a cluster apart: (feature, mean z-score)."""
    order = profile.abs().sort_values(ascending=False, kind="stable")
    return [(str(f), float(profile[f])) for f in order.index[:top]]
