"""Benchmark of buyer analytics (issue 6) on the demo at a scale, against baselines.

Phases, each in a fresh process (wall time, CPU time and peak RSS; imports included on
both sides):

- ``rfm`` — :func:`crmlens.analytics.customers.rfm_scores` on the DuckDB warehouse vs an
  idiomatic pandas RFM (read orders.csv with pyarrow, group by client, rank quintiles,
  the same ``rfm_score`` and named segment);
- ``cohorts`` — :func:`crmlens.analytics.customers.cohorts` vs pandas (first-purchase
  month, group by cohort and month, clients, revenue, cohort size and retention);
- ``clv_summary`` — :func:`crmlens.analytics.clv.clv_summary`, the per-client table CLV
  needs, with lifetimes' definitions (``value_basis="amount"``, times in days) vs
  lifetimes' ``summary_data_from_transaction_data`` (lifetimes 0.11.3 imports and runs
  with pandas 3).

crmlens runs each phase twice: from the client marts (``client_days``, orders per client
and day, :mod:`crmlens.analytics.client_days`, and for the CLV summary ``client_summary``,
its per-client sums; built once per import, read when ``as_of`` is on or after the end of
the data) and from the ``orders`` table (as before the
mart, or for a scoped view). Both crmlens lines are compared with the same baseline run.
A warehouse imported before the mart existed has none: ``--build-marts`` builds it into
the ``--warehouse`` copy first and prints what that costs (the time it adds to an import).

Each phase also returns a checksum of its result (row count and column sums), and the
line says whether both sides computed the same thing. The machine is shared: the wall
times move with its load, so the line gives the load average before and after and the CPU
seconds too (CPU time moves much less with load; the CPU ratio is the steadier one).

Each process pays its imports, and crmlens reads its result with Ibis' ``to_pyarrow()``
as the interfaces do (on DuckDB that also imports pandas, about 0.3 CPU seconds, for
its converters).

Goals at scale 200 (7.9M orders): >= 5x pandas, >= 10x lifetimes, peak memory <= 1/2.

Usage: python benchmarks/customers_bench.py [--scale 200] [--warehouse COPY.duckdb]
       [--build-marts] [--only rfm,cohorts,clv_summary] [--no-orders-path] [--warm]

``--warm`` adds, per phase, each side's second run in one process: libraries imported and
the data in the page cache, as in a notebook or the web app. The goals are judged on the
first (cold) lines.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import resource
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import ROOT, demo_data, measure

AS_OF = dt.date(2025, 12, 14)
Checksum = tuple[float, ...]
#: The RFM segments (crmlens.analytics.customers.SEGMENT_RULES), written out so that the
#: pandas phase does not import crmlens (and Ibis) on its clock.
SEGMENT_RULES = (
    ("champions", (5,), (4, 5)),
    ("loyal", (3, 4), (4, 5)),
    ("potential_loyalists", (4, 5), (2, 3)),
    ("new", (5,), (1,)),
    ("promising", (4,), (1,)),
    ("need_attention", (3,), (3,)),
    ("about_to_sleep", (3,), (1, 2)),
    ("cant_lose", (1, 2), (5,)),
    ("at_risk", (1, 2), (3, 4)),
    ("hibernating", (1, 2), (1, 2)),
)


def warehouse(scale: float) -> Path:
    """The demo at `scale` imported once into bench-out/demo-s{scale}.duckdb."""
    path = ROOT / "bench-out" / f"demo-s{scale:g}.duckdb"
    if not path.exists():
        import crmlens

        wh = crmlens.open(path)
        wh.import_files([demo_data(scale)])
        wh.close()
    return path


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _with_cpu(fn: Callable[..., Checksum], *args: Any) -> tuple[Checksum, float]:
    """`fn(*args)` and the CPU seconds this process spent (all threads, imports too)."""
    start = _cpu()
    out = fn(*args)
    return out, _cpu() - start


def _open(path: str, use_mart: bool) -> tuple[Any, Any]:
    """The warehouse and its client_days mart (None when not `use_mart`)."""
    import crmlens
    from crmlens.analytics.client_days import client_days_of

    wh = crmlens.open(path)
    days = client_days_of(wh.mart, AS_OF) if use_mart else None
    if use_mart and days is None:
        sys.exit(f"{path} has no client_days mart: run with --build-marts on a copy")
    return wh, days


def _arrow(expr: Any) -> Any:
    """The rows of `expr` as an Arrow table, as the interfaces read them."""
    return expr.to_pyarrow()


def crmlens_rfm(path: str, use_mart: bool) -> tuple[Checksum, float]:
    """RFM scores and segments in the warehouse."""
    return _with_cpu(_crmlens_rfm, path, use_mart)


def _crmlens_rfm(path: str, use_mart: bool) -> Checksum:
    import pyarrow as pa
    import pyarrow.compute as pc

    from crmlens.analytics.customers import rfm_scores

    wh, days = _open(path, use_mart)
    t = _arrow(rfm_scores(wh.orders, as_of=AS_OF, days=days))
    scores = [pc.sum(t[c]).as_py() for c in ("r_score", "f_score", "m_score")]
    champions = pc.sum(pc.equal(t["segment"], "champions").cast(pa.int64())).as_py()
    codes = pc.sum(pc.cast(t["rfm_score"], pa.int64())).as_py()
    return (t.num_rows, *scores, champions, codes)


def _pandas_orders(csv: str):  # type: ignore[no-untyped-def]
    import pandas as pd

    cols = ["account_id", "order_date", "amount"]
    frame = pd.read_csv(csv, usecols=cols, engine="pyarrow")
    frame["order_date"] = pd.to_datetime(frame.order_date).dt.normalize()
    return frame


def pandas_rfm(csv: str) -> tuple[Checksum, float]:
    """The same RFM in pandas (min-rank quintiles, same window, purchases, segments)."""
    return _with_cpu(_pandas_rfm, csv)


def _pandas_rfm(csv: str) -> Checksum:
    import numpy as np
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
    for col, asc, score in (("days", False, "r"), ("frequency", True, "f"),
                            ("monetary", True, "m")):  # fmt: skip
        rfm[score] = 1 + (5 * (rfm[col].rank(method="min", ascending=asc) - 1)) // n
        rfm[score] = rfm[score].astype(int)
    rfm["rfm_score"] = (rfm.r * 100 + rfm.f * 10 + rfm.m).astype(str)
    conditions = [rfm.r.isin(rs) & rfm.f.isin(fs) for _name, rs, fs in SEGMENT_RULES]
    names = [name for name, _rs, _fs in SEGMENT_RULES]
    rfm["segment"] = np.select(conditions, names, default="hibernating")
    scores = [int(rfm[c].sum()) for c in ("r", "f", "m")]
    champions = int((rfm.segment == "champions").sum())
    return (n, *scores, champions, int(rfm.rfm_score.astype(int).sum()))


def crmlens_cohorts(path: str, use_mart: bool) -> tuple[Checksum, float]:
    """Monthly first-purchase cohorts in the warehouse."""
    return _with_cpu(_crmlens_cohorts, path, use_mart)


def _crmlens_cohorts(path: str, use_mart: bool) -> Checksum:
    from crmlens.analytics.customers import cohorts

    wh, days = _open(path, use_mart)
    t = _arrow(cohorts(wh.orders, as_of=AS_OF, days=days))
    return (t.num_rows, int(t["clients"].to_numpy().sum()),
            float(t["revenue"].to_numpy().sum()),
            float(t["retention_rate"].to_numpy().sum()))  # fmt: skip


def pandas_cohorts(csv: str) -> tuple[Checksum, float]:
    """The same cohorts in pandas."""
    return _with_cpu(_pandas_cohorts, csv)


def _pandas_cohorts(csv: str) -> Checksum:
    o = _pandas_orders(csv)
    o = o[o.order_date <= str(AS_OF)]
    o["m"] = o.order_date.dt.year * 12 + o.order_date.dt.month - 1
    first = o[o.amount > 0].groupby("account_id").m.min().rename("c")
    j = o.join(first, on="account_id", how="inner")
    j = j[j.m >= j.c]
    j["k"] = j.m - j.c
    cells = j.groupby(["c", "k"]).agg(revenue=("amount", "sum"))
    cells["clients"] = j[j.amount > 0].groupby(["c", "k"]).account_id.nunique()
    cells["clients"] = cells.clients.fillna(0)
    sizes = first.value_counts().rename("cohort_size")
    cells = cells.join(sizes, on="c")
    cells["retention_rate"] = cells.clients / cells.cohort_size
    return (len(cells), int(cells.clients.sum()), float(cells.revenue.sum()),
            float(cells.retention_rate.sum()))  # fmt: skip


def crmlens_clv_summary(path: str, use_mart: bool) -> tuple[Checksum, float]:
    """frequency, recency, T, monetary_value per client, lifetimes' definitions."""
    return _with_cpu(_crmlens_clv_summary, path, use_mart)


