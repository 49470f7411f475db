"""Benchmark of ``crmlens plan`` and ``forecast --level client`` on the demo at a scale.

Goals of issue 9 at scale 200: plan ≤ 5 s, client forecast ≤ 120 s. The baseline of the
same run is ``crmlens tables`` (a scan of every table), so the ratio shows what the plan
costs beyond reading the warehouse.

Each phase also reports its CPU time (all threads of its process): with other work on
the machine, wall time grows with the load while CPU time stays near the work done.

Usage: python benchmarks/plan_bench.py [--scale 200] [--warehouse COPY.duckdb]
(``--warehouse`` reads a copy, e.g. when another process holds the file's lock).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
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


def _cpu(fn: Callable[[str], int]) -> Callable[[str], tuple[int, float]]:
    """`fn` returning its rows and the CPU seconds of its process while it ran."""

    def timed(path: str) -> tuple[int, float]:
        start = time.process_time()
        rows = fn(path)
        return rows, time.process_time() - start

    timed.__name__ = fn.__name__
    return timed


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
    parser.add_argument("--warehouse", help="a copy of the demo warehouse to read")
    args = parser.parse_args()
    path = args.warehouse or str(warehouse(args.scale))
    load = os.getloadavg()[0]
    base_s, base_mb, (_, base_cpu) = measure(_phase, "baseline", path)
    print(
        f"scale {args.scale:g}  baseline tables: {base_s:.2f} s (cpu {base_cpu:.2f} s), "
        f"{base_mb:.0f} MiB  (load average {load:.1f} on {os.cpu_count()} cores)"
    )
    for name in ("plan", "forecast_client"):
        sec, mb, (rows, cpu) = measure(_phase, name, path)
        goal = GOALS[name]
        verdict = "ok" if sec <= goal else "SLOW"
        print(
            f"{name:16s} {sec:7.2f} s  cpu {cpu:6.2f} s  x{sec / base_s:5.1f} of "
            f"baseline  {mb:6.0f} MiB  rows {rows}  goal {goal:g} s at scale 200: "
            f"{verdict}  (load {os.getloadavg()[0]:.1f})"
        )


def _phase(name: str, path: str) -> tuple[int, float]:
    """Phase `name` on `path`: its rows and the CPU seconds it took."""
    fn = {"baseline": baseline, "plan": plan, "forecast_client": forecast_client}[name]
    return _cpu(fn)(path)


if __name__ == "__main__":
    main()
