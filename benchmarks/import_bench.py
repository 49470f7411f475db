"""Import benchmark: `crmlens import` of the demo CSVs vs bare DuckDB `read_csv`, same run.

Usage: python benchmarks/import_bench.py [--scale 200]

Both phases run in fresh child processes on the same files: the baseline loads every CSV
into a DuckDB file with ``CREATE TABLE … AS SELECT * FROM read_csv(…)`` (type detection
only); crmlens additionally types, validates, quarantines, de-duplicates and merges by key
in one transaction. Goal: crmlens ≤ 2× the baseline.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import demo_data, measure


def baseline(data: str, target: str) -> int:
    """Bare DuckDB: each CSV into a table of a new DuckDB file."""
    import duckdb

    con = duckdb.connect(target)
    rows = 0
    for path in sorted(Path(data).glob("*.csv")):
        con.execute(f"CREATE TABLE \"{path.stem}\" AS SELECT * FROM read_csv('{path}')")
        rows += con.execute(f'SELECT count(*) FROM "{path.stem}"').fetchone()[0]
    con.close()
    return rows


def crmlens_import(data: str, target: str) -> int:
    """crmlens: the whole directory in one import."""
    import crmlens

    wh = crmlens.open(target)
    report = wh.import_files([Path(data)])
    wh.close()
    return sum(t.loaded for t in report.tables if not t.derived)


def main() -> None:
    """Run both phases and print times, ratio and peak memory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=200.0)
    args = parser.parse_args()
    data = demo_data(args.scale)
    sizes = sum(p.stat().st_size for p in data.glob("*.csv")) / 2**20
    print(f"data: {data} ({sizes:,.0f} MiB of CSV)")
    with tempfile.TemporaryDirectory() as tmp:
        base_s, base_mb, base_rows = measure(baseline, str(data), f"{tmp}/base.duckdb")
        ours_s, ours_mb, ours_rows = measure(
            crmlens_import, str(data), f"{tmp}/crmlens.duckdb"
        )
    print(
        f"bare DuckDB read_csv : {base_s:8.2f} s  peak {base_mb:8.0f} MiB  {base_rows:,} rows"
    )
    print(
        f"crmlens import       : {ours_s:8.2f} s  peak {ours_mb:8.0f} MiB  {ours_rows:,} rows"
    )
    ratio = ours_s / base_s
    verdict = "meets" if ratio <= 2 else "MISSES"
    print(f"ratio crmlens / bare : {ratio:8.2f}×  ({verdict} the goal of ≤ 2×)")
    print(f"memory ratio         : {ours_mb / base_mb:8.2f}×")


if __name__ == "__main__":
    main()