def _crmlens_clv_summary(path: str, use_mart: bool) -> Checksum:
    from crmlens.analytics.clv import clv_summary

    wh, days = _open(path, use_mart)
    summary = clv_summary(
        wh.orders, as_of=AS_OF, value_basis="amount", time_unit_days=1, days=days
    )
    t = _arrow(summary)
    cols = ("frequency", "recency", "T", "monetary_value")
    return (t.num_rows, *(float(t[c].to_numpy().sum()) for c in cols))


def lifetimes_summary(csv: str) -> tuple[Checksum, float]:
    """lifetimes.utils.summary_data_from_transaction_data on the same orders."""
    return _with_cpu(_lifetimes_summary, csv)


def _lifetimes_summary(csv: str) -> Checksum:
    from lifetimes.utils import summary_data_from_transaction_data

    o = _pandas_orders(csv)
    out = summary_data_from_transaction_data(
        o, "account_id", "order_date", monetary_value_col="amount",
        observation_period_end=str(AS_OF),
    )  # fmt: skip
    cols = ("frequency", "recency", "T", "monetary_value")
    return (len(out), *(float(out[c].sum()) for c in cols))


#: The marts the crmlens phases read (built by --build-marts).
MARTS = ("client_keys", "client_days", "client_summary")
PAIRS = (
    ("rfm", crmlens_rfm, pandas_rfm, "pandas", 5.0),
    ("cohorts", crmlens_cohorts, pandas_cohorts, "pandas", 5.0),
    ("clv_summary", crmlens_clv_summary, lifetimes_summary, "lifetimes", 10.0),
)


