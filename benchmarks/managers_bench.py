"""Managers KPI benchmark: `managers kpis` (Ibis on DuckDB) vs straightforward pandas.

Usage: python benchmarks/managers_bench.py [--scale 200]

Both phases run in fresh child processes. The warehouse is imported once and cached as
bench-out/demo-s{scale}.duckdb. The pandas baseline reads the same demo CSVs and computes
the same per-manager KPIs over the whole history (deals created, won, lost, win rate,
revenue, average check, median cycle days, calls, meetings, visits, emails, client
minutes, overdue tasks, median first response hours) the way an analyst would write it.
Goal: crmlens ≥ 8× faster, peak memory ≤ ½ of pandas.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import demo_data, measure

AS_OF = "2025-12-15"


def warehouse(scale: float) -> Path:
    """The demo imported into a cached DuckDB file."""
    import crmlens

    target = Path("bench-out") / f"managers-demo-s{scale:g}.duckdb"
    if not target.exists():
        data = demo_data(scale)
        target.parent.mkdir(exist_ok=True)
        crmlens.open(target).import_files([data])
    return target


def ours(path: str) -> int:
    """crmlens: the Ibis KPI expression, executed to Arrow."""
    import crmlens
    from crmlens.analytics.managers import manager_kpis

    wh = crmlens.open(path)
    rows = manager_kpis(
        wh.deals,
        wh.activities,
        wh.leads,
        wh.managers,
        wh.targets,
        as_of=dt.date.fromisoformat(AS_OF),
        period="all",
    ).to_pyarrow()
    return rows.num_rows


def pandas_kpis(data: str) -> int:
    """Baseline: read the CSVs with pandas and aggregate per manager."""
    import pandas as pd

    d = Path(data)
    deals = pd.read_csv(d / "deals.csv", parse_dates=["created_at", "closed_at"])
    acts = pd.read_csv(
        d / "activities.csv", parse_dates=["created_at", "due_at", "done_at"]
    )
    leads = pd.read_csv(
        d / "leads.csv", parse_dates=["created_at", "first_response_at"]
    )
    end = pd.Timestamp(AS_OF) + pd.Timedelta(days=1)
    closed = deals[deals.status.isin(["won", "lost"]) & (deals.closed_at < end)].copy()
    closed["won"] = (closed.status == "won").astype(int)
    closed["cycle"] = (closed.closed_at - closed.created_at).dt.total_seconds() / 86400
    won = closed[closed.won == 1]
    k = pd.DataFrame(
        {
            "deals_created": deals[deals.created_at < end].groupby("owner_id").size(),
            "deals_won": closed.groupby("owner_id").won.sum(),
            "deals_lost": closed.groupby("owner_id").won.apply(lambda s: (1 - s).sum()),
            "revenue": won.groupby("owner_id").amount.sum(),
            "average_check": won.groupby("owner_id").amount.mean(),
            "median_cycle_days": won.groupby("owner_id").cycle.median(),
        }
    )
    k["win_rate"] = k.deals_won / (k.deals_won + k.deals_lost)
    a = acts[acts.created_at < end]
    for kind in ("call", "meeting", "visit", "email"):
        k[kind + "s"] = a[a.type == kind].groupby("manager_id").size()
    client = a[a.type.isin(["call", "meeting", "visit", "email"])]
    k["client_minutes"] = client.groupby("manager_id").duration_min.sum()
    cutoff = pd.Timestamp(AS_OF)
    late = a[
        (a.type == "task")
        & (a.due_at < cutoff)
        & (a.done_at.isna() | (a.done_at >= cutoff))
    ]
    k["overdue_tasks"] = late.groupby("manager_id").size()
    la = leads[leads.created_at < end]
    first = a.assign(resp_at=a.done_at.fillna(a.created_at)).merge(
        la[["lead_id", "owner_id", "created_at"]], on="lead_id", suffixes=("", "_lead")
    )
    first = first[
        (first.manager_id == first.owner_id) & (first.resp_at >= first.created_at_lead)
    ]
    first = first.groupby("lead_id").resp_at.min()
    la = la.assign(resp=la.first_response_at.fillna(la.lead_id.map(first)))
    la["hours"] = (la.resp - la.created_at).dt.total_seconds() / 3600
    k["median_first_response_hours"] = la.groupby("owner_id").hours.median()
    return len(k)


def main() -> None:
    """Run both phases and print times, ratios and peak memory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=200.0)
    args = parser.parse_args()
    data = demo_data(args.scale)
    wh = warehouse(args.scale)
    base_s, base_mb, base_rows = measure(pandas_kpis, str(data))
    ours_s, ours_mb, ours_rows = measure(ours, str(wh))
    print(
        f"pandas (CSV)        : {base_s:8.2f} s  peak {base_mb:8.0f} MiB  {base_rows} rows"
    )
    print(
        f"crmlens kpis (Ibis) : {ours_s:8.2f} s  peak {ours_mb:8.0f} MiB  {ours_rows} rows"
    )
    print(
        f"speed-up {base_s / ours_s:5.1f}× (goal ≥ 8×)   "
        f"memory {ours_mb / base_mb:4.2f} of pandas (goal ≤ 0.5)"
    )


if __name__ == "__main__":
    main()
