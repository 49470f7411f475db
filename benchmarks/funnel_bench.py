"""Funnel and journeys benchmark: crmlens vs straightforward pandas, and vs pm4py.

Usage: python benchmarks/funnel_bench.py [--scale 200]

The demo CSVs at `scale` are imported once into bench-out/demo-s{scale}.duckdb (cached).
Each phase runs in a fresh child process:

- **pandas funnel**: read deals, deal_stages and pipelines from the CSVs, then reach
  (skip-aware, furthest stage), conversion to next and median days in stage;
- **crmlens funnel**: the same rows from the warehouse (``stage_funnel``);
- **crmlens funnel analysis**: the registered ``funnel`` analysis as ``crmlens funnel``
  and ``crmlens insights`` run it — the stage rows plus stage drops by cohort and segment
  gaps (findings), reading the marts of the import (``stage_entries`` among them);
- **pm4py journeys** (when pm4py is installed): variants + DFG of the stage log read
  from deal_stages.csv;
- **crmlens journeys**: variants + DFG of the same log from the warehouse.

Goals (issue 4): funnel ≥ 10× faster than pandas; journeys ≥ 15× faster than pm4py at
≤ 1/3 of its peak memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import ROOT, demo_data, measure

AS_OF = dt.date(2025, 12, 14)


def warehouse(scale: float) -> Path:
    """The demo at `scale` imported into a cached DuckDB file."""
    path = ROOT / "bench-out" / f"demo-s{scale:g}.duckdb"
    if not path.exists():
        import crmlens

        print(f"importing the demo into {path} …", flush=True)
        wh = crmlens.open(path)
        wh.import_files([demo_data(scale)])
        wh.close()
    return path


def pandas_funnel(data: str) -> int:
    """Straightforward pandas: reach, conversion and median days per stage."""
    import pandas as pd

    deals = pd.read_csv(f"{data}/deals.csv", usecols=["deal_id", "pipeline_id"])
    stages = pd.read_csv(f"{data}/deal_stages.csv", parse_dates=["entered_at"])
    pipes = pd.read_csv(f"{data}/pipelines.csv")
    ev = stages.merge(deals, on="deal_id").merge(pipes, on=["pipeline_id", "stage"])
    ev = ev.sort_values(["deal_id", "entered_at"])
    ev["next_at"] = ev.groupby("deal_id")["entered_at"].shift(-1)
    ev["days"] = (ev["next_at"] - ev["entered_at"]).dt.total_seconds() / 86400
    steps = pipes[~pipes["is_lost"].astype(bool)]
    furthest = (
        ev[~ev["is_lost"].astype(bool)]
        .groupby(["pipeline_id", "deal_id"])["position"]
        .max()
        .reset_index(name="furthest")
    )
    cross = steps.merge(furthest, on="pipeline_id")
    reached = (
        cross[cross["furthest"] >= cross["position"]]
        .groupby(["pipeline_id", "stage", "position"])
        .size()
        .reset_index(name="reached")
        .sort_values(["pipeline_id", "position"])
    )
    reached["conversion_to_next"] = (
        reached.groupby("pipeline_id")["reached"].shift(-1) / reached["reached"]
    )
    first = ev.drop_duplicates(["deal_id", "stage"])
    med = first.groupby(["pipeline_id", "stage"])["days"].median().reset_index()
    return len(reached.merge(med, on=["pipeline_id", "stage"], how="left"))


def crmlens_funnel(path: str) -> int:
    """crmlens: ``stage_funnel`` from the warehouse."""
    import crmlens
    from crmlens.analytics.funnel import stage_funnel
    from crmlens.insights.rules.funnel import inputs_of

    wh = crmlens.open(path)
    return stage_funnel(inputs_of(wh), as_of=AS_OF).to_pyarrow().num_rows


def crmlens_funnel_analysis(path: str) -> tuple[int, int, bool]:
    """crmlens: the registered ``funnel`` analysis (rows, drops, gaps) from the warehouse.

    Returns the rows, the findings and whether the ``stage_entries`` mart was there (a
    warehouse imported before it existed computes the entries).
    """
    import crmlens
    from crmlens.insights.registry import run

    wh = crmlens.open(path)
    result = run("funnel", wh, as_of=AS_OF)
    return (
        result.rows.num_rows,
        len(result.findings),
        wh.mart("stage_entries", AS_OF) is not None,
    )


def pm4py_journeys(data: str) -> tuple[int, int]:
    """pm4py: variants + DFG of the stage log (deal_stages.csv)."""
    import pandas as pd
    import pm4py

    df = pd.read_csv(f"{data}/deal_stages.csv", parse_dates=["entered_at"])
    df = pm4py.format_dataframe(
        df, case_id="deal_id", activity_key="stage", timestamp_key="entered_at"
    )
    variants = pm4py.get_variants(df)
    dfg, _s, _e = pm4py.discover_dfg(df)
    return len(variants), len(dfg)


def crmlens_journeys(path: str) -> tuple[int, int]:
    """crmlens: variants + DFG of the same stage log from the warehouse."""
    import crmlens
    from crmlens.analytics.journeys import deal_event_log, directly_follows, variants

    wh = crmlens.open(path)
    log = deal_event_log(
        wh.deals,
        wh.deal_stages,
        wh.pipelines,
        wh.activities,
        as_of=AS_OF,
        events="stages",
    )
    # the marts the import derived (crmlens.warehouse.marts), as `crmlens journeys` uses them
    cases, steps = wh.mart("stage_cases", AS_OF), wh.mart("stage_transitions", AS_OF)
    v = variants(log, cases=cases).to_pyarrow().num_rows
    d = directly_follows(log, steps=steps).to_pyarrow().num_rows
    return v, d


def _line(name: str, s: float, mb: float, result: object) -> None:
    print(f"{name:23s}: {s:8.2f} s  peak {mb:8.0f} MiB  result {result}")


def main() -> None:
    """Run the phases and print times, ratios and peak memory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=200.0)
    args = parser.parse_args()
    data, db = demo_data(args.scale), warehouse(args.scale)
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"data: {data}  warehouse: {db}  load average {load} ({os.cpu_count()} cores)"
    )
    ps, pmb, pr = measure(pandas_funnel, str(data))
    cs, cmb, cr = measure(crmlens_funnel, str(db))
    _line("pandas funnel", ps, pmb, pr)
    _line("crmlens funnel", cs, cmb, cr)
    verdict = "meets" if ps / cs >= 10 else "MISSES"
    print(
        f"funnel speed-up        : {ps / cs:8.2f}×  ({verdict} the goal of ≥ 10×); "
        f"memory {cmb / pmb:.2f}× of pandas"
    )
    fs, fmb, (rows, found, mart) = measure(crmlens_funnel_analysis, str(db))
    _line("crmlens funnel analysis", fs, fmb, f"{rows} rows, {found} findings")
    print(
        f"  (drops, findings)      : {fs / cs:8.2f}× the time of the funnel rows, "
        f"{fs / ps:.2f}× of pandas funnel; stage_entries mart "
        f"{'read' if mart else 'MISSING: entries computed (import again to build it)'}"
    )
    js, jmb, jr = measure(crmlens_journeys, str(db))
    _line("crmlens journeys", js, jmb, jr)
    if importlib.util.find_spec("pm4py") is None:
        print(
            "pm4py is not installed: journeys comparison skipped "
            "(pip install pm4py to run it; AGPL, benchmark only)"
        )
        return
    qs, qmb, qr = measure(pm4py_journeys, str(data))
    _line("pm4py journeys", qs, qmb, qr)
    ok = qs / js >= 15 and jmb <= qmb / 3
    print(
        f"journeys speed-up      : {qs / js:8.2f}×, memory {jmb / qmb:.2f}× of pm4py  "
        f"({'meets' if ok else 'MISSES'} the goal of ≥ 15× at ≤ 1/3 memory)"
    )


if __name__ == "__main__":
    main()