#: The same phases without _with_cpu, for --warm.
INNER = {
    "rfm": (_crmlens_rfm, _pandas_rfm),
    "cohorts": (_crmlens_cohorts, _pandas_cohorts),
    "clv_summary": (_crmlens_clv_summary, _lifetimes_summary),
}


def warm(fn: Callable[..., Checksum], *args: Any) -> tuple[Checksum, float]:
    """`fn(*args)` run twice in one process; the second run's result and seconds.

    The second run finds the libraries imported and the data in the page cache: what a
    notebook, a web worker or a second analysis in the same command sees.
    """
    import time

    fn(*args)
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


def same(a: Checksum, b: Checksum) -> bool:
    """Equal row counts and column sums (floats to 1e-9 relative)."""
    return len(a) == len(b) and all(
        math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-6)
        for x, y in zip(a, b, strict=True)
    )


def build_marts(path: str) -> tuple[tuple[float, float, int], ...]:
    """(Re)build the client marts in the warehouse at `path`, as an import does.

    Returns (seconds, CPU seconds, rows) per mart, in the order built.
    """
    import time

    import duckdb
    import ibis

    from crmlens.warehouse.marts import (
        DATE_COLUMNS,
        META,
        META_DDL,
        PREFIX,
        _data_until,
        builders,
    )

    con = duckdb.connect(path)
    con.execute("PRAGMA disable_progress_bar")
    backend = ibis.duckdb.from_connection(con)
    out = []
    con.execute("BEGIN")
    con.execute(f'CREATE TABLE IF NOT EXISTS "{META}" ({META_DDL})')
    for name in MARTS:
        start, cpu = time.perf_counter(), _cpu()
        build = builders()[name]
        until = _data_until(con, getattr(build, "data_dates", DATE_COLUMNS))
        con.execute(f'DROP TABLE IF EXISTS "{PREFIX}{name}"')
        backend.create_table(PREFIX + name, build(backend.table))
        rows = con.execute(f'SELECT count(*) FROM "{PREFIX}{name}"').fetchall()[0][0]
        con.execute(f'DELETE FROM "{META}" WHERE name = ?', [name])
        con.execute(
            f'INSERT INTO "{META}" VALUES (?, ?, ?, ?)', [name, "bench", until, rows]
        )
        out.append((time.perf_counter() - start, _cpu() - cpu, int(rows)))
    con.execute("COMMIT")
    con.close()
    return tuple(out)


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def _line(
    name: str, label: str, ours: tuple[float, float, Checksum, float], theirs: Any
) -> str:
    (s1, m1, r1, c1), (s2, m2, r2, c2, goal) = ours, theirs
    speed, mem = s2 / s1, m1 / m2
    ok = "ok" if speed >= goal and mem <= 0.5 else "below goal"
    cpu_ok = "ok" if c2 / c1 >= goal and mem <= 0.5 else "below goal"
    return (
        f"{name:12s} {label:16s} {s1:7.2f} s (cpu {c1:6.2f}) {m1:6.0f} MiB | "
        f"x{speed:5.1f} faster (cpu x{c2 / c1:4.1f}), memory {mem:4.2f} "
        f"(goal x{goal:g}, <= 0.5): wall {ok}, cpu {cpu_ok} | "
        f"rows {int(r1[0])} / {int(r2[0])}, same result: {same(r1, r2)}"
    )


