"""Write pm4py's variants and directly-follows counts of BPIC 2012 (and helpdesk) once.

Usage: python benchmarks/make_pm4py_reference.py  (needs ``pip install pm4py``)

pm4py is AGPL, so it is no dependency of crmlens: this one-off script stores its output
(counts only: the number of variants, a digest of all of them
with their counts, the top 20 in full, and the DFG) in tests/analytics/reference/<log>_pm4py.json, and the tests compare
crmlens journeys with that file. Events are read from the derived CSVs of
../shared/data/process_mining_logs, timestamps converted to UTC; pm4py orders a case's
events by timestamp and, for equal timestamps, by row order of the file.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOGS = ROOT.parent / "shared" / "data" / "process_mining_logs" / "derived"
OUT = ROOT / "tests" / "analytics" / "reference"


TOP = 20


def variants_digest(variants: list[list[object]]) -> str:
    """sha256 of the variants sorted by count (desc) then sequence, as compact JSON."""
    text = json.dumps(variants, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def reference(csv_path: Path) -> dict[str, object]:
    """Variants, DFG, start and end activities of one log as computed by pm4py."""
    import pandas as pd
    import pm4py

    df = pd.read_csv(csv_path, dtype={"case:concept:name": str})
    df["time:timestamp"] = pd.to_datetime(
        df["time:timestamp"], utc=True, format="ISO8601"
    )
    df = pm4py.format_dataframe(
        df,
        case_id="case:concept:name",
        activity_key="concept:name",
        timestamp_key="time:timestamp",
    )
    variants = sorted(
        ([list(v), int(c)] for v, c in pm4py.get_variants(df).items()),
        key=lambda x: (-x[1], x[0]),
    )
    dfg, starts, ends = pm4py.discover_dfg(df)
    return {
        "pm4py_version": pm4py.__version__,
        "cases": int(df["case:concept:name"].nunique()),
        "events": len(df),
        "variant_count": len(variants),
        "variants_sha256": variants_digest(variants),
        "top_variants": variants[:TOP],
        "dfg": sorted([[a, b, int(c)] for (a, b), c in dfg.items()]),
        "start_activities": {k: int(v) for k, v in sorted(starts.items())},
        "end_activities": {k: int(v) for k, v in sorted(ends.items())},
    }


def main() -> None:
    """Write one JSON per log."""
    OUT.mkdir(parents=True, exist_ok=True)
    for name in ("bpic2012", "helpdesk"):
        data = reference(LOGS / f"{name}_events.csv.gz")
        path = OUT / f"{name}_pm4py.json"
        path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
        print(
            f"{path}: {data['cases']} cases, {data['events']} events, "
            f"{data['variant_count']} variants, {len(data['dfg'])} DFG edges"
        )


if __name__ == "__main__":
    main()
