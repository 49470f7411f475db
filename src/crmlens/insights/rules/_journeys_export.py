"""Exports of ``crmlens journeys``: the event log as CSV or XES, the graph as Graphviz dot."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr


def _iso(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="milliseconds")
    return str(value)


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    """The event log as CSV (case_id, activity, timestamp, kind), one row per event."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["case_id", "activity", "timestamp", "kind"])
        for r in rows:
            w.writerow([r["case_id"], r["activity"], _iso(r["timestamp"]), r["kind"]])


def write_xes(rows: list[dict[str, Any]], path: Path) -> None:
    """The event log as XES 1.0 (concept:name, time:timestamp, per trace)."""
    with path.open("w", encoding="utf-8") as fh:
        fh.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        fh.write('<log xes.version="1.0" xmlns="http://www.xes-standard.org/">\n')
        fh.write(
            '  <extension name="Concept" prefix="concept" '
            'uri="http://www.xes-standard.org/concept.xesext"/>\n'
        )
        fh.write(
            '  <extension name="Time" prefix="time" '
            'uri="http://www.xes-standard.org/time.xesext"/>\n'
        )
        current = None
        for r in rows:
            if r["case_id"] != current:
                if current is not None:
                    fh.write("  </trace>\n")
                current = r["case_id"]
                fh.write(
                    f'  <trace>\n    <string key="concept:name" '
                    f"value={quoteattr(str(current))}/>\n"
                )
            fh.write(
                f'    <event><string key="concept:name" '
                f"value={quoteattr(str(r['activity']))}/>"
                f'<date key="time:timestamp" value="{_iso(r["timestamp"])}"/></event>\n'
            )
        if current is not None:
            fh.write("  </trace>\n")
        fh.write("</log>\n")


def write_dot(edges: list[dict[str, Any]], path: Path) -> None:
    """The directly-follows graph as Graphviz dot (edge labels: count, median hours)."""
    lines = ["digraph journeys {", "  rankdir=LR;", "  node [shape=box];"]
    for e in edges:
        hours = e["median_hours_between"]
        label = f"{e['count']}" + (f" / {hours:.0f} h" if hours is not None else "")
        lines.append(
            f"  {quoteattr(str(e['from_activity']))} -> "
            f"{quoteattr(str(e['to_activity']))} [label={quoteattr(label)}];"
        )
    lines.append("}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