def main() -> None:
    """Run each pair and print times, speed-up, peak memory and the goals."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=200.0)
    parser.add_argument(
        "--warehouse",
        help="a copy of the imported demo to read (another process may hold a lock on "
        "the shared one)",
    )
    parser.add_argument(
        "--build-marts",
        action="store_true",
        help="build the client marts into the --warehouse copy first (timed)",
    )
    parser.add_argument("--only", help="comma-separated phases (default: all)")
    parser.add_argument(
        "--no-orders-path",
        action="store_true",
        help="skip crmlens' run from the orders table (the mart path only)",
    )
    parser.add_argument(
        "--warm",
        action="store_true",
        help="also time each side's second run in its process (imports done, data cached)",
    )
    args = parser.parse_args()
    path = args.warehouse or str(warehouse(args.scale))
    csv = str(demo_data(args.scale) / "orders.csv")
    only = set(args.only.split(",")) if args.only else None
    print(f"scale {args.scale:g}: {path}; load {_load()}", flush=True)
    if args.build_marts:
        if not args.warehouse or Path(path).resolve().parent == ROOT / "bench-out":
            sys.exit("--build-marts writes: give --warehouse a copy outside bench-out/")
        _s, _m, built = measure(build_marts, path)
        for mart, (secs, cpu, rows) in zip(MARTS, built, strict=True):
            print(
                f"built mart {mart:12s} {rows:9d} rows in {secs:6.2f} s "
                f"(cpu {cpu:6.2f}), load {_load()}",
                flush=True,
            )
    paths = [("crmlens (mart)", True)]
    if not args.no_orders_path:
        paths.append(("crmlens (orders)", False))
    for name, ours, theirs, label, goal in PAIRS:
        if only and name not in only:
            continue
        load = _load()
        s2, m2, (r2, c2) = measure(theirs, csv)
        print(
            f"{name:12s} {label:16s} {s2:7.2f} s (cpu {c2:6.2f}) {m2:6.0f} MiB | "
            f"load {load} -> {_load()}",
            flush=True,
        )
        for tag, use_mart in paths:
            load = _load()
            s1, m1, (r1, c1) = measure(ours, path, use_mart)
            line = _line(name, tag, (s1, m1, r1, c1), (s2, m2, r2, c2, goal))
            print(f"{line} | load {load} -> {_load()}", flush=True)
        if args.warm:
            _print_warm(name, label, path, csv, paths)


def _print_warm(
    name: str, label: str, path: str, csv: str, paths: list[tuple[str, bool]]
) -> None:
    """Second-run times of both sides (each in a fresh process, run twice)."""
    ours, theirs = INNER[name]
    _s, _m, (r2, w2) = measure(warm, theirs, csv)
    print(f"{name:12s} {label:16s} {w2:7.2f} s  second run in its process", flush=True)
    for tag, use_mart in paths:
        _s, _m, (r1, w1) = measure(warm, ours, path, use_mart)
        print(
            f"{name:12s} {tag:16s} {w1:7.2f} s  second run in its process | "
            f"x{w2 / w1:5.1f} faster | same result: {same(r1, r2)} | load {_load()}",
            flush=True,
        )


if __name__ == "__main__":
    main()
