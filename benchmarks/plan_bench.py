"""Benchmark of ``crmlens plan`` and ``forecast --level client`` on the demo at a scale.

Goals of issue 9 at scale 200: plan ≤ 5 s, client forecast ≤ 120 s. The baseline of the
same run is ``crmlens tables`` (a scan of every table), so the ratio shows what the plan
costs beyond reading the warehouse.

Usage: python benchmarks/plan_bench.py [--scale 200]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import ROOT, demo_data, measure

GOALS = {"plan": 5.0, "forecast_client": 120.0}


def warehouse(scale: float) -> Path:
    """The demo at `scale` imported once into bench-out/demo-s{scale}.duckdb."""
    path = ROOT / "bench-out" / f"demo-s{scale:g}.duckdb"
    if not path.exists():
        import crmlens

        data = demo_data(scale)
        wh = crmlens.open(path)
        wh.import_files([data])
        wh.close()
    return path


def baseline(path: str) -> int:
    """Scan every table (``crmlens tables``)."""
    import crmlens
    from crmlens.insights.builtin import tables

    return tables(crmlens.open(path)).rows.num_rows


def plan(path: str) -> int:
    """``crmlens plan --scope region`` at the demo's as_of."""
    import crmlens
    from crmlens.insights.rules import plan as plan_rules

    return plan_rules.run(crmlens.open(path), scope="region").rows.num_rows


def forecast_client(path: str) -> int:
    """``crmlens forecast --level client --horizon 3``."""
    import crmlens
    from crmlens.insights.rules import forecast as fc_rules

    return fc_rules.run(crmlens.open(path), level="client", horizon=3).rows.num_rows


def main() -> None:
    """Run the phases and print times, ratios to the baseline and peak memory."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=200.0)
    args = parser.parse_args()
    path = str(warehouse(args.scale))
    load = os.getloadavg()[0]
    base_s, base_mb, _ = measure(baseline, path)
    print(
        f"scale {args.scale:g}  baseline tables: {base_s:.2f} s, {base_mb:.0f} MiB  "
        f"(load average {load:.1f} on {os.cpu_count()} cores)"
    )
    for name, fn in (("plan", plan), ("forecast_client", forecast_client)):
        sec, mb, rows = measure(fn, path)
        goal = GOALS[name]
        verdict = "ok" if sec <= goal else "SLOW"
        print(
            f"{name:16s} {sec:7.2f} s  x{sec / base_s:5.1f} of baseline  "
            f"{mb:6.0f} MiB  rows {rows}  goal {goal:g} s at scale 200: {verdict}"
        )


if __name__ == "__main__":
    main()
