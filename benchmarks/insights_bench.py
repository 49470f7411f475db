"""Benchmark of ``crmlens insights`` (the story of the head of sales) on the demo at a scale.

The story runs the role's analyses one after another and then words their findings; the
baseline of the same run is ``crmlens tables`` (a scan of every table), so the ratio shows
what the story costs beyond reading the warehouse. The time of each analysis and of the
wording alone are printed too.

Usage: python benchmarks/insights_bench.py [--scale 200] [--role head]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import measure
from benchmarks.plan_bench import baseline, warehouse


def story(path: str, role: str) -> dict[str, Any]:
    """``crmlens insights --role ROLE`` in both languages from one run of the analyses."""
    import crmlens
    from crmlens.insights.narrative import collect, tell

    found = collect(crmlens.open(path), role=role)
    start = time.perf_counter()
    stories = [tell(found, lang=lang, top=7) for lang in ("ru", "en")]
    return {
        "seconds": found.seconds,
        "skipped": [(s.analysis, s.reason) for s in found.skipped],
        "tell": time.perf_counter() - start,
        "items": len(stories[0].items),
        "headline": stories[1].headline,
    }


def main() -> None:
    """Run the phases and print times, ratios to the baseline and peak memory."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=200.0)
    parser.add_argument("--role", default="head")
    args = parser.parse_args()
    path = str(warehouse(args.scale))
    base_s, base_mb, _ = measure(baseline, path)
    print(f"scale {args.scale:g}  baseline tables: {base_s:.2f} s, {base_mb:.0f} MiB")
    sec, mb, out = measure(story, path, args.role)
    print(
        f"insights --role {args.role}: {sec:7.2f} s  x{sec / base_s:5.1f} of baseline  "
        f"{mb:6.0f} MiB  items {out['items']}"
    )
    for name, seconds in sorted(out["seconds"].items(), key=lambda kv: -kv[1]):
        print(f"  {name:22s} {seconds:7.2f} s")
    print(f"  {'wording (ru + en)':22s} {out['tell']:7.2f} s")
    for name, reason in out["skipped"]:
        print(f"  skipped {name}: {reason}")
    print(f"  {out['headline']}")


if __name__ == "__main__":
    main()
