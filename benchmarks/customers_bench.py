"""Benchmark of buyer analytics (issue 6) on the demo at a scale, against baselines.

Phases, each in a fresh process (time and peak RSS):

- ``rfm`` — :func:`crmlens.analytics.customers.rfm_scores` on the DuckDB warehouse vs an
  idiomatic pandas RFM (read orders.csv with pyarrow, group by client, rank quintiles);
- ``cohorts`` — :func:`crmlens.analytics.customers.cohorts` vs pandas (first-purchase
  month, group by cohort and month);
- ``clv_summary`` — the per-client table CLV needs (frequency, recency, T, monetary_value
  as lifetimes defines them: repeat purchase *days*) as one Ibis expression vs lifetimes'
  ``summary_data_from_transaction_data`` (lifetimes 0.11.3 imports and runs with pandas 3).

Goals at scale 200 (10M orders): >= 5x pandas, >= 10x lifetimes, peak memory <= 1/2.

Usage: python benchmarks/customers_bench.py [--scale 200]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import ROOT, demo_data, measure

AS_OF = dt.date(2025, 12, 14)


def warehouse(scale: float) -> Path:
    """The demo at `scale` imported once into bench-out/demo-s{scale}.duckdb."""
    path = ROOT / "bench-out" / f"demo-s{scale:g}.duckdb"
    if not path.exists():
        import crmlens

        wh = crmlens.open(path)
        wh.import_files([demo_data(scale)])
        wh.close()
    return path


def crmlens_rfm(path: str) -> int:
    """RFM scores and segments in the warehouse."""
    import crmlens
    from crmlens.analytics.customers import rfm_scores

    return rfm_scores(crmlens.open(path).orders, as_of=AS_OF).to_pyarrow().num_rows


def _pandas_orders(csv: str):  # type: ignore[no-untyped-def]
    import pandas as pd

    cols = ["account_id", "order_date", "amount"]
    frame = pd.read_csv(csv, usecols=cols, engine="pyarrow")
    frame["order_date"] = pd.to_datetime(frame.order_date).dt.normalize()
    return frame


def pandas_rfm(csv: str) -> int:
    """The same RFM in pandas (min-rank quintiles, same window and purchase rules)."""
    import pandas as pd

    o = _pandas_orders(csv)
    end = pd.Timestamp(AS_OF)
    o = o[(o.order_date > end - pd.Timedelta(days=365)) & (o.order_date <= end)]
    buys = o[o.amount > 0].groupby("account_id")
    rfm = pd.DataFrame(
        {
            "days": (end - buys.order_date.max()).dt.days,
            "frequency": buys.size(),
            "monetary": o.groupby("account_id").amount.sum(),
        }
    ).dropna(subset=["frequency"])
    n = len(rfm)
    for col, asc in (("days", False), ("frequency", True), ("monetary", True)):
        rfm[col + "_score"] = (
            1 + (5 * (rfm[col].rank(method="min", ascending=asc) - 1)) // n
        )
    return len(rfm)


def crmlens_cohorts(path: str) -> int:
    """Monthly first-purchase cohorts in the warehouse."""
    import crmlens
    from crmlens.analytics.customers import cohorts

    return cohorts(crmlens.open(path).orders, as_of=AS_OF).to_pyarrow().num_rows


def pandas_cohorts(csv: str) -> int:
    """The same cohorts in pandas."""
    o = _pandas_orders(csv)
    o["m"] = o.order_date.dt.year * 12 + o.order_date.dt.month - 1
    first = o[o.amount > 0].groupby("account_id").m.min().rename("c")
    j = o.join(first, on="account_id", how="inner")
    j = j[j.m >= j.c]
    j["k"] = j.m - j.c
    cells = j.groupby(["c", "k"]).agg(revenue=("amount", "sum"))
    cells["clients"] = j[j.amount > 0].groupby(["c", "k"]).account_id.nunique()
    return len(cells)


def crmlens_clv_summary(path: str) -> int:
    """frequency, recency, T, monetary_value per client, lifetimes' definitions, in Ibis."""
    import ibis
    from ibis import _

    import crmlens

    o = crmlens.open(path).orders
    days = (
        o.mutate(day=o.order_date.cast("date"))
        .filter(_.day <= AS_OF)
        .group_by("account_id", "day")
        .agg(v=_.amount.sum())
    )
    first = days.day.min().over(group_by="account_id")
    days = days.mutate(first=first)
    per = days.group_by("account_id").agg(
        frequency=(_.count() - 1),
        first=_.first.min(),
        last=_.day.max(),
        monetary_value=_.v.mean(where=_.day > _.first),
    )
    per = per.mutate(
        recency=per["last"].delta(per["first"], unit="day"),
        T=ibis.literal(AS_OF).delta(per["first"], unit="day"),
        monetary_value=per.monetary_value.fill_null(0.0),
    )
    return per.to_pyarrow().num_rows


def lifetimes_summary(csv: str) -> int:
    """lifetimes.utils.summary_data_from_transaction_data on the same orders."""
    from lifetimes.utils import summary_data_from_transaction_data

    o = _pandas_orders(csv)
    out = summary_data_from_transaction_data(
        o, "account_id", "order_date", monetary_value_col="amount",
        observation_period_end=str(AS_OF),
    )  # fmt: skip
    return len(out)


PAIRS = (
    ("rfm", crmlens_rfm, pandas_rfm, "pandas", 5.0),
    ("cohorts", crmlens_cohorts, pandas_cohorts, "pandas", 5.0),
    ("clv_summary", crmlens_clv_summary, lifetimes_summary, "lifetimes", 10.0),
)


def main() -> None:
    """Run each pair and print times, speed-up, peak memory and the goals."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=200.0)
    args = parser.parse_args()
    path = str(warehouse(args.scale))
    csv = str(demo_data(args.scale) / "orders.csv")
    print(f"scale {args.scale:g}: {path}")
    for name, ours, theirs, label, goal in PAIRS:
        s1, m1, r1 = measure(ours, path)
        s2, m2, r2 = measure(theirs, csv)
        speed, mem = s2 / s1, m1 / m2
        ok = "ok" if speed >= goal and mem <= 0.5 else "below goal"
        print(
            f"{name:12s} crmlens {s1:7.2f} s {m1:6.0f} MiB rows {r1:>8} | {label} "
            f"{s2:7.2f} s {m2:6.0f} MiB rows {r2:>8} | x{speed:5.1f} faster, "
            f"memory {mem:4.2f} (goal x{goal:g}, <= 0.5): {ok}"
        )


if __name__ == "__main__":
    main()
